/// What `zoo convert` does, for Swift callers: select, rename and cast the
/// tensors of an archive, then write them in another format.
public struct ConvertOptions: Sendable {
    /// Rules applied in order to every name.
    public var renames: [TensorRenameRule] = []
    /// Keep only tensors whose (original) name matches.
    public var only: TensorFilter?
    /// Cast floating-point tensors to this type; nil keeps each tensor's dtype.
    /// Integer and bool tensors are never cast.
    public var floatType: DType?
    /// Deflate `.npz` members (as `np.savez_compressed`).
    public var compress = false

    /// Options; the defaults keep every tensor as it is.
    /// - Parameters:
    ///   - renames: rules applied in order to every name.
    ///   - only: keep only tensors whose original name matches.
    ///   - floatType: cast floating-point tensors to this type.
    ///   - compress: deflate `.npz` members.
    public init(renames: [TensorRenameRule] = [], only: TensorFilter? = nil, floatType: DType? = nil, compress: Bool = false) {
        self.renames = renames
        self.only = only
        self.floatType = floatType
        self.compress = compress
    }
}

/// The formats Zoo writes.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// NumPy `.npy`: exactly one tensor.
    case npy
    /// NumPy `.npz`, stored or deflated.
    case npz
    /// safetensors, with `__metadata__`.
    case safetensors
    /// Plain HDF5: one dataset per tensor, groups from `/`.
    case hdf5
    /// A tf-keras (Keras 2) weights file, for `model.load_weights("w.h5")`.
    case keras2H5 = "keras2-h5"
    /// A Keras 3 weights file, for `model.load_weights("w.weights.h5")`.
    case keras3WeightsH5 = "keras3-weights-h5"
    /// A PyTorch state dict in `torch.save`'s zip format, for `torch.load(…, weights_only=True)`.
    case pytorch
    /// An ONNX file of the tensors alone (initializers, no nodes: `ONNXModel(weights:)`).
    case onnx

    /// The format for a file name's extension, if it names one:
    /// `.npy`, `.npz`, `.safetensors`, `.weights.h5` (Keras 3), `.h5` (Keras 2), `.hdf5` (plain),
    /// `.pt` / `.pth` (PyTorch), `.onnx` (tensors only).
    public init?(pathExtensionOf path: String) {
        let lower = path.lowercased()
        let byExtension: [(String, OutputFormat)] = [
            (".npy", .npy), (".npz", .npz), (".safetensors", .safetensors),
            (".weights.h5", .keras3WeightsH5), (".h5", .keras2H5), (".hdf5", .hdf5), (".he5", .hdf5),
            (".pt", .pytorch), (".pth", .pytorch), (".onnx", .onnx),
        ]
        guard let match = byExtension.first(where: { lower.hasSuffix($0.0) }) else { return nil }
        self = match.1
    }
}

extension TensorArchive {
    /// The tensors `options` select, renamed and cast, in file order.
    /// - Throws: `.duplicateName` if renaming makes two names equal; cast errors.
    public func converted(_ options: ConvertOptions) throws -> [StoredTensor] {
        var result: [StoredTensor] = []
        var names: Set<String> = []
        for var tensor in tensors {
            if let only = options.only, !only.matches(tensor.name) { continue }
            let original = tensor.name
            for rule in options.renames { tensor.name = rule.apply(to: tensor.name) }
            guard names.insert(tensor.name).inserted else {
                throw FormatError(file: file, .cannotRepresent(what: "'\(original)' as '\(tensor.name)'", why: "another tensor already has that name after renaming"))
            }
            if let floatType = options.floatType, tensor.dtype.isFloatingPoint {
                tensor = try tensor.cast(to: floatType)
            }
            result.append(tensor)
        }
        return result
    }

    /// Metadata worth carrying into another file: without the keys that
    /// describe this file's own layout.
    var portableMetadata: [String: String] {
        metadata.filter { !["keras_layout", "skipped_members", "ir_version", "opset_import", "graph_name"].contains($0.key) }
    }

    /// Writes the converted tensors to `path` atomically and returns them.
    /// - Throws: `.cannotRepresent` when `.npy` is asked for with other than one tensor.
    @discardableResult
    public func write(to path: String, format: OutputFormat, options: ConvertOptions = ConvertOptions()) throws -> [StoredTensor] {
        let selected = try converted(options)
        try TensorWriter.write(selected, to: path, format: format, metadata: portableMetadata, compress: options.compress)
        return selected
    }
}

/// Writes tensors in any output format, atomically.
public enum TensorWriter {
    /// Writes `selected` to `path` in `format`, atomically.
    /// - Parameters:
    ///   - selected: the tensors (exactly one for `.npy`).
    ///   - path: the file to write.
    ///   - format: the output format.
    ///   - metadata: string pairs, where the format has a place for them (safetensors, plain HDF5, ONNX's metadata_props).
    ///   - compress: deflate `.npz` members.
    /// - Throws: `.cannotRepresent` when `.npy` is asked for with other than one tensor, or a dtype the format lacks.
    public static func write(_ selected: [StoredTensor], to path: String, format: OutputFormat, metadata: [String: String] = [:], compress: Bool = false) throws {
        switch format {
        case .npy:
            guard selected.count == 1 else {
                throw FormatError(file: path, .cannotRepresent(what: "\(selected.count) tensors as one .npy", why: "a .npy file holds exactly one array; select one (ConvertOptions.only), or write .npz"))
            }
            try NPYWriter.write(selected[0], to: path)
        case .npz:
            try NPZWriter.write(selected, to: path, compressed: compress)
        case .safetensors:
            try SafetensorsWriter.write(selected, metadata: metadata, to: path)
        case .hdf5:
            try HDF5Writer.write(selected, to: path, layout: .plain, metadata: metadata)
        case .keras2H5:
            try HDF5Writer.write(selected, to: path, layout: .keras2)
        case .keras3WeightsH5:
            try HDF5Writer.write(selected, to: path, layout: .keras3)
        case .pytorch:
            try PyTorchWriter.write(selected, to: path)
        case .onnx:
            try ONNXWriter.write(ONNXModel(weights: selected, metadata: metadata), to: path)
        }
    }
}
