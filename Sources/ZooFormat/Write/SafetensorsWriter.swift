/// Writes safetensors files that `safetensors.safe_open` and
/// `safetensors.torch.load_file` accept: `__metadata__` first, tensors in
/// the given order with contiguous offsets, the header padded with spaces to
/// a multiple of 8 bytes so the data is aligned.
public enum SafetensorsWriter {
    /// Writes `tensors` to `path` atomically (see ``AtomicWrite``).
    /// - Parameters:
    ///   - tensors: the tensors, with distinct names; their bytes are copied in C order, little-endian.
    ///   - metadata: string pairs for `__metadata__` (sorted by key).
    ///   - path: the file to write.
    /// - Throws: ``FormatError`` with `.duplicateName`, `.cannotRepresent` (a dtype safetensors
    ///   lacks) or `.writeFailed`.
    public static func write(_ tensors: [StoredTensor], metadata: [String: String] = [:], to path: String) throws {
        var members: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var names: Set<String> = ["__metadata__"]
        var offset = 0
        for tensor in tensors {
            guard names.insert(tensor.name).inserted else {
                throw FormatError(file: path, tensor.name == "__metadata__" ? .cannotRepresent(what: "a tensor named __metadata__", why: "the name is reserved") : .duplicateName(tensor.name))
            }
            guard let code = SafetensorsDType.code(for: tensor.dtype) else {
                throw FormatError(file: path, .cannotRepresent(what: "'\(tensor.name)' (\(tensor.dtype.name))", why: "safetensors has no such dtype"))
            }
            let entry: JSONValue = .object([
                ("dtype", .string(code)),
                ("shape", .array(tensor.shape.map { .integer($0) })),
                ("data_offsets", .array([.integer(offset), .integer(offset + tensor.byteCount)])),
            ])
            members.append((tensor.name, entry))
            offset += tensor.byteCount
        }
        var header = Array(JSONValue.object(members).compactText.utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        let file = try AtomicFile(destination: path)
        try file.write(UInt64(header.count).littleEndianBytes)
        try file.write(header)
        for tensor in tensors {
            try tensor.canonicalBytes().withUnsafeBytes { try file.write($0) }
        }
        try file.commit()
    }
}
