/// Reads Keras 3 `.keras` archives: a zip holding `config.json` (the model),
/// `metadata.json` (Keras version, date) and `model.weights.h5` (the weights,
/// in the Keras 3 HDF5 layout).
///
///     model.save("model.keras")
///
/// A stored weights member is opened in place: its contiguous datasets stay
/// zero-copy views of the mapped archive.
enum KerasArchiveReader {
    static let weightsMember = "model.weights.h5"

    /// Whether a zip archive is a `.keras` file (rather than a `.npz`).
    static func isKerasArchive(_ file: MappedFile) throws -> Bool {
        let directory = try ZipDirectory(ByteReader(file.bytes, file: file.path))
        let names = Set(directory.entries.map(\.name))
        return names.contains("config.json") && names.contains(weightsMember)
    }

    static func open(_ file: MappedFile) throws -> TensorArchive {
        let reader = ByteReader(file.bytes, file: file.path)
        let directory = try ZipDirectory(reader)
        directory.registerStoredMembers(of: file)
        func member(_ name: String) throws -> TensorBytes? {
            guard let entry = directory.entries.first(where: { $0.name == name }) else { return nil }
            return try entry.bytes(in: file)
        }
        var config: JSONValue?
        if let bytes = try member("config.json") {
            config = try bytes.withUnsafeBytes { buffer in
                try KerasH5Layout.parseConfig(String(decoding: buffer, as: UTF8.self), file: file.path, key: "config.json")
            }
        }
        var metadata: [String: String] = [:]
        if let bytes = try member("metadata.json") {
            let value = try bytes.withUnsafeBytes { buffer in
                try KerasH5Layout.parseConfig(String(decoding: buffer, as: UTF8.self), file: file.path, key: "metadata.json")
            }
            for (key, item) in value.objectMembers ?? [] {
                metadata[key] = item.stringValue ?? item.compactText
            }
        }
        guard let entry = directory.entries.first(where: { $0.name == weightsMember }), let weights = try member(weightsMember) else {
            throw reader.malformed(0, expected: "a .keras archive with \(weightsMember)", found: "none")
        }
        let path = file.path + "/" + weightsMember
        let hdf5 = try weights.withUnsafeBytes { bytes in
            try HDF5File(path: path, image: bytes, container: entry.method == .stored ? file : nil, offset: entry.dataOffset)
        }
        var archive = try HDF5Reader.read(hdf5, modelConfig: config, format: .keras)
        archive = TensorArchive(
            file: file.path, format: .keras, metadata: archive.metadata.merging(metadata) { $1 },
            tensors: archive.tensors, skipped: archive.skipped, modelConfig: config)
        return archive
    }
}
