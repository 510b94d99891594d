/// Inputs `[n] + inputShape` with their labels; validated on creation.
public struct Dataset: Sendable {
    public let inputs: Tensor
    public let labels: Labels

    public init(inputs: Tensor, labels: Labels) throws {
        let n = inputs.shape.first ?? 0
        guard labels.sampleCount == n else {
            throw ZooNetError.countMismatch(expected: n, actual: labels.sampleCount, context: "labels")
        }
        self.inputs = inputs
        self.labels = labels
    }

    public var count: Int { inputs.shape.first ?? 0 }
}

/// Metrics of one epoch (0-based `epoch`); losses include regularization penalties like Keras.
public struct EpochMetrics: Sendable, Equatable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double?
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// Learning rate at the end of the epoch.
    public var learningRate: Float
    public var seconds: Double
}

/// Reusable per-batch staging buffers for inputs and targets (allocated for the largest batch).
final class BatchStager {
    private var classBuffer: [Int32] = []
    let values = FloatBuffer(count: 0)

    /// Copies samples `indices` of `data` into `input` and the staged targets.
    func stage(_ data: Dataset, indices: ArraySlice<Int>, sampleSize: Int, targetSize: Int,
               into input: UnsafeMutablePointer<Float>) {
        data.inputs.scalars.withUnsafeBufferPointer { x in
            indices.withUnsafeBufferPointer { rows in
                let pool = WorkerPool.shared, count = rows.count
                let parts = pool.parts(work: count * sampleSize, grain: WorkerPool.elementGrain, most: count)
                pool.parallel(parts, GatherRows(source: x.baseAddress!, indices: rows.baseAddress!, destination: input,
                                                sampleSize: sampleSize, count: count, parts: parts))
            }
        }
        switch data.labels {
        case .classes(let labels):
            if classBuffer.count < indices.count { classBuffer = [Int32](repeating: 0, count: indices.count) }
            for (row, index) in indices.enumerated() { classBuffer[row] = Int32(labels[index]) }
        case .values(let tensor):
            values.reserve(indices.count * targetSize)
            tensor.scalars.withUnsafeBufferPointer { t in
                for (row, index) in indices.enumerated() {
                    (values.pointer + row * targetSize).update(from: t.baseAddress! + index * targetSize, count: targetSize)
                }
            }
        }
    }

    /// Calls `body` with pointers to the staged targets.
    func withTargets<R>(_ labels: Labels, _ body: (TargetBatch) throws -> R) rethrows -> R {
        switch labels {
        case .classes: return try classBuffer.withUnsafeBufferPointer { try body(TargetBatch(classes: $0.baseAddress)) }
        case .values: return try body(TargetBatch(values: values.pointer))
        }
    }
}

/// Copies samples `indices[0..<count]` of `source` into consecutive rows of `destination`
/// (`sampleSize` floats each), a band of rows per part.
private struct GatherRows: ParallelJob {
    let source: UnsafePointer<Float>, indices: UnsafePointer<Int>, destination: UnsafeMutablePointer<Float>
    let sampleSize: Int, count: Int, parts: Int

    func run(_ part: Int) {
        for row in partRange(part, of: parts, count: count, alignment: 1) {
            (destination + row * sampleSize).update(from: source + indices[row] * sampleSize, count: sampleSize)
        }
    }
}
