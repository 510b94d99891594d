/// A named, mutable parameter or state array of a layer (e.g. `hidden1/kernel`).
///
/// Names follow TensorFlow scopes: `<layer>/<variable>`. Dense kernels are `[in, out]`,
/// convolution kernels `[kh, kw, in, out]` (HWIO), biases and BN vectors `[features]`.
/// A variable is trainable when its kind is (kernels, biases, gamma, beta, alpha) and it is
/// not frozen; moving statistics are never trainable.
public final class Variable {
    public let name: String
    public let shape: [Int]
    public let count: Int
    /// Whether gradients exist for this kind of variable (false for moving statistics).
    public let isTrainableKind: Bool
    /// Set by `Network.freeze(trainable:)`.
    public internal(set) var isFrozen = false
    /// Receives gradient descent updates.
    public var isTrainable: Bool { isTrainableKind && !isFrozen }

    /// The values; a shared layer's second call ties its variables to the first's storage.
    private(set) var value: FloatBuffer
    /// Incremented whenever the values change (assignment, optimizer step, constraint), so
    /// layers that keep a converted copy (oneDNN's blocked weight layouts, folded batch norm)
    /// know when to refresh it. Kept with the storage, so tied variables share it.
    public internal(set) var version: Int {
        get { value.version }
        set { value.version = newValue }
    }

    /// Makes this variable read and write `primary`'s values (a shared layer's variables);
    /// its gradient stays its own. - Throws: on a shape mismatch.
    func tie(to primary: Variable) throws {
        guard primary.shape == shape else {
            throw ZooNetError.shapeMismatch(expected: primary.shape, actual: shape, context: "shared \(primary.name)")
        }
        value = primary.value
    }
    /// dLoss/dValue, written (not accumulated) by the owning layer's backward pass.
    let gradient: FloatBuffer
    /// Optional penalty added to the loss.
    var regularizer: Regularizer?
    /// Optional projection applied after each optimizer step.
    var constraint: Constraint?

    init(name: String, shape: [Int], trainable: Bool, initialValues: [Float]) {
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.isTrainableKind = trainable
        self.value = FloatBuffer(initialValues)
        self.gradient = FloatBuffer(count: trainable ? count : 0)
    }

    /// A copy of the current values.
    public var values: [Float] { value.array(count: count) }

    /// Replaces the values; throws on a count mismatch.
    public func assign(_ values: [Float]) throws {
        guard values.count == count else {
            throw ZooNetError.countMismatch(expected: count, actual: values.count, context: name)
        }
        values.withUnsafeBufferPointer { value.pointer.update(from: $0.baseAddress!, count: count) }
        version &+= 1
    }

    /// An immutable snapshot.
    public var snapshot: VariableSnapshot {
        VariableSnapshot(name: name, shape: shape, trainable: isTrainable, values: values)
    }
}

/// Immutable copy of a variable: what a checkpoint or a weight loader exchanges.
public struct VariableSnapshot: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let trainable: Bool
    public let values: [Float]

    public init(name: String, shape: [Int], trainable: Bool, values: [Float]) {
        self.name = name
        self.shape = shape
        self.trainable = trainable
        self.values = values
    }
}
