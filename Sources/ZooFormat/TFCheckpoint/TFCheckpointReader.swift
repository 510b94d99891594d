/// Reads TensorFlow checkpoints in the TensorBundle V2 format
/// (https://github.com/tensorflow/tensorflow/blob/master/tensorflow/core/util/tensor_bundle/tensor_bundle.h),
/// as `tf.compat.v1.train.Saver` and `tf.train.Checkpoint` write them:
///
///     saver = tf.compat.v1.train.Saver(); saver.save(session, "train/model.ckpt")
///     tf.train.Checkpoint(model=model, optimizer=optimizer).save("train/ckpt")
///
///     PREFIX.index                    an SSTable (see `SSTable`): under the empty key a
///                                     BundleHeaderProto, under each variable name a
///                                     BundleEntryProto (see `TFBundleEntry`)
///     PREFIX.data-00000-of-0000N      the raw bytes of the variables, each at its entry's
///                                     (shard_id, offset, size), checked by its masked CRC-32C
///
/// Names are kept as TensorFlow stores them (`hidden1/kernel`,
/// `model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`); optimizer
/// state gets `attributes["role"] = "optimizer"` (see `TFVariableRole`).
///
/// Reading is zero-copy: each shard is mapped and a tensor's bytes are a view of
/// its shard. The CRC-32C is checked on every read of the bytes (`storedBytes()`,
/// and so `canonicalBytes()`, `floats()`, `sha256()`): the source is a loader that
/// verifies the view before returning it (slicing-by-8, about 1–2 GB/s), so a
/// corrupt shard never yields numbers, while opening a checkpoint stays cheap.
///
/// Skipped with a note in `metadata["skipped"]`: DT_STRING tensors (such as TF2's
/// `_CHECKPOINTABLE_OBJECT_GRAPH`) and resource/variant/quantized types.
/// Partitioned variables (saved as slices) are assembled on read (`TFPartitionedVariable`):
/// a copy, with `attributes["slices"]` giving the number of parts.
enum TFCheckpointReader {
    /// Opens the checkpoint whose prefix is `prefix`; `file` is the path the user gave.
    /// `index` is the table to read when it is not `PREFIX.index` (a file recognized by its
    /// table magic under another name).
    static func open(prefix: String, index indexFile: String? = nil, file: String) throws -> TensorArchive {
        let indexPath = indexFile ?? prefix + ".index"
        let index = try MappedFile(path: indexPath)
        guard index.count > 0 else { throw FormatError(file: indexPath, .empty) }
        let table = try SSTable(ByteReader(index.bytes, file: indexPath))
        guard let first = table.entries.first, first.key.isEmpty else {
            throw FormatError(file: indexPath, .malformed(at: .key(""), expected: "a BundleHeaderProto under the empty key first", found: table.entries.first.map { "'\(String(decoding: $0.key, as: UTF8.self))'" } ?? "no entries"))
        }
        let header = try first.value.withUnsafeBytes { try TFBundleHeader($0, file: indexPath) }
        // A shard is a file: more than the entries could reference is not plausible.
        guard header.shardCount >= 1, header.shardCount <= max(1, table.entries.count) else {
            throw FormatError(file: indexPath, .malformed(at: .key(""), expected: "between 1 and \(max(1, table.entries.count)) shards", found: "num_shards \(header.shardCount)"))
        }
        var shards = [MappedFile?](repeating: nil, count: header.shardCount)
        func shard(_ id: Int, _ name: String) throws -> MappedFile {
            guard id < header.shardCount else {
                throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "a shard_id below num_shards \(header.shardCount)", found: "\(id)"))
            }
            if let mapped = shards[id] { return mapped }
            let mapped = try MappedFile(path: shardPath(prefix, id, header.shardCount))
            shards[id] = mapped
            return mapped
        }
        // Keys of slices of partitioned variables start with a 0 byte (an OrderedCode);
        // the variable's own entry lists its slices.
        var sliceValues: [[UInt8]: [UInt8]] = [:]
        for entry in table.entries.dropFirst() where entry.key.first == 0 { sliceValues[entry.key] = entry.value }
        var tensors: [StoredTensor] = []
        var skipped: [String] = []
        for entry in table.entries.dropFirst() {
            if entry.key.first == 0 { continue }
            let name = String(decoding: entry.key, as: UTF8.self)
            let bundle = try entry.value.withUnsafeBytes { try TFBundleEntry($0, file: indexPath, key: name) }
            if bundle.sliceCount > 0, let dtype = TFDataType.dtype(bundle.dtypeCode) {
                tensors.append(try partitioned(name, bundle, dtype: dtype, bigEndian: header.bigEndian, slices: sliceValues, indexPath: indexPath, file: file, shard: shard))
                continue
            }
            guard let dtype = TFDataType.dtype(bundle.dtypeCode) else {
                guard bundle.dtypeCode == TFDataType.string || (11...21).contains(bundle.dtypeCode) else {
                    throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "a TensorFlow DataType", found: "\(bundle.dtypeCode)"))
                }
                skipped.append("\(name) (\(TFDataType.name(bundle.dtypeCode)))")
                continue
            }
            guard !bundle.unknownRank else {
                throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "a known shape", found: "unknown rank"))
            }
            tensors.append(try tensor(name, bundle, dtype: dtype, bigEndian: header.bigEndian, shard: try shard(bundle.shardID, name), file: file))
        }
        var metadata = [
            "shards": "\(header.shardCount)",
            "prefix": prefix,
            "tensor_bundle_version": "\(header.producerVersion)",
        ]
        if header.bigEndian { metadata["endianness"] = "big" }
        if !skipped.isEmpty { metadata["skipped"] = skipped.joined(separator: ", ") }
        return TensorArchive(file: file, format: .tfCheckpoint, metadata: metadata, tensors: tensors)
    }

    /// `PREFIX.data-00001-of-00002`.
    static func shardPath(_ prefix: String, _ shard: Int, _ count: Int) -> String {
        func padded(_ value: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
        }
        return "\(prefix).data-\(padded(shard))-of-\(padded(count))"
    }

    /// A partitioned variable (see `TFPartitionedVariable`): its slices located, checked to
    /// tile it, and copied together on read.
    private static func partitioned(
        _ name: String, _ entry: TFBundleEntry, dtype: DType, bigEndian: Bool, slices: [[UInt8]: [UInt8]],
        indexPath: String, file: String, shard: (Int, String) throws -> MappedFile
    ) throws -> StoredTensor {
        guard !entry.unknownRank, !entry.shape.isEmpty, let total = checkedElementCount(entry.shape) else {
            throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "a partitioned variable of known rank ≥ 1", found: "shape \(entry.shape)"))
        }
        var parts: [TFPartitionedVariable.Part] = []
        for sliceBytes in entry.slices {
            var extents = try TFPartitionedVariable.extents(sliceBytes, file: indexPath, name: name)
            guard extents.count <= entry.shape.count else {
                throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "slices of rank \(entry.shape.count)", found: "a slice of rank \(extents.count)"))
            }
            // The key names the extents as saved; missing trailing extents mean whole dimensions.
            let key = TFPartitionedVariable.key(name: name, extents: extents)
            while extents.count < entry.shape.count { extents.append(.init(start: 0, length: nil)) }
            guard let value = slices[key] else {
                throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "an entry for its slice \(extents.map { "\($0.start):\($0.length.map(String.init) ?? "all")" })", found: "none"))
            }
            let part = try value.withUnsafeBytes { try TFBundleEntry($0, file: indexPath, key: "\(name) slice") }
            let sliceShape = zip(extents, entry.shape).map { extent, full in extent.length ?? full }
            guard part.dtypeCode == entry.dtypeCode else {
                throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "slices of \(TFDataType.name(entry.dtypeCode))", found: TFDataType.name(part.dtypeCode)))
            }
            let count = checkedElementCount(sliceShape) ?? Int.max
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, bytes == part.size else {
                throw FormatError(file: indexPath, .malformed(at: .key(name), expected: "\(overflow ? "a size" : "\(bytes) bytes") for a slice of shape \(sliceShape)", found: "size \(part.size)"))
            }
            let mapped = try shard(part.shardID, name)
            let (end, endOverflow) = part.offset.addingReportingOverflow(part.size)
            guard !endOverflow, end <= mapped.count else {
                throw FormatError(file: mapped.path, .truncated(at: .offset(part.offset), needed: part.size, available: max(0, mapped.count - part.offset), what: "a slice of '\(name)'"))
            }
            parts.append(.init(start: extents.map(\.start), shape: sliceShape, shard: mapped, offset: part.offset, size: part.size, maskedCRC: part.maskedCRC))
        }
        try TFPartitionedVariable.checkTiling(parts, shape: entry.shape, name: name, file: indexPath)
        let shape = entry.shape
        let itemSize = dtype.byteCount
        let located = parts
        let source = TensorSource.loader(byteCount: total * itemSize) {
            try TFPartitionedVariable.assemble(located, shape: shape, itemSize: itemSize, name: name)
        }
        var attributes = ["slices": "\(parts.count)"]
        if let role = TFVariableRole.role(of: name) { attributes["role"] = role }
        return try StoredTensor(
            name: name, dtype: dtype, shape: shape, byteOrder: bigEndian ? .big : .little,
            source: source, file: file, attributes: attributes)
    }

    private static func tensor(_ name: String, _ entry: TFBundleEntry, dtype: DType, bigEndian: Bool, shard: MappedFile, file: String) throws -> StoredTensor {
        guard let count = checkedElementCount(entry.shape) else {
            throw FormatError(file: shard.path, .shapeOverflow(at: .key(name), shape: entry.shape))
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, bytes == entry.size else {
            throw FormatError(file: shard.path, .malformed(at: .key(name), expected: "\(overflow ? "a size" : "\(bytes) bytes") for shape \(entry.shape) \(dtype)", found: "size \(entry.size)"))
        }
        let (end, endOverflow) = entry.offset.addingReportingOverflow(entry.size)
        guard !endOverflow, end <= shard.count else {
            throw FormatError(file: shard.path, .truncated(
                at: .offset(entry.offset), needed: entry.size, available: max(0, shard.count - entry.offset), what: "the data of '\(name)'"))
        }
        let offset = entry.offset
        let size = entry.size
        let masked = entry.maskedCRC
        let source = TensorSource.loader(byteCount: size) {
            let view = TensorBytes(file: shard, offset: offset, count: size)
            if let masked {
                let expected = CRC32C.unmask(masked)
                let actual = view.withUnsafeBytes { CRC32C.checksum($0) }
                guard actual == expected else {
                    throw FormatError(file: shard.path, .checksumMismatch(at: .offset(offset), expected: "CRC-32C \(CRC32C.text(expected)) of '\(name)'", found: CRC32C.text(actual)))
                }
            }
            return view
        }
        var attributes: [String: String] = [:]
        if let role = TFVariableRole.role(of: name) { attributes["role"] = role }
        return try StoredTensor(
            name: name, dtype: dtype, shape: entry.shape, byteOrder: bigEndian ? .big : .little,
            source: source, file: file, attributes: attributes)
    }
}
