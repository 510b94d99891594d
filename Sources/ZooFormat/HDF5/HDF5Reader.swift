/// Reads HDF5 files through libhdf5: plain files (one tensor per numeric
/// dataset, named by its path) and the Keras layouts, which `KerasH5Layout`
/// recognizes and names canonically (`hidden1/kernel`).
///
///     import h5py, numpy as np
///     with h5py.File("w.h5", "w") as f:
///         f["hidden1/kernel"] = np.zeros((784, 300), np.float32)   # tensor "hidden1/kernel"
///
/// Contiguous, unfiltered datasets are zero-copy views of the mapped file;
/// chunked, compact and filtered (deflate, shuffle, fletcher32) ones are read
/// by libhdf5 when the tensor is read.
enum HDF5Reader {
    /// The HDF5 superblock signature, at offset 0 or after a user block.
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Where the superblock is: offset 0, or after a user block of 512, 1024, 2048, … bytes
    /// (the spec's search: "the signature at byte 0, 512, 1024, 2048, and so on";
    /// `h5py.File(path, "w", userblock_size=512)` writes one). Nil when there is none.
    static func superblockOffset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var offset = 0
        while offset <= bytes.count - signature.count {
            if bytes[offset..<offset + signature.count].elementsEqual(signature) { return offset }
            offset = offset == 0 ? 512 : offset * 2
        }
        return nil
    }

    static func open(_ mapped: MappedFile) throws -> TensorArchive {
        // Bytes held in memory (a decompressed `model.h5.gz`) are opened as an image, not by path.
        if mapped.isInMemory {
            return try read(HDF5File(path: mapped.path, image: mapped.bytes, container: mapped, offset: 0))
        }
        return try read(HDF5File(path: mapped.path, mapped: mapped))
    }

    /// Reads `file`, choosing the Keras layout it follows, if any.
    static func read(_ file: HDF5File, modelConfig: JSONValue? = nil, format: TensorFileFormat? = nil) throws -> TensorArchive {
        if let keras = try KerasH5Layout.read(file, modelConfig: modelConfig) {
            return TensorArchive(
                file: file.path, format: format ?? keras.format, metadata: keras.metadata,
                tensors: keras.tensors, skipped: keras.skipped, modelConfig: modelConfig ?? keras.modelConfig)
        }
        var tensors: [StoredTensor] = []
        var skipped: [SkippedEntry] = []
        // Creation order: dataset storage is appended as a file is written.
        let nodes = try file.walk().map { node -> (node: HDF5File.Node, position: UInt64) in
            if case .dataset(let path) = node { return (node, file.objectPosition(path)) }
            return (node, UInt64.max)
        }
        for (node, _) in nodes.enumerated().sorted(by: { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }).map(\.element) {
            switch node {
            case .dataset(let path):
                switch try tensor(file, datasetPath: path, name: String(path.dropFirst())) {
                case .tensor(let tensor): tensors.append(tensor)
                case .skipped(let entry): skipped.append(entry)
                }
            case .skipped(let path, let reason):
                skipped.append(SkippedEntry(path: path, reason: reason))
            }
        }
        var metadata: [String: String] = [:]
        for name in try file.attributeNames("/") {
            if let text = try file.attribute(name, of: "/")?.text { metadata[name] = text }
        }
        return TensorArchive(file: file.path, format: format ?? .hdf5, metadata: metadata, tensors: tensors, skipped: skipped)
    }

    /// Bytes of fill values (never-written storage) a dataset may read without stored data behind them.
    static let fillAllowance = 64 << 20

    /// Why a dataset's extent cannot be read from its storage, checked before anything is
    /// allocated for it: a dataspace claiming 4 TiB over a few KiB of storage, or more than
    /// this machine's memory. Chunked data may be compressed (by deflate's 1032:1 at most,
    /// other filters alike here) and unwritten storage reads as fill values (up to `fillAllowance`).
    static func storageProblem(_ info: HDF5DatasetInfo, byteCount: Int, dtype: DType) -> String? {
        let ratio = info.isFiltered ? Deflate.maximumRatio : 1
        let (reachable, overflow) = info.storageSize.multipliedReportingOverflow(by: ratio)
        if !overflow, byteCount > reachable, byteCount - reachable > fillAllowance {
            return "storage smaller than the extent: shape \(info.shape) \(dtype) needs \(byteCount) bytes, the file stores \(info.storageSize)"
                + (info.isFiltered ? " (compressed)" : "")
        }
        let memory = physicalMemory
        if byteCount > memory {
            return "the extent \(info.shape) \(dtype) needs \(byteCount) bytes, more than this machine's memory (\(memory) bytes)"
        }
        return nil
    }

    enum Outcome {
        case tensor(StoredTensor)
        case skipped(SkippedEntry)
    }

    /// The tensor for the dataset at `datasetPath`, or why it is skipped.
    static func tensor(_ file: HDF5File, datasetPath: String, name: String, attributes: [String: String] = [:]) throws -> Outcome {
        let info = try file.datasetInfo(datasetPath)
        let dtype: DType
        let order: ByteOrder
        switch info.content {
        case .skipped(let reason): return .skipped(SkippedEntry(path: datasetPath, reason: reason))
        case .unreadable(let reason): return .skipped(SkippedEntry(path: datasetPath, reason: reason, name: name))
        case .numeric(let type, let byteOrder):
            dtype = type
            order = byteOrder
        }
        guard let count = checkedElementCount(info.shape) else {
            throw FormatError(file: file.path, .shapeOverflow(at: .key(datasetPath), shape: info.shape))
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow else { throw FormatError(file: file.path, .shapeOverflow(at: .key(datasetPath), shape: info.shape)) }
        var attributes = attributes
        if info.isChecksummed { attributes["checksum"] = "fletcher32" }
        if let reason = storageProblem(info, byteCount: byteCount, dtype: dtype) {
            return .skipped(SkippedEntry(path: datasetPath, reason: reason, name: name))
        }
        if let mapped = file.mapped, let offset = info.contiguousOffset, byteCount > 0 {
            let start = file.mappedBase + offset
            guard start <= mapped.count, byteCount <= mapped.count - start else {
                return .skipped(SkippedEntry(
                    path: datasetPath,
                    reason: "storage smaller than the extent: shape \(info.shape) \(dtype) needs \(byteCount) bytes at offset \(start), the file ends after \(max(0, mapped.count - start))",
                    name: name))
            }
            return .tensor(try StoredTensor(
                name: name, dtype: dtype, shape: info.shape, byteOrder: order,
                source: .mapped(mapped, offset: start, count: byteCount), file: file.path, path: datasetPath, attributes: attributes))
        }
        let source = TensorSource.loader(
            byteCount: byteCount,
            load: {
                let buffer = try HeapBuffer(checkedCount: byteCount, file: file.path, what: "dataset '\(datasetPath)'")
                try file.readDataset(datasetPath, into: buffer.pointer, byteCount: byteCount)
                return buffer.bytes
            },
            readInto: { destination in
                precondition(destination.count >= byteCount, "destination holds \(destination.count) bytes, the dataset \(byteCount)")
                guard let base = destination.baseAddress else { return }
                try file.readDataset(datasetPath, into: base, byteCount: byteCount)
            })
        return .tensor(try StoredTensor(
            name: name, dtype: dtype, shape: info.shape, byteOrder: .little,
            source: source, file: file.path, path: datasetPath, attributes: attributes))
    }
}
