/// Parametric ReLU with a learned slope per input element, optionally shared along some axes
/// (Keras `PReLU(shared_axes=…)`; PyTorch `nn.PReLU(C)` on NHWC maps is `sharedAxes: [1, 2]`).
///
/// Variable `<name>/alpha` with the per-sample input shape, 1 along each shared axis (input
/// `[h, w, c]` with `sharedAxes: [1, 2]` → alpha `[1, 1, c]`; initialized to zeros like Keras).
/// y = x if x > 0 else α·x, α broadcast over the shared axes;
/// dα[j] = Σ_batch Σ_{i ↦ j} dy[i] · min(x[i], 0) (summed over the shared axes too);
/// dx = dy · (1 if x > 0 else α).
public final class PReLU: Layer {
    public var name: String
    public var kind: String { "p_re_lu" }
    /// The per-sample axes (1-based, batch excluded, as Keras' `shared_axes`) along which one α is shared.
    public let sharedAxes: [Int]
    /// α with the per-sample input shape, 1 along the shared axes, `<name>/alpha`.
    public private(set) var alpha: Variable?
    public var variables: [Variable] { [alpha].compactMap { $0 } }
    let alphaInitializer: Initializer
    private var count = 0
    /// For each element of a sample (row-major), the index of its α; nil when there are no shared axes.
    private var alphaIndex: [Int]?

    /// A PReLU layer.
    /// - Parameters:
    ///   - alphaInitializer: α's initializer (zeros, as Keras).
    ///   - sharedAxes: per-sample axes (1-based) sharing one α, e.g. `[1, 2]` for one α per
    ///     channel of `[h, w, c]` maps (PyTorch `nn.PReLU(c)`); empty: one α per element.
    ///   - name: the scope name; empty: `p_re_lu`, ….
    public init(alphaInitializer: Initializer = .zeros, sharedAxes: [Int] = [], name: String = "") {
        self.alphaInitializer = alphaInitializer
        self.sharedAxes = sharedAxes
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        count = inputShape.reduce(1, *)
        guard count > 0 else { throw ZooNetError.invalidArgument("\(name): empty input shape") }
        guard sharedAxes.allSatisfy({ $0 >= 1 && $0 <= inputShape.count }), Set(sharedAxes).count == sharedAxes.count else {
            throw ZooNetError.invalidArgument("\(name): shared axes \(sharedAxes) must be distinct axes 1…\(inputShape.count) of the input \(inputShape)")
        }
        var alphaShape = inputShape
        for axis in sharedAxes { alphaShape[axis - 1] = 1 }
        alphaIndex = sharedAxes.isEmpty ? nil : try Broadcast([alphaShape, inputShape]).elementIndices(ofInput: 0)
        alpha = Variable(name: "\(name)/alpha", shape: alphaShape, trainable: true,
                         initialValues: alphaInitializer.values(shape: alphaShape, seed: seed))
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let alpha else { return }
        let a = alpha.value.pointer
        for b in 0..<batch {
            let xr = x + b * count, yr = y + b * count
            if let alphaIndex {
                for i in 0..<count { let v = xr[i]; yr[i] = v > 0 ? v : a[alphaIndex[i]] * v }
            } else {
                for i in 0..<count { let v = xr[i]; yr[i] = v > 0 ? v : a[i] * v }
            }
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
            g.update(repeating: 0, count: alpha.count)
            for b in 0..<batch {
                let xr = x + b * count, gr = dy + b * count
                for i in 0..<count { g[alphaIndex?[i] ?? i] += gr[i] * Swift.min(xr[i], 0) }
            }
        }
        guard let dx else { return }
        for b in 0..<batch {
            let xr = x + b * count, gr = dy + b * count, dr = dx + b * count
            for i in 0..<count { dr[i] = xr[i] > 0 ? gr[i] : gr[i] * a[alphaIndex?[i] ?? i] }
        }
    }
}
