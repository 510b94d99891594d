/// Writes `.npz` archives as `np.savez` (stored) or `np.savez_compressed`
/// (deflated) do: one `NAME.npy` member per tensor, in the given order.
public enum NPZWriter {
    /// Writes `tensors` to `path` atomically.
    /// - Parameters:
    ///   - tensors: the tensors, each stored as `NAME.npy`.
    ///   - path: the file to write.
    ///   - compressed: deflate each member, as `np.savez_compressed`.
    /// - Throws: ``FormatError`` with `.duplicateName`, `.cannotRepresent` or `.writeFailed`.
    public static func write(_ tensors: [StoredTensor], to path: String, compressed: Bool = false) throws {
        var names: Set<String> = []
        for tensor in tensors where !names.insert(tensor.name).inserted {
            throw FormatError(file: path, .duplicateName(tensor.name))
        }
        let file = try AtomicFile(destination: path)
        let zip = ZipWriter(file: file)
        for tensor in tensors {
            let header = try NPYWriter.header(for: tensor, destination: path)
            let data = try tensor.canonicalBytes()
            try header.withUnsafeBytes { headerBytes in
                try data.withUnsafeBytes { dataBytes in
                    if compressed {
                        try zip.addDeflated(name: tensor.name + ".npy", parts: [headerBytes, dataBytes])
                    } else {
                        try zip.addStored(name: tensor.name + ".npy", parts: [headerBytes, dataBytes])
                    }
                }
            }
        }
        try zip.finish()
        try file.commit()
    }
}
