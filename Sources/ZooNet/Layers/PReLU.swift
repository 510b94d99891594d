/// Parametric ReLU with a learned slope per input element (Keras `PReLU`, no shared axes).
///
/// Variable `<name>/alpha` with the per-sample input shape (initialized to zeros like Keras).
/// y = x if x > 0 else α·x; dα = Σ_batch dy · min(x, 0); dx = dy · (1 if x > 0 else α).
public final class PReLU: Layer {
    public var name: String
    public var kind: String { "p_re_lu" }
    /// α with the per-sample input shape, `<name>/alpha`.
    public private(set) var alpha: Variable?
    public var variables: [Variable] { [alpha].compactMap { $0 } }
    let alphaInitializer: Initializer
    private var count = 0

    /// A PReLU layer.
    /// - Parameters:
    ///   - alphaInitializer: α's initializer (zeros, as Keras).
    ///   - name: the scope name; empty: `p_re_lu`, ….
    public init(alphaInitializer: Initializer = .zeros, name: String = "") {
        self.alphaInitializer = alphaInitializer
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        count = inputShape.reduce(1, *)
        guard count > 0 else { throw ZooNetError.invalidArgument("\(name): empty input shape") }
        alpha = Variable(name: "\(name)/alpha", shape: inputShape, trainable: true,
                         initialValues: alphaInitializer.values(shape: inputShape, seed: seed))
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let alpha else { return }
        let a = alpha.value.pointer
        for b in 0..<batch {
            let xr = x + b * count, yr = y + b * count
            for i in 0..<count { let v = xr[i]; yr[i] = v > 0 ? v : a[i] * v }
        }
    }

    public func backward(
        input x: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let alpha else { return }
        let a = alpha.value.pointer
        if alpha.isTrainable {
            let g = alpha.gradient.pointer
            g.update(repeating: 0, count: count)
            for b in 0..<batch {
                let xr = x + b * count, gr = dy + b * count
                for i in 0..<count { g[i] += gr[i] * Swift.min(xr[i], 0) }
            }
        }
        guard let dx else { return }
        for b in 0..<batch {
            let xr = x + b * count, gr = dy + b * count, dr = dx + b * count
            for i in 0..<count { dr[i] = xr[i] > 0 ? gr[i] : gr[i] * a[i] }
        }
    }
}
