/// Fully connected layer with optional fused activation (Keras `Dense`).
///
/// Input `[..., in]`, output `[..., out]`; variables `<name>/kernel` `[in, out]` and
/// `<name>/bias` `[out]`. Forward: `Y = f(X·W + b)`: the bias is broadcast into Y and one sgemm
/// accumulates X·W onto it (beta = 1), then one activation pass. Backward with
/// `G = dL/dY ⊙ f'(Y)` (computed in the same pass as `db = Σ_rows G`): `dW = Xᵀ·G`,
/// `dX = G·Wᵀ` (skipped when no input gradient is asked for, e.g. the first layer), the
/// transposes done by BLAS flags, not copies.
public final class Dense: Layer {
    public var name: String
    public var kind: String { "dense" }
    public let outputCount: Int
    public private(set) var inputCount: Int?
    public let activation: Activation
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    let kernelConstraint: Constraint?

    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?
    public var variables: [Variable] { [kernel, bias].compactMap { $0 } }
    /// Rows per sample when applied to the last axis of a higher-rank input `[..., in]`.
    private var rowsPerSample = 1

    public init(
        inputCount: Int? = nil, outputCount: Int, activation: Activation = .linear,
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, kernelRegularizer: Regularizer? = nil,
        kernelConstraint: Constraint? = nil, name: String = ""
    ) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.kernelConstraint = kernelConstraint
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard let last = inputShape.last, last > 0, outputCount > 0 else {
            throw ZooNetError.invalidArgument("\(name): Dense needs a positive input and output size, input \(inputShape)")
        }
        if let inputCount, inputCount != last {
            throw ZooNetError.shapeMismatch(expected: [inputCount], actual: [last], context: name)
        }
        try activation.validate()
        inputCount = last
        rowsPerSample = inputShape.dropLast().reduce(1, *)
        let shape = [last, outputCount]
        let k = Variable(name: "\(name)/kernel", shape: shape, trainable: true,
                         initialValues: kernelInitializer.values(shape: shape, seed: seed))
        k.regularizer = kernelRegularizer
        k.constraint = kernelConstraint
        kernel = k
        if useBias {
            bias = Variable(name: "\(name)/bias", shape: [outputCount], trainable: true,
                            initialValues: biasInitializer.values(shape: [outputCount], seed: seed &+ 1))
        }
        return Array(inputShape.dropLast()) + [outputCount]
    }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let kernel, let inputCount else { return }
        let rows = batch * rowsPerSample
        if let bias {
            // Y = b (broadcast), then Y += X·W (beta = 1: BLAS skips its own pass zeroing C,
            // and the bias costs one write pass instead of a read-modify-write one).
            let b = bias.value.pointer
            for r in 0..<rows { (output + r * outputCount).update(from: b, count: outputCount) }
        }
        gemm(transposeA: false, transposeB: false, m: rows, n: outputCount, k: inputCount,
             a: input, lda: inputCount, b: kernel.value.pointer, ldb: outputCount,
             beta: bias == nil ? 0 : 1, c: output, ldc: outputCount)
        if activation != .linear { activation.forward(output, rows: rows, width: outputCount) }
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let kernel, let inputCount else { return }
        let rows = batch * rowsPerSample
        if let bias, bias.isTrainable {
            // G = dy ⊙ f'(Y) and db = Σ_rows G in one pass (each row is still in L1 for the sum).
            let db = bias.gradient.pointer
            db.update(repeating: 0, count: outputCount)
            for r in 0..<rows {
                let g = dy + r * outputCount
                if activation != .linear {
                    activation.backward(g, output: output + r * outputCount, rows: 1, width: outputCount)
                }
                for j in 0..<outputCount { db[j] += g[j] }
            }
        } else if activation != .linear {
            activation.backward(dy, output: output, rows: rows, width: outputCount)
        }
        if kernel.isTrainable {
            gemm(transposeA: true, transposeB: false, m: inputCount, n: outputCount, k: rows,
                 a: input, lda: inputCount, b: dy, ldb: outputCount,
                 c: kernel.gradient.pointer, ldc: outputCount)
        }
        if let dx {
            gemm(transposeA: false, transposeB: true, m: rows, n: inputCount, k: outputCount,
                 a: dy, lda: outputCount, b: kernel.value.pointer, ldb: outputCount,
                 c: dx, ldc: inputCount)
        }
    }

}
