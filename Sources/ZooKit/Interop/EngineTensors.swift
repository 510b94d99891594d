import ZooFormat
import ZooNet

// The one bridge between the engine's values (`Variable`, `VariableSnapshot`, `Tensor`) and the
// formats' named tensors (`StoredTensor`): everything that saves weights, checkpoints or
// predictions goes through here.

extension StoredTensor {
    /// A float32 tensor holding a copy of an engine variable's current values, under its name and shape.
    /// - Throws: `FormatError` only if the variable's shape and value count disagree (never for a built network).
    public init(_ variable: Variable) throws {
        try self.init(name: variable.name, shape: variable.shape, floats: variable.values)
    }

    /// A float32 tensor holding a snapshot's values.
    /// - Parameters:
    ///   - snapshot: the values, shape and name of a variable at some moment.
    ///   - name: the tensor's name (default: the snapshot's).
    public init(_ snapshot: VariableSnapshot, name: String? = nil) throws {
        try self.init(name: name ?? snapshot.name, shape: snapshot.shape, floats: snapshot.values)
    }

    /// A float32 tensor holding an engine tensor's values (a batch of inputs or outputs).
    /// - Parameters:
    ///   - name: the tensor's name in the file.
    ///   - tensor: the values, shape `[batch, …]`.
    public init(name: String, _ tensor: Tensor) throws {
        try self.init(name: name, shape: tensor.shape, floats: tensor.scalars)
    }
}

extension Tensor {
    /// The engine tensor of a stored tensor's values, converted to float32 (any numeric dtype,
    /// byte order or strides).
    /// - Throws: `FormatError` when the bytes cannot be read or the dtype is not numeric.
    public init(_ stored: StoredTensor) throws {
        try self.init(shape: stored.shape, scalars: try stored.floats())
    }
}

extension Network {
    /// Every variable of the network as a float32 tensor, in the network's order, named as
    /// the network names them (`hidden1/kernel`, Keras' names).
    /// - Parameter overrides: values to write instead of the variables' current ones (by name),
    ///   e.g. the snapshots a callback received.
    public func weightTensors(overriding overrides: [VariableSnapshot] = []) throws -> [StoredTensor] {
        let latest = Dictionary(overrides.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        return try variables.map { variable in
            if let snapshot = latest[variable.name] { return try StoredTensor(snapshot) }
            return try StoredTensor(variable)
        }
    }

    /// Writes every variable to `path`, atomically, like Keras' `model.save_weights(path)`.
    /// - Parameters:
    ///   - path: the file to write; replaced only once it is complete.
    ///   - format: the output format (default: from the extension of `path`, else safetensors).
    ///   - metadata: string pairs stored where the format allows (safetensors, plain HDF5).
    /// - Throws: `FormatError` when the file cannot be written or the format cannot hold the tensors.
    public func saveWeights(to path: String, format: OutputFormat? = nil, metadata: [String: String] = [:]) throws {
        try TensorWriter.write(try weightTensors(), to: path, format: format ?? OutputFormat(pathExtensionOf: path) ?? .safetensors, metadata: metadata)
    }
}
