/// Reads PyTorch files in the zip format `torch.save` writes since 1.6
/// (`.pt`, `.pth`, Hugging Face `pytorch_model.bin`; the writer is `_save` in
/// https://github.com/pytorch/pytorch/blob/main/torch/serialization.py):
///
///     torch.save(model.state_dict(), "model.pt")
///     torch.save({"model_state": model.state_dict(), "epoch": 3}, "checkpoint.pth")
///
///     model/data.pkl          the pickled object; tensors are
///                             _rebuild_tensor_v2(BINPERSID ('storage', torch.FloatStorage, '0', 'cpu', 12), offset, size, stride, …)
///     model/byteorder         "little" or "big" (absent before torch 1.10: little)
///     model/data/0, data/1 …  each storage's raw bytes, stored (not deflated), 64-byte aligned
///     model/version           the serialization version
///
/// The pickle runs on `PickleMachine` with the `TorchPickleHost` allowlist: no code
/// runs, and any other global is refused with its name. Tensors are zero-copy views
/// into the mapped archive at their storage offset, with their strides (a view such
/// as `t.T` or `t[:, 1]` keeps its layout; `canonicalBytes()` gathers it). Nested
/// dicts and lists become dotted names (`TorchStateFlattener`).
enum PyTorchZipReader {
    /// Whether a zip archive is a PyTorch file: it has a `data.pkl` member.
    static func isTorchArchive(_ file: MappedFile) -> Bool {
        guard let directory = try? ZipDirectory(ByteReader(file.bytes, file: file.path)) else { return false }
        return directory.entries.contains { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }
    }

    static func open(_ file: MappedFile) throws -> TensorArchive {
        let archive = ByteReader(file.bytes, file: file.path)
        let directory = try ZipDirectory(archive)
        directory.registerStoredMembers(of: file)
        var members: [String: ZipDirectory.Entry] = [:]
        for entry in directory.entries { members[entry.name] = entry }
        guard let pickle = directory.entries.filter({ $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") })
            .min(by: { $0.name.count < $1.name.count }) else {
            throw archive.malformed(0, expected: "a PyTorch archive with a data.pkl member", found: "none")
        }
        let root = String(pickle.name.dropLast("data.pkl".count))

        var byteOrder = ByteOrder.little
        var metadata: [String: String] = [:]
        if let entry = members[root + "byteorder"] {
            let text = String(decoding: try entry.bytes(in: file).copied(), as: UTF8.self).trimmingWhitespace
            switch text {
            case "little": byteOrder = .little
            case "big": byteOrder = .big
            default: throw FormatError(file: file.path, .malformed(at: .key(entry.name), expected: "\"little\" or \"big\"", found: "\"\(text.prefix(20))\""))
            }
        }
        metadata["byteorder"] = byteOrder.rawValue
        if let entry = members[root + "version"] ?? members[root + ".data/version"], entry.uncompressedSize <= 64 {
            metadata["archive_version"] = String(decoding: try entry.bytes(in: file).copied(), as: UTF8.self).trimmingWhitespace
        }

        let pickleBytes = try pickle.bytes(in: file)
        let flattened = try pickleBytes.withUnsafeBytes { buffer in
            let reader = ByteReader(buffer, file: file.path, member: pickle.name)
            let result = try PickleMachine.load(reader, host: TorchPickleHost(file: file.path))
            var flattener = TorchStateFlattener(file: file.path, location: .key(pickle.name))
            try withExtendedLifetime(result.arena) { try flattener.flatten(result.value) }
            return flattener
        }
        for (key, item) in flattened.metadata { metadata[key] = item }

        var tensors: [StoredTensor] = []
        var seen: Set<String> = []
        for (name, ref) in flattened.tensors {
            guard seen.insert(name).inserted else { throw FormatError(file: file.path, .duplicateName(name)) }
            let memberName = root + "data/" + ref.storage.key
            guard let entry = members[memberName] else {
                throw FormatError(file: file.path, .malformed(at: .key(name), expected: "a member '\(memberName)' holding storage '\(ref.storage.key)'", found: "none"))
            }
            let storage: TorchTensorBuilder.StorageBytes
            switch entry.method {
            case .stored:
                storage = .mapped(file, offset: entry.dataOffset, count: entry.uncompressedSize)
            case .deflated:
                try entry.checkRatio(file)
                storage = .loader(count: entry.uncompressedSize) { try entry.bytes(in: file) }
            }
            tensors.append(try TorchTensorBuilder.tensor(name: name, ref, storage: storage, byteOrder: byteOrder, file: file.path, path: memberName))
        }
        return TensorArchive(file: file.path, format: .pytorch, metadata: metadata, tensors: tensors)
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
