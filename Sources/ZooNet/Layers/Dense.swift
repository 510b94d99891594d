import CZooKernels
import Synchronization

/// Fully connected layer with optional fused activation (Keras `Dense`).
///
/// Input `[..., in]`, output `[..., out]`; variables `<name>/kernel` `[in, out]` and
/// `<name>/bias` `[out]`. Forward: `Y = f(X·W + b)`: the bias is broadcast into Y and one sgemm
/// accumulates X·W onto it (beta = 1), then one activation pass. Backward with
/// `G = dL/dY ⊙ f'(Y)` (computed in the same pass as `db = Σ_rows G`): `dW = Xᵀ·G`,
/// `dX = G·Wᵀ` (skipped when no input gradient is asked for, e.g. the first layer), the
/// transposes done by BLAS flags, not copies. Each pass is one `WorkerPool` region: bands of
/// rows or strips of columns (the jobs at the end of this file); the forward pass on up to 4
/// rows, a classifier at batch 1, streams bands of W's rows into partial sums (`forwardSplit`).
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
    /// The forward pass's partial sums on few rows, `[parts, rows, out]` (`forwardMatVec`).
    private let partialSums = FloatBuffer(count: 0)

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
        if case .matVec(let parts) = split {
            forwardMatVec(input, into: output, kernel: kernel.value.pointer, rows: rows, inputCount: inputCount, parts: parts,
                          keep: keep)
            return
        }
        let (parts, byColumns) = split.parts
        WorkerPool.shared.parallel(parts, ForwardParts(
            input: input, output: output, kernel: kernel.value.pointer, bias: bias?.value.pointer,
            preActivation: keep ? preActivation.pointer : nil, rows: rows,
            inputCount: inputCount, width: outputCount, activation: activation, parts: parts, byColumns: byColumns))
        if byColumns && activation.isRowWise { activation.forward(output, rows: rows, width: outputCount) }
    }

    /// How a forward pass is cut between the threads.
    enum ForwardSplit: Equatable {
        /// Bands of X's rows (and Y's), one sgemm each.
        case bands(Int)
        /// Strips of W's columns (and Y's), one sgemm each, for few rows.
        case strips(Int)
        /// Bands of W's rows (the inputs), each streamed once into partial sums that are added up
        /// after the region (`zoo_matvec_rows`), for up to `matVecRows` rows.
        case matVec(Int)

        /// Parts, and whether they are strips of columns.
        var parts: (count: Int, byColumns: Bool) {
            switch self {
            case .bands(let n), .matVec(let n): return (n, false)
            case .strips(let n): return (n, true)
            }
        }
    }

    /// Rows up to which the forward pass streams W once (`ForwardSplit.matVec`): there the
    /// product is bound by reading W, which at batch 1 comes from memory (a classifier's 5–8 MB
    /// after the convolutions). A C probe of MobileNetV2's 1280 → 1000 and ResNet-50's 2048 → 1000
    /// products on two threads with the caches flushed (AMD EPYC Zen 3, medians of 41) took
    /// 358–408 and 602–621 µs as bands of W's rows against 438–563 and 704–756 µs as sgemm strips
    /// of its columns (a strip reads 2 KB of each 4 KB row, which the hardware prefetcher follows
    /// less well); warm, both took ~80–150 µs. With more rows the sgemm's kernels win.
    static let matVecRows = 4

    /// How a forward pass over `rows` rows is cut: up to `matVecRows` rows (a classifier at
    /// batch 1), bands of W's rows, unless `ComputeBackend.denseMatVec` is off; fewer rows than
    /// make a band per thread, strips of W's columns, each thread reading its own strip; else
    /// bands of X's rows.
    func forwardSplit(rows: Int, inputCount: Int) -> ForwardSplit {
        let pool = WorkerPool.shared
        let work = 2 * rows * outputCount * inputCount
        if rows <= Dense.matVecRows, ComputeBackend.denseMatVec {
            return .matVec(pool.parts(work: work, grain: minimumFLOPPerPart, most: Swift.max(1, inputCount / 64)))
        }
        let bands = pool.parts(work: work, grain: minimumFLOPPerPart, most: (rows + 15) / 16)
        let strips = pool.parts(work: work, grain: minimumFLOPPerPart, most: (outputCount + 15) / 16)
        return strips > bands ? .strips(strips) : .bands(bands)
    }

    /// Y = f(X·W + b) as bands of W's rows: part p writes X[:, band p]·W[band p, :] into its own
    /// `[rows, out]` partial sums; then, after the region, Y = b + Σ_p partial_p, the
    /// pre-activation kept if needed, and the activation.
    private func forwardMatVec(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                               kernel: UnsafePointer<Float>, rows: Int, inputCount: Int, parts: Int, keep: Bool) {
        let block = rows * outputCount
        partialSums.reserve(parts * block)
        WorkerPool.shared.parallel(parts, MatVecParts(input: input, kernel: kernel, partials: partialSums.pointer, rows: rows,
                                                      inputCount: inputCount, width: outputCount, parts: parts))
        if let bias {
            for r in 0..<rows { (output + r * outputCount).update(from: bias.value.pointer, count: outputCount) }
        } else {
            output.update(repeating: 0, count: block)
        }
        for p in 0..<parts { zoo_add_row(output, partialSums.pointer + p * block, block) }
        if keep { preActivation.pointer.update(from: output, count: block) }
        if activation != .linear { activation.forward(output, rows: rows, width: outputCount) }
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

    /// Part p of a forward pass on few rows: X[:, band p]·W[band p, :] into partial sums p
    /// (`zoo_matvec_rows`), the bands of W's rows aligned to 16.
    struct MatVecParts: ParallelJob {
        let input: UnsafePointer<Float>, kernel: UnsafePointer<Float>
        let partials: UnsafeMutablePointer<Float>
        let rows: Int, inputCount: Int, width: Int, parts: Int

        func run(_ part: Int) {
            let band = partRange(part, of: parts, count: inputCount)
            zoo_matvec_rows(input + band.lowerBound, inputCount, rows, kernel + band.lowerBound * width, width, band.count, width,
                            partials + part * rows * width)
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

extension ComputeBackend {
    /// Whether `Dense` streams W once on up to 4 rows (`Dense.matVecRows`). Default on;
    /// `ZOONET_DENSE_MATVEC=0` starts with sgemm strips of W's columns instead (to compare).
    public static var denseMatVec: Bool {
        get { denseMatVecSwitch.load(ordering: .relaxed) }
        set { denseMatVecSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let denseMatVecSwitch = ComputeBackend.switchFromEnvironment("ZOONET_DENSE_MATVEC")
