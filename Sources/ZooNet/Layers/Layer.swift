/// A differentiable stage of a network with one input (a node of a `Network`, a layer of a
/// `Sequential`).
///
/// Shapes exclude the batch dimension ("per-sample shapes"). Data is row-major and contiguous:
/// a batch of `batch` samples of shape `s` is `batch · s.reduce(1, *)` floats.
///
/// Lifecycle: the network calls `build(inputShape:seed:)` once (creating the scoped variables
/// `<name>/<variable>`), then repeatedly `forward` and, when training, `backward`. Layers own
/// any scratch storage they need and size it for the largest batch they have seen, so a
/// training loop allocates nothing per step.
public protocol Layer: AnyObject {
    /// Scope name (e.g. `hidden1`). Empty until built if not given; the network then assigns
    /// a Keras-style unique default (`dense`, `dense_1`, ...).
    var name: String { get set }
    /// Default name prefix (`dense`, `batch_normalization`, ...).
    var kind: String { get }
    /// Variables in Keras order (e.g. kernel, bias). Empty before `build`.
    var variables: [Variable] { get }
    /// Creates variables and returns the per-sample output shape; throws on unsupported input.
    func build(inputShape: [Int], seed: UInt64) throws -> [Int]
    /// `output = f(input)` for `batch` samples.
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batch: Int, training: Bool)
    /// Given dLoss/dOutput (which may be overwritten), writes the gradients of trainable
    /// variables and, if `inputGradient` is non-nil, dLoss/dInput. Called after `forward` with
    /// the same buffers.
    func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        batch: Int)
}

extension Layer {
    /// Whether any variable of this layer receives gradients.
    var hasTrainableVariables: Bool { variables.contains { $0.isTrainable } }
}

/// `sum(out[j] += in[r, j])` over rows: column sums of a `[rows, width]` block.
@inline(__always)
func columnSums(_ x: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
    out.update(repeating: 0, count: width)
    for r in 0..<rows {
        let row = x + r * width
        for j in 0..<width { out[j] += row[j] }
    }
}
