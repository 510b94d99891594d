/// Fully connected layer with optional fused activation (Keras `Dense`).
///
/// Input `[..., in]`, output `[..., out]`; variables `<name>/kernel` `[in, out]` and
/// `<name>/bias` `[out]`. Forward: `Y = f(X·W + b)` (one sgemm, then bias and activation in one
/// pass). Backward with `G = dL/dY ⊙ f'(Y)`: `dW = Xᵀ·G`, `db = Σ_rows G`, `dX = G·Wᵀ`,
/// the transposes done by BLAS flags, not copies.
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
        gemm(transposeA: false, transposeB: false, m: rows, n: outputCount, k: inputCount,
             a: input, lda: inputCount, b: kernel.value.pointer, ldb: outputCount,
             c: output, ldc: outputCount)
        activation.forward(output, rows: rows, width: outputCount, bias: bias.map { UnsafePointer($0.value.pointer) })
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let kernel, let inputCount else { return }
        let rows = batch * rowsPerSample
        activation.backward(dy, output: output, rows: rows, width: outputCount)
        if kernel.isTrainable {
            gemm(transposeA: true, transposeB: false, m: inputCount, n: outputCount, k: rows,
                 a: input, lda: inputCount, b: dy, ldb: outputCount,
                 c: kernel.gradient.pointer, ldc: outputCount)
        }
        if let bias, bias.isTrainable {
            columnSums(dy, rows: rows, width: outputCount, into: bias.gradient.pointer)
        }
        if let dx {
            gemm(transposeA: false, transposeB: true, m: rows, n: inputCount, k: outputCount,
                 a: dy, lda: outputCount, b: kernel.value.pointer, ldb: outputCount,
                 c: dx, ldc: inputCount)
        }
    }

}
