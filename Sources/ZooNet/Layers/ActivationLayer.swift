/// A stand-alone activation (Keras `Activation`, `ReLU`, `ELU`, `LeakyReLU`, `Softmax`, ...).
///
/// Shape-preserving; softmax acts on the last axis. See `Activation` for formulas.
public final class ActivationLayer: Layer {
    public var name: String
    public var kind: String { "activation" }
    /// The function applied element-wise (softmax: per row of the last axis).
    public let activation: Activation
    public var variables: [Variable] { [] }
    private var count = 0
    private var width = 1

    /// An activation layer.
    /// - Parameters:
    ///   - activation: the function.
    ///   - name: the scope name; empty: `activation`, `activation_1`, ….
    public init(_ activation: Activation, name: String = "") {
        self.activation = activation
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        try activation.validate()
        count = inputShape.reduce(1, *)
        width = Swift.max(inputShape.last ?? 1, 1)
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let n = batch * count
        activation.forwardParallel(y, rows: n / width, width: width, input: x)
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let dx else { return }
        let n = batch * count
        activation.backwardParallel(dy, output: output, input: input, rows: n / width, width: width, into: dx)
    }
}

/// Flattens each sample to one axis: `[d1, ..., dk]` → `[d1·…·dk]` (row-major order kept).
public final class Flatten: Layer {
    public var name: String
    public var kind: String { "flatten" }
    public var variables: [Variable] { [] }
    private var count = 0

    /// A flatten layer.
    /// - Parameter name: the scope name; empty: `flatten`, `flatten_1`, ….
    public init(name: String = "") { self.name = name }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        count = inputShape.reduce(1, *)
        return [count]
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        y.update(from: x, count: batch * count)
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        dx?.update(from: dy, count: batch * count)
    }
}
