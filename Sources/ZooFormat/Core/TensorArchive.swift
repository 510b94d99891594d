#if canImport(Glibc)
import Glibc
#endif

/// The file formats Zoo reads, each detected by its magic bytes (ONNX by its structure).
public enum TensorFileFormat: String, Sendable, CaseIterable, Codable {
    /// NumPy `.npy`: one array (`np.save`).
    case npy
    /// NumPy `.npz`: a zip of `.npy` members (`np.savez`, `np.savez_compressed`).
    case npz
    /// Hugging Face safetensors: a JSON header, then the tensors' bytes.
    case safetensors
    /// HDF5 without a Keras layout: one tensor per numeric dataset.
    case hdf5
    /// Keras 2 (tf-keras) `model.save("x.h5")` or `model.save_weights("x.h5")`.
    case keras2H5 = "keras2-h5"
    /// Keras 3 `model.save_weights("x.weights.h5")`.
    case keras3WeightsH5 = "keras3-weights-h5"
    /// Keras 3 `model.save("x.keras")`: a zip of config.json, metadata.json, model.weights.h5.
    case keras
    /// The IDX format of MNIST and Fashion-MNIST.
    case idx
    /// A TensorFlow checkpoint (TensorBundle V2: `PREFIX.index` + `PREFIX.data-*`).
    case tfCheckpoint = "tf-checkpoint"
    /// A PyTorch `torch.save` file (zip or legacy format).
    case pytorch
    /// An ONNX model (`.onnx`): its graph's initializers (see `ONNXReader`).
    case onnx

    /// The name printed by `zoo inspect` and used by `--to`.
    public var name: String { rawValue }
}

/// The named-tensor store every reader returns: the tensors of one file, in
/// file order, with their dtypes and shapes; bytes are read on request.
public struct TensorArchive: Sendable {
    /// The path, as the user gave it.
    public let file: String
    /// The format, detected by magic bytes.
    public let format: TensorFileFormat
    /// File-level metadata (safetensors' `__metadata__`, Keras' version, …).
    public var metadata: [String: String]
    /// The tensors, in the order the file stores them.
    public var tensors: [StoredTensor]
    /// Entries that are not tensors Zoo reads (string datasets, external links, …), and why.
    public var skipped: [SkippedEntry]
    /// The model description the file carries (Keras `model_config` / `config.json`), if any.
    public var modelConfig: JSONValue?

    /// An archive of already opened tensors (the readers make these; tests and converters too).
    /// - Parameters:
    ///   - file: the path, for messages.
    ///   - format: the format it was read from.
    ///   - metadata: string pairs of the file (safetensors `__metadata__`, Keras attributes).
    ///   - tensors: the tensors, in file order.
    ///   - skipped: entries that are not tensors, and why.
    ///   - modelConfig: the model description the file carries, if any.
    public init(
        file: String, format: TensorFileFormat, metadata: [String: String] = [:], tensors: [StoredTensor],
        skipped: [SkippedEntry] = [], modelConfig: JSONValue? = nil
    ) {
        self.file = file
        self.format = format
        self.metadata = metadata
        self.tensors = tensors
        self.skipped = skipped
        self.modelConfig = modelConfig
    }

    /// The tensor named `name`.
    /// - Throws: `.noSuchTensor` with the closest existing name as a hint.
    public func tensor(named name: String) throws -> StoredTensor {
        if let found = tensors.first(where: { $0.name == name }) { return found }
        if let unreadable = skipped.first(where: { $0.name == name }) {
            throw FormatError(file: file, .unreadableTensor(name: name, path: unreadable.path, reason: unreadable.reason))
        }
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
        var file = try MappedFile(path: path)
        if file.bytes.starts(with: Gzip.magic) { file = try Gzip.decompress(file) }
        return try open(mapped: file)
    }

    /// Reads `file` (a tensor file, not a TensorFlow checkpoint) by the format its magic names;
    /// HDF5-based formats through libhdf5's helper process (see `HDF5Isolation`).
    static func open(mapped file: MappedFile) throws -> TensorArchive {
        switch try FormatDetector.detect(file) {
        case .npy: return try NPYReader.open(file)
        case .npz: return try NPZReader.open(file)
        case .safetensors: return try SafetensorsReader.open(file)
        case .hdf5, .keras2H5, .keras3WeightsH5: return try HDF5Isolation.open(file) { try HDF5Reader.open(file) }
        case .keras: return try HDF5Isolation.open(file) { try KerasArchiveReader.open(file) }
        case .tfCheckpoint: return try TFCheckpointReader.open(prefix: file.path, index: file.path, file: file.path)
        case .idx: return try IDXReader.open(file)
        case .pytorch:
            return file.bytes.starts(with: PyTorchLegacyReader.magic) ? try PyTorchLegacyReader.open(file) : try PyTorchZipReader.open(file)
        case .onnx: return try ONNXReader.open(file)
        }
    }
}

/// Something in a file that is not a tensor Zoo reads, with the reason.
public struct SkippedEntry: Sendable, Equatable, Codable {
    /// Where it sits in the file.
    public let path: String
    /// Why it is not a tensor (a string dataset, an external link, …).
    public let reason: String
    /// The tensor name it would have had, when it is a dataset that could not be read
    /// (a load asking for it fails with `reason`).
    public let name: String?

    /// An entry at `path` left out for `reason` (`name`: the tensor it would have been).
    public init(path: String, reason: String, name: String? = nil) {
        self.path = path
        self.reason = reason
        self.name = name
    }
}

/// Physical memory of this machine in bytes: no single tensor or inflated member is allocated beyond it.
let physicalMemory: Int = {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let size = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, size > 0 else { return Int.max / 4 }
    return pages.multipliedReportingOverflow(by: size).overflow ? Int.max / 4 : pages * size
}()

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
