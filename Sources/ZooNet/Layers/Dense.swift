import CZooKernels

/// Fully connected layer with optional fused activation (Keras `Dense`).
///
/// Input `[..., in]`, output `[..., out]`; variables `<name>/kernel` `[in, out]` and
/// `<name>/bias` `[out]`. Forward: `Y = f(X·W + b)`: the bias is broadcast into Y and one sgemm
/// accumulates X·W onto it (beta = 1), then one activation pass. Backward with
/// `G = dL/dY ⊙ f'(Y)` (computed in the same pass as `db = Σ_rows G`): `dW = Xᵀ·G`,
/// `dX = G·Wᵀ` (skipped when no input gradient is asked for, e.g. the first layer), the
/// transposes done by BLAS flags, not copies. Each pass is one `WorkerPool` region: bands of
/// rows or strips of columns (the jobs at the end of this file; the forward pass on few rows,
/// a classifier at batch 1, takes strips of W's columns: `forwardStrips`).
public final class Dense: Layer {
    public var name: String
    public var kind: String { "dense" }
    /// The number of output units.
    public let outputCount: Int
    /// The input features (known once built, or given to check the input).
    public private(set) var inputCount: Int?
    /// The activation f in Y = f(X·W + b).
    public let activation: Activation
    /// Whether the bias b exists.
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    let kernelConstraint: Constraint?

    /// W `[in, out]`, `<name>/kernel`.
    public private(set) var kernel: Variable?
    /// b `[out]`, `<name>/bias`.
    public private(set) var bias: Variable?
    public var variables: [Variable] { [kernel, bias].compactMap { $0 } }
    /// Rows per sample when applied to the last axis of a higher-rank input `[..., in]`.
    private var rowsPerSample = 1
    /// X·W + b of the last forward pass, kept when the activation's derivative needs it.
    private let preActivation = FloatBuffer(count: 0)

    /// A dense layer (Keras `Dense(units, activation, use_bias)`).
    /// - Parameters:
    ///   - inputCount: the input features, if known (checked when built).
    ///   - outputCount: the units, > 0.
    ///   - activation: f.
    ///   - useBias: add b.
    ///   - kernelInitializer: W's initializer (Glorot uniform, as Keras).
    ///   - biasInitializer: b's initializer (zeros).
    ///   - kernelRegularizer: a penalty on W added to the loss (L1, L2).
    ///   - kernelConstraint: a constraint applied to W after each update (max-norm).
    ///   - name: the scope name; empty: `dense`, `dense_1`, ….
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
        let keep = !activation.derivativeFromOutput
        if keep { preActivation.reserve(rows * outputCount) }
        let split = forwardSplit(rows: rows, inputCount: inputCount)
        WorkerPool.shared.parallel(split.parts, ForwardParts(
            input: input, output: output, kernel: kernel.value.pointer, bias: bias?.value.pointer,
            preActivation: keep ? preActivation.pointer : nil, rows: rows,
            inputCount: inputCount, width: outputCount, activation: activation, parts: split.parts, byColumns: split.byColumns))
        if split.byColumns && activation.isRowWise { activation.forward(output, rows: rows, width: outputCount) }
    }

    /// How a forward pass over `rows` rows is cut: bands of rows, or — with fewer rows than make
    /// a band per thread (a classifier at batch 1), where the product is a matrix-vector one
    /// bound by reading W — strips of W's columns, each thread reading its own strip.
    private func forwardSplit(rows: Int, inputCount: Int) -> (parts: Int, byColumns: Bool) {
        let pool = WorkerPool.shared
        let work = 2 * rows * outputCount * inputCount
        let bands = pool.parts(work: work, grain: minimumFLOPPerPart, most: (rows + 15) / 16)
        let strips = pool.parts(work: work, grain: minimumFLOPPerPart, most: (outputCount + 15) / 16)
        return strips > bands ? (strips, true) : (bands, false)
    }

    /// The strips of W's columns a forward pass over `rows` rows is cut into, or nil when it
    /// is cut into bands of rows (`forwardSplit`).
    func forwardStrips(rows: Int, inputCount: Int) -> Int? {
        let split = forwardSplit(rows: rows, inputCount: inputCount)
        return split.byColumns ? split.parts : nil
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let kernel, let inputCount else { return }
        let rows = batch * rowsPerSample, width = outputCount
        let pool = WorkerPool.shared
        if let bias, bias.isTrainable {
            // Strips split rows: a row-wise activation (softmax) needs whole rows, so one strip.
            let parts = pool.parts(work: rows * width, grain: WorkerPool.elementGrain,
                                   most: activation.isRowWise ? 1 : Swift.max(1, width / 32))
            pool.parallel(parts, GradientStrips(
                dy: dy, output: output, preActivation: preActivationIfKept, biasGradient: bias.gradient.pointer,
                rows: rows, width: width, activation: activation, parts: parts))
        } else if activation != .linear {
            let parts = pool.parts(work: rows * width, grain: WorkerPool.elementGrain, most: (rows + 15) / 16)
            pool.parallel(parts, GradientStrips(
                dy: dy, output: output, preActivation: preActivationIfKept, biasGradient: nil, rows: rows, width: width,
                activation: activation, parts: parts))
        }
        let flop = 2 * rows * width * inputCount
        let weightParts = kernel.isTrainable
            ? pool.parts(work: flop, grain: minimumFLOPPerPart, most: (inputCount + 15) / 16) : 0
        let inputParts = dx == nil ? 0 : pool.parts(work: flop, grain: minimumFLOPPerPart, most: (rows + 15) / 16)
        pool.parallel(weightParts + inputParts, ProductBands(
            input: input, gradient: dy, kernel: kernel.value.pointer, kernelGradient: kernel.gradient.pointer,
            inputGradient: dx, rows: rows, inputCount: inputCount, width: width,
            weightParts: weightParts, inputParts: inputParts))
    }
}

extension Dense {
    private var preActivationIfKept: UnsafePointer<Float>? {
        activation.derivativeFromOutput ? nil : UnsafePointer(preActivation.pointer)
    }

    /// Forward, one band of rows per part (`byColumns` false) or, for few rows, one strip of
    /// W's columns: fill the part with the bias (broadcast), then Y += X·W on it (beta = 1: BLAS
    /// skips its own pass zeroing C, and the bias costs one write pass instead of a
    /// read-modify-write one), keep it when the activation's derivative needs the
    /// pre-activation, then the activation while the part is in cache (in strips only an
    /// element-wise one: softmax needs whole rows and runs after the region).
    struct ForwardParts: ParallelJob {
        let input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
        let kernel: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?
        let preActivation: UnsafeMutablePointer<Float>?
        let rows: Int, inputCount: Int, width: Int
        let activation: Activation
        let parts: Int
        let byColumns: Bool

        func run(_ part: Int) {
            // The part: `lines` rows × the columns `columns`, rows `width` apart.
            let (lines, columns) = byColumns
                ? (0..<rows, partRange(part, of: parts, count: width)) : (partRange(part, of: parts, count: rows), 0..<width)
            let first = output + lines.lowerBound * width + columns.lowerBound
            if let bias {
                for r in 0..<lines.count { (first + r * width).update(from: bias + columns.lowerBound, count: columns.count) }
            }
            gemm(transposeA: false, transposeB: false, m: lines.count, n: columns.count, k: inputCount,
                 a: input + lines.lowerBound * inputCount, lda: inputCount, b: kernel + columns.lowerBound, ldb: width,
                 beta: bias == nil ? 0 : 1, c: first, ldc: width)
            // A band is one contiguous block; a strip is a piece of each row.
            let (blocks, blockRows, blockWidth) = byColumns ? (lines.count, 1, columns.count) : (1, lines.count, width)
            for b in 0..<blocks {
                let block = first + b * width
                if let preActivation {
                    (preActivation + (block - output)).update(from: block, count: blockRows * blockWidth)
                }
                if activation != .linear && !(byColumns && activation.isRowWise) {
                    activation.forward(block, rows: blockRows, width: blockWidth)
                }
            }
        }
    }

    /// G = dy ⊙ f'(Y) in place, and db = Σ_rows G in the same pass when a bias gradient is
    /// asked for. With a bias, parts own column strips (the sums need no reduction across
    /// threads); without, bands of rows.
    struct GradientStrips: ParallelJob {
        let dy: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>
        let preActivation: UnsafePointer<Float>?
        let biasGradient: UnsafeMutablePointer<Float>?
        let rows: Int, width: Int
        let activation: Activation
        let parts: Int

        func run(_ part: Int) {
            guard let biasGradient else {
                let band = partRange(part, of: parts, count: rows)
                activation.backward(dy + band.lowerBound * width, output: output + band.lowerBound * width,
                                    input: preActivation.map { $0 + band.lowerBound * width }, rows: band.count, width: width)
                return
            }
            let strip = partRange(part, of: parts, count: width)
            let sums = biasGradient + strip.lowerBound
            sums.update(repeating: 0, count: strip.count)
            for r in 0..<rows {
                let g = dy + r * width + strip.lowerBound
                if activation != .linear {
                    activation.backward(g, output: output + r * width + strip.lowerBound,
                                        input: preActivation.map { $0 + r * width + strip.lowerBound }, rows: 1, width: strip.count)
                }
                zoo_add_row(sums, g, strip.count)
            }
        }
    }

    /// Both products of backward in one region: parts `0..<weightParts` compute bands of
    /// dW = Xᵀ·G (rows of dW; each packs all of G, which is small), the next `inputParts`
    /// bands of dX = G·Wᵀ (rows of the batch). The transposes are BLAS flags, not copies.
    struct ProductBands: ParallelJob {
        let input: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>
        let kernel: UnsafeMutablePointer<Float>, kernelGradient: UnsafeMutablePointer<Float>
        let inputGradient: UnsafeMutablePointer<Float>?
        let rows: Int, inputCount: Int, width: Int
        let weightParts: Int, inputParts: Int

        func run(_ part: Int) {
            if part < weightParts {
                gemmRows(partRange(part, of: weightParts, count: inputCount), transposeA: true, transposeB: false,
                         n: width, k: rows, a: input, lda: inputCount, b: gradient, ldb: width,
                         c: kernelGradient, ldc: width)
            } else if let inputGradient {
                gemmRows(partRange(part - weightParts, of: inputParts, count: rows), transposeA: false,
                         transposeB: true, n: inputCount, k: width, a: gradient, lda: width, b: kernel, ldb: width,
                         c: inputGradient, ldc: inputCount)
            }
        }
    }
}
