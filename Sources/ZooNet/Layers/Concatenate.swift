/// Joins its inputs along one axis (Keras `Concatenate`; DenseNet, Inception).
///
/// `axis` counts as Keras does, the batch dimension included: −1 (default) is the channel axis
/// of NHWC maps, 1 the height, …; 0 (the batch) is refused. Every other dimension must match.
/// Output size along the axis is the sum of the inputs'. Backward copies each input's slice
/// of `dy` back.
public final class Concatenate: MergeLayer {
    public var name: String
    public var kind: String { "concatenate" }
    /// The axis, counted with the batch dimension (−1: channels).
    public let axis: Int
    public var variables: [Variable] { [] }
    /// Per sample: blocks before the axis, and each input's contiguous span after it.
    private var outer = 1
    private var spans: [Int] = []
    private var total = 0

    /// A concatenation.
    /// - Parameters:
    ///   - axis: the axis, Keras' count (batch included), not 0.
    ///   - name: the scope name; empty: `concatenate`, ….
    public init(axis: Int = -1, name: String = "") {
        self.axis = axis
        self.name = name
    }

    public func build(inputShapes: [[Int]], seed: UInt64) throws -> [Int] {
        guard inputShapes.count >= 1, let rank = inputShapes.first?.count, inputShapes.allSatisfy({ $0.count == rank }) else {
            throw ZooNetError.invalidArgument("concatenate needs inputs of one rank, got \(inputShapes)")
        }
        let d = axis < 0 ? rank + axis : axis - 1  // per-sample axis
        guard d >= 0, d < rank else {
            throw ZooNetError.invalidArgument("concatenate axis \(axis) is out of range for inputs of rank \(rank + 1) (batch included)")
        }
        for shape in inputShapes.dropFirst() {
            for i in 0..<rank where i != d && shape[i] != inputShapes[0][i] {
                throw ZooNetError.invalidArgument(
                    "concatenate on axis \(axis): shapes \(inputShapes.map { [-1] + $0 }) differ on axis \(i + 1)")
            }
        }
        var output = inputShapes[0]
        output[d] = inputShapes.reduce(0) { $0 + $1[d] }
        outer = inputShapes[0][..<d].reduce(1, *)
        spans = inputShapes.map { $0[d...].reduce(1, *) }
        total = spans.reduce(0, +)
        return output
    }

    public func forward(_ inputs: UnsafeBufferPointer<UnsafePointer<Float>>, into y: UnsafeMutablePointer<Float>,
                        batch: Int, training: Bool) {
        let blocks = batch * outer
        let pool = WorkerPool.shared
        let parts = pool.parts(work: blocks * total, grain: WorkerPool.elementGrain, most: blocks)
        pool.parallel(parts, Gather(inputs: inputs, y: y, spans: spans, total: total, blocks: blocks, parts: parts))
    }

    public func backward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>,
                         outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>, batch: Int) {
        let blocks = batch * outer
        let pool = WorkerPool.shared
        let parts = pool.parts(work: blocks * total, grain: WorkerPool.elementGrain, most: blocks)
        pool.parallel(parts, Scatter(dy: dy, inputGradients: inputGradients, spans: spans, total: total, blocks: blocks,
                                     parts: parts))
    }

    /// Forward, blocks `partRange(part)`: each block of `total` output floats is the inputs'
    /// blocks one after the other (every input read and the output written once, in order).
    /// Why in parts: SqueezeNet's 55×55×128 concatenation took 370 µs on one thread, ONNX
    /// Runtime's 120–140 (step profiles, 2 Zen 3 cores).
    private struct Gather: ParallelJob {
        let inputs: UnsafeBufferPointer<UnsafePointer<Float>>
        let y: UnsafeMutablePointer<Float>
        let spans: [Int]
        let total: Int, blocks: Int, parts: Int

        func run(_ part: Int) {
            for b in partRange(part, of: parts, count: blocks, alignment: 1) {
                var out = y + b * total
                for (k, x) in inputs.enumerated() {
                    let span = spans[k]
                    out.update(from: x + b * span, count: span)
                    out += span
                }
            }
        }
    }

    /// Backward, blocks `partRange(part)`: each input's slice of `dy` copied to its gradient
    /// (inputs without one skipped).
    private struct Scatter: ParallelJob {
        let dy: UnsafeMutablePointer<Float>
        let inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>
        let spans: [Int]
        let total: Int, blocks: Int, parts: Int

        func run(_ part: Int) {
            for b in partRange(part, of: parts, count: blocks, alignment: 1) {
                var offset = b * total
                for (k, target) in inputGradients.enumerated() {
                    let span = spans[k]
                    if let dx = target { (dx + b * span).update(from: dy + offset, count: span) }
                    offset += span
                }
            }
        }
    }
}
