/// Reads PyTorch files in the legacy (pre-1.6, non-zip) format, which
/// `torch.save(obj, f, _use_new_zipfile_serialization=False)` still writes
/// (`_legacy_save` in https://github.com/pytorch/pytorch/blob/main/torch/serialization.py):
///
///     pickle 1   the magic number 0x1950a86a20f9469cfc6c (a LONG1)
///     pickle 2   the protocol version, 1001
///     pickle 3   sys_info: {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {…}}
///     pickle 4   the object; storages are persistent ids
///                ('storage', torch.FloatStorage, '94…', 'cpu', 12, None)
///     pickle 5   the storage keys, in the order their bytes follow
///     then, per key: its element count (8 bytes, the writer's byte order) and its raw bytes
///
/// Typically several tensors share one storage at different offsets and strides
/// (a state dict saved with views). Tensors are zero-copy views into the mapped
/// file. The pickles run on `PickleMachine` with the `TorchPickleHost` allowlist.
enum PyTorchLegacyReader {
    /// The first bytes: PROTO 2, then LONG1 of 10 bytes holding the magic number.
    static let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    static func open(_ file: MappedFile) throws -> TensorArchive {
        let reader = ByteReader(file.bytes, file: file.path)
        let host = TorchPickleHost(file: file.path)
        let magicPickle = try PickleMachine.load(reader, from: 0, host: host)
        guard case .bigInt(let bytes) = magicPickle.value, bytes == Array(magic[4...]) else {
            throw reader.malformed(0, expected: "the legacy PyTorch magic number 0x1950a86a20f9469cfc6c", found: magicPickle.value.pythonDescription)
        }
        let version = try PickleMachine.load(reader, from: magicPickle.end, host: host)
        guard case .int(let protocolVersion) = version.value, protocolVersion == 1001 else {
            throw reader.malformed(magicPickle.end, expected: "the legacy protocol version 1001", found: version.value.pythonDescription)
        }
        let sysInfo = try PickleMachine.load(reader, from: version.end, host: host)
        defer { withExtendedLifetime(sysInfo.arena) {} }
        var byteOrder = ByteOrder.little
        if case .dict(let info) = sysInfo.value {
            for (key, value) in info.items {
                if case .string("little_endian") = key, case .bool(let little) = value { byteOrder = little ? .little : .big }
            }
        }
        let main = try PickleMachine.load(reader, from: sysInfo.end, host: host)
        var flattener = TorchStateFlattener(file: file.path, location: .offset(sysInfo.end))
        try withExtendedLifetime(main.arena) { try flattener.flatten(main.value) }
        let keysPickle = try PickleMachine.load(reader, from: main.end, host: host)
        defer { withExtendedLifetime(keysPickle.arena) {} }
        guard case .list(let keyList) = keysPickle.value else {
            throw reader.malformed(main.end, expected: "the list of storage keys", found: keysPickle.value.pythonDescription)
        }

        // Each storage's element type, from the tensors that view it.
        var dtypes: [String: DType] = [:]
        for (_, ref) in flattener.tensors { dtypes[ref.storage.key] = ref.storage.dtype }
        var storages: [String: (offset: Int, count: Int)] = [:]
        var position = keysPickle.end
        for keyValue in keyList.items {
            guard case .string(let key) = keyValue else {
                throw reader.malformed(main.end, expected: "storage keys as strings", found: keyValue.pythonDescription)
            }
            guard let dtype = dtypes[key] else {
                throw reader.malformed(position, expected: "a tensor viewing storage '\(key)' (to know its element size)", found: "none")
            }
            let raw = try reader.uint64(position, "the element count of storage '\(key)'")
            let count = byteOrder == .little ? raw : raw.byteSwapped
            guard count <= UInt64(reader.count) else {
                throw reader.malformed(position, expected: "an element count within the file for storage '\(key)'", found: "\(count)")
            }
            let byteCount = Int(count) * dtype.byteCount
            try reader.require(position + 8, byteCount, "the bytes of storage '\(key)'")
            storages[key] = (position + 8, byteCount)
            position += 8 + byteCount
        }

        var tensors: [StoredTensor] = []
        var seen: Set<String> = []
        for (name, ref) in flattener.tensors {
            guard seen.insert(name).inserted else { throw FormatError(file: file.path, .duplicateName(name)) }
            guard let storage = storages[ref.storage.key] else {
                throw reader.malformed(main.end, expected: "storage '\(ref.storage.key)' of '\(name)' in the key list", found: "none")
            }
            tensors.append(try TorchTensorBuilder.tensor(
                name: name, ref, storage: .mapped(file, offset: storage.offset, count: storage.count),
                byteOrder: byteOrder, file: file.path, path: name))
        }
        var metadata = flattener.metadata
        metadata["byteorder"] = byteOrder.rawValue
        metadata["legacy_format"] = "true"
        return TensorArchive(file: file.path, format: .pytorch, metadata: metadata, tensors: tensors)
    }
}
