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

    public init(renames: [TensorRenameRule] = [], only: TensorFilter? = nil, floatType: DType? = nil, compress: Bool = false) {
        self.renames = renames
        self.only = only
        self.floatType = floatType
        self.compress = compress
    }
}

/// The formats Zoo writes.
public enum OutputFormat: String, Sendable, CaseIterable {
    case npy, npz, safetensors

    /// The format for a file name's extension, if it names one.
    public init?(pathExtensionOf path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") {
            self = .npy
        } else if lower.hasSuffix(".npz") {
            self = .npz
        } else if lower.hasSuffix(".safetensors") {
            self = .safetensors
        } else {
            return nil
        }
    }
}

extension TensorArchive {
    /// The tensors `options` select, renamed and cast, in file order.
    /// - Throws: `.duplicateName` if renaming makes two names equal; cast errors.
    public func converted(_ options: ConvertOptions) throws -> [Tensor] {
        var result: [Tensor] = []
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

    /// Writes the converted tensors to `path` atomically and returns them.
    /// - Throws: `.cannotRepresent` when `.npy` is asked for with other than one tensor.
    @discardableResult
    public func write(to path: String, format: OutputFormat, options: ConvertOptions = ConvertOptions()) throws -> [Tensor] {
        let selected = try converted(options)
        switch format {
        case .npy:
            guard selected.count == 1 else {
                throw FormatError(file: path, .cannotRepresent(what: "\(selected.count) tensors as one .npy", why: "a .npy file holds exactly one array; use --only to pick one, or write .npz"))
            }
            try NPYWriter.write(selected[0], to: path)
        case .npz:
            try NPZWriter.write(selected, to: path, compressed: options.compress)
        case .safetensors:
            try SafetensorsWriter.write(selected, metadata: metadata, to: path)
        }
        return selected
    }
}
