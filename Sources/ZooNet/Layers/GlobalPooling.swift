/// Global average pooling (Keras `GlobalAveragePooling2D`; PyTorch `AdaptiveAvgPool2d(1)`):
/// `[h, w, c]` → `[c]` (or `[1, 1, c]` with `keepDims`), `y[c] = Σ_{p, q} x[p, q, c] / (h·w)`;
/// backward `dx[p, q, c] = dy[c] / (h·w)`.
public final class GlobalAveragePooling2D: Layer {
    public var name: String
    public var kind: String { "global_average_pooling2d" }
    /// Output `[1, 1, c]` instead of `[c]`.
    public let keepDims: Bool
    public var variables: [Variable] { [] }
    private var positions = 0, channels = 0
    /// Column sums of runs of positions, `[batch · pieces, channels]`, when a sample is split.
    private let partials = FloatBuffer(count: 0)

    /// A global average pooling layer.
    /// - Parameters:
    ///   - keepDims: keep the spatial axes as 1 × 1.
    ///   - name: the scope name; empty: `global_average_pooling2d`, ….
    public init(keepDims: Bool = false, name: String = "") {
        self.keepDims = keepDims
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw ZooNetError.invalidArgument("\(name): expects per-sample NHWC input [h, w, c], got \(inputShape)")
        }
        positions = inputShape[0] * inputShape[1]
        channels = inputShape[2]
        return keepDims ? [1, 1, channels] : [channels]
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let pool = WorkerPool.shared
        let work = batch * positions * channels
        let parts = pool.parts(work: work, grain: WorkerPool.elementGrain)
        guard parts > batch, positions >= 2 * parts else {
            let samples = pool.parts(work: work, grain: WorkerPool.elementGrain, most: batch)
            return pool.parallel(samples, Sums(x: x, y: y, batch: batch, positions: positions, channels: channels, parts: samples))
        }
        // Fewer samples than threads (batch 1): each sample's positions in `pieces` runs, one per
        // part, their column sums added in order afterwards. Why: one thread took 106 µs for
        // EfficientNet-B0's 112×112×32 squeeze at batch 1, ONNX Runtime's two 70 (2 Zen 3 cores).
        let pieces = (parts + batch - 1) / batch
        partials.reserve(batch * pieces * channels)
        let sums = partials.pointer
        pool.parallel(batch * pieces, PartialSums(x: x, sums: sums, positions: positions, channels: channels, pieces: pieces))
        let scale = 1 / Float(positions)
        for b in 0..<batch {
            let out = y + b * channels, first = sums + b * pieces * channels
            out.update(from: first, count: channels)
            for piece in 1..<pieces {
                let more = first + piece * channels
                for c in 0..<channels { out[c] += more[c] }
            }
            for c in 0..<channels { out[c] *= scale }
        }
    }

    /// Part `part` = (sample `part / pieces`, run `part % pieces` of its positions): the run's
    /// column sums into `sums + part · channels`.
    private struct PartialSums: ParallelJob {
        let x: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>, positions: Int, channels: Int, pieces: Int
        func run(_ part: Int) {
            let sample = part / pieces
            let range = partRange(part % pieces, of: pieces, count: positions, alignment: 1)
            columnSums(x + (sample * positions + range.lowerBound) * channels, rows: range.count, width: channels,
                       into: sums + part * channels)
        }
    }

    private struct Sums: ParallelJob {
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, batch: Int, positions: Int, channels: Int, parts: Int
        func run(_ part: Int) {
            let scale = 1 / Float(positions)
            for b in partRange(part, of: parts, count: batch, alignment: 1) {
                let out = y + b * channels
                columnSums(x + b * positions * channels, rows: positions, width: channels, into: out)
                for c in 0..<channels { out[c] *= scale }
            }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        let scale = 1 / Float(positions)
        for b in 0..<batch {
            let g = dy + b * channels
            for p in 0..<positions {
                let row = dx + (b * positions + p) * channels
                for c in 0..<channels { row[c] = g[c] * scale }
            }
        }
    }
}

/// Global max pooling (Keras `GlobalMaxPooling2D`): `[h, w, c]` → `[c]` (or `[1, 1, c]`),
/// `y[c] = max_{p, q} x[p, q, c]`; backward routes `dy[c]` to the first position of the maximum.
public final class GlobalMaxPooling2D: Layer {
    public var name: String
    public var kind: String { "global_max_pooling2d" }
    /// Output `[1, 1, c]` instead of `[c]`.
    public let keepDims: Bool
    public var variables: [Variable] { [] }
    private var positions = 0, channels = 0
    private var argmax: [Int32] = []

    /// A global max pooling layer.
    /// - Parameters:
    ///   - keepDims: keep the spatial axes as 1 × 1.
    ///   - name: the scope name; empty: `global_max_pooling2d`, ….
    public init(keepDims: Bool = false, name: String = "") {
        self.keepDims = keepDims
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw ZooNetError.invalidArgument("\(name): expects per-sample NHWC input [h, w, c], got \(inputShape)")
        }
        positions = inputShape[0] * inputShape[1]
        channels = inputShape[2]
        return keepDims ? [1, 1, channels] : [channels]
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        if argmax.count < batch * channels { argmax = [Int32](repeating: 0, count: batch * channels) }
        argmax.withUnsafeMutableBufferPointer { arg in
            for b in 0..<batch {
                let out = y + b * channels, a = arg.baseAddress! + b * channels, sample = x + b * positions * channels
                out.update(from: sample, count: channels)
                a.update(repeating: 0, count: channels)
                for p in 1..<Swift.max(positions, 1) {
                    let row = sample + p * channels
                    for c in 0..<channels where row[c] > out[c] { out[c] = row[c]; a[c] = Int32(p) }
                }
            }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        dx.update(repeating: 0, count: batch * positions * channels)
        for b in 0..<batch {
            for c in 0..<channels {
                let p = Int(argmax[b * channels + c])
                dx[(b * positions + p) * channels + c] = dy[b * channels + c]
            }
        }
    }
}

/// Adaptive average pooling to a fixed output size (PyTorch `AdaptiveAvgPool2d((oh, ow))`):
/// output cell (i, j) averages rows `⌊i·h/oh⌋ ..< ⌈(i+1)·h/oh⌉` and the matching columns
/// (windows may overlap). `[h, w, c]` → `[oh, ow, c]`; backward spreads `dy / window size`.
public final class AdaptiveAveragePooling2D: Layer {
    public var name: String
    public var kind: String { "adaptive_average_pooling2d" }
    /// (oh, ow).
    public let outputSize: (height: Int, width: Int)
    public var variables: [Variable] { [] }
    private var inputHeight = 0, inputWidth = 0, channels = 0

    /// An adaptive average pooling layer.
    /// - Parameters:
    ///   - outputSize: (oh, ow), each ≥ 1.
    ///   - name: the scope name; empty: `adaptive_average_pooling2d`, ….
    public init(outputSize: (height: Int, width: Int), name: String = "") {
        self.outputSize = outputSize
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard inputShape.count == 3, outputSize.height > 0, outputSize.width > 0 else {
            throw ZooNetError.invalidArgument("\(name): expects per-sample NHWC input [h, w, c] and a positive output size, got \(inputShape)")
        }
        inputHeight = inputShape[0]; inputWidth = inputShape[1]; channels = inputShape[2]
        return [outputSize.height, outputSize.width, channels]
    }

    @inline(__always)
    private static func window(_ i: Int, output: Int, input: Int) -> Range<Int> {
        (i * input / output)..<(((i + 1) * input + output - 1) / output)
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let c = channels
        for b in 0..<batch {
            for i in 0..<outputSize.height {
                let rows = Self.window(i, output: outputSize.height, input: inputHeight)
                for j in 0..<outputSize.width {
                    let columns = Self.window(j, output: outputSize.width, input: inputWidth)
                    let out = y + ((b * outputSize.height + i) * outputSize.width + j) * c
                    out.update(repeating: 0, count: c)
                    for p in rows {
                        for q in columns {
                            let cell = x + ((b * inputHeight + p) * inputWidth + q) * c
                            for k in 0..<c { out[k] += cell[k] }
                        }
                    }
                    let scale = 1 / Float(rows.count * columns.count)
                    for k in 0..<c { out[k] *= scale }
                }
            }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        let c = channels
        dx.update(repeating: 0, count: batch * inputHeight * inputWidth * c)
        for b in 0..<batch {
            for i in 0..<outputSize.height {
                let rows = Self.window(i, output: outputSize.height, input: inputHeight)
                for j in 0..<outputSize.width {
                    let columns = Self.window(j, output: outputSize.width, input: inputWidth)
                    let g = dy + ((b * outputSize.height + i) * outputSize.width + j) * c
                    let scale = 1 / Float(rows.count * columns.count)
                    for p in rows {
                        for q in columns {
                            let cell = dx + ((b * inputHeight + p) * inputWidth + q) * c
                            for k in 0..<c { cell[k] += g[k] * scale }
                        }
                    }
                }
            }
        }
    }
}
