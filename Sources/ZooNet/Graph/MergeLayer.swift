/// A layer with several inputs (Keras merge layers: `Add`, `Multiply`, `Concatenate`, …).
///
/// The same contract as `Layer`, with one pointer per input. Shapes exclude the batch
/// dimension; data is row-major and contiguous. The graph passes its own pointer arrays, so a
/// pass allocates nothing.
public protocol MergeLayer: AnyObject {
    /// Scope name; empty until the network assigns a default (`add`, `add_1`, …).
    var name: String { get set }
    /// Default name prefix (`add`, `concatenate`, …).
    var kind: String { get }
    /// Variables in Keras order; empty for the parameter-free merges.
    var variables: [Variable] { get }
    /// Checks the input shapes (per sample) and returns the output shape; throws on a mismatch.
    func build(inputShapes: [[Int]], seed: UInt64) throws -> [Int]
    /// `output = f(inputs…)` for `batch` samples.
    func forward(_ inputs: UnsafeBufferPointer<UnsafePointer<Float>>, into output: UnsafeMutablePointer<Float>,
                 batch: Int, training: Bool)
    /// Writes dLoss/dInputᵢ into each non-nil `inputGradients[i]` (overwriting it) given
    /// dLoss/dOutput (which may be overwritten). Called after `forward` with the same buffers.
    func backward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>,
                  outputGradient: UnsafeMutablePointer<Float>,
                  inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>, batch: Int)
}

/// A layer that prepares per-batch-size resources (oneDNN primitives) before it runs; the
/// network calls `prepare` before each pass with a new batch size, where errors can be thrown.
protocol BatchPreparing: AnyObject {
    func prepare(batch: Int, training: Bool) throws
}
