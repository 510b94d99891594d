/// The file formats Zoo reads, each detected by its magic bytes.
public enum TensorFileFormat: String, Sendable, CaseIterable {
    case npy
    case npz
    case safetensors
    /// A TensorFlow checkpoint (TensorBundle V2: `PREFIX.index` + `PREFIX.data-*`).
    case tfCheckpoint = "tf-checkpoint"
    /// A PyTorch `torch.save` file (zip or legacy format).
    case pytorch

    /// The name printed by `zoo inspect` and used by `--to`.
    public var name: String { rawValue }
}

/// The named-tensor store every reader returns: the tensors of one file, in
/// file order, with their dtypes and shapes; bytes are read on request.
public struct TensorArchive: Sendable {
    /// The path, as the user gave it.
    public let file: String
    public let format: TensorFileFormat
    /// File-level metadata (safetensors' `__metadata__`, Keras' version, …).
    public var metadata: [String: String]
    /// The tensors, in the order the file stores them.
    public var tensors: [Tensor]

    public init(file: String, format: TensorFileFormat, metadata: [String: String] = [:], tensors: [Tensor]) {
        self.file = file
        self.format = format
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The tensor named `name`.
    /// - Throws: `.noSuchTensor` with the closest existing name as a hint.
    public func tensor(named name: String) throws -> Tensor {
        if let found = tensors.first(where: { $0.name == name }) { return found }
        throw FormatError(file: file, .noSuchTensor(name: name, hint: closestName(to: name, among: tensors.map(\.name))))
    }

    /// Total number of elements over all tensors.
    public var elementCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }

    /// Total bytes of tensor data.
    public var byteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Opens a tensor file of any supported format, detected by magic bytes.
    ///
    /// Only headers are read here; tensor bytes are read lazily.
    /// A TensorFlow checkpoint may be named by its prefix, its `.index`, a data
    /// shard or its directory (see `TFCheckpointLocator`).
    /// - Throws: `FormatError`: `.notFound`, `.empty`, `.unknownFormat`, or the format's own errors.
    public static func open(_ path: String) throws -> TensorArchive {
        if let prefix = try TFCheckpointLocator.prefix(for: path) {
            return try TFCheckpointReader.open(prefix: prefix, file: path)
        }
        let file = try MappedFile(path: path)
        switch try FormatDetector.detect(file) {
        case .npy: return try NPYReader.open(file)
        case .npz: return try NPZReader.open(file)
        case .safetensors: return try SafetensorsReader.open(file)
        case .tfCheckpoint: return try TFCheckpointReader.open(prefix: path, index: path, file: path)
        case .pytorch:
            return file.bytes.starts(with: PyTorchLegacyReader.magic) ? try PyTorchLegacyReader.open(file) : try PyTorchZipReader.open(file)
        }
    }
}

/// The candidate with the smallest edit distance to `name`, if reasonably close.
public func closestName(to name: String, among candidates: [String]) -> String? {
    let target = Array(name.unicodeScalars)
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.unicodeScalars))
        if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
    }
    guard let best, best.distance <= max(2, target.count / 2) else { return nil }
    return best.name
}

/// Levenshtein distance, O(n·m) time, O(m) memory.
func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
