/// Joins its inputs along one axis (Keras `Concatenate`; DenseNet, Inception).
///
/// `axis` counts as Keras does, the batch dimension included: −1 (default) is the channel axis
/// of NHWC maps, 1 the height, …; 0 (the batch) is refused. Every other dimension must match.
/// Output size along the axis is the sum of the inputs'. Backward copies each input's slice
/// of `dy` back.
public final class Concatenate: MergeLayer {
    public var name: String
    public var kind: String { "concatenate" }
    public let axis: Int
    public var variables: [Variable] { [] }
    /// Per sample: blocks before the axis, and each input's contiguous span after it.
    private var outer = 1
    private var spans: [Int] = []
    private var total = 0

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
        var offset = 0
        for (k, x) in inputs.enumerated() {
            let span = spans[k]
            for b in 0..<blocks { (y + b * total + offset).update(from: x + b * span, count: span) }
            offset += span
        }
    }

    public func backward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>,
                         outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>, batch: Int) {
        let blocks = batch * outer
        var offset = 0
        for (k, target) in inputGradients.enumerated() {
            let span = spans[k]
            if let dx = target {
                for b in 0..<blocks { (dx + b * span).update(from: dy + b * total + offset, count: span) }
            }
            offset += span
        }
    }
}
