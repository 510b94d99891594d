/// Writes `.npy` files as `np.save` does: a version 1.0 header (2.0 when
/// larger than 64 KiB), data aligned to 64 bytes, C order, little-endian.
public enum NPYWriter {
    /// Writes one tensor to `path` atomically.
    public static func write(_ tensor: StoredTensor, to path: String) throws {
        let header = try header(for: tensor, destination: path)
        let file = try AtomicFile(destination: path)
        try file.write(header)
        try tensor.canonicalBytes().withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    /// The `.npy` header bytes for `tensor`.
    static func header(for tensor: StoredTensor, destination: String) throws -> [UInt8] {
        guard let descr = NPYDescr.descr(for: tensor.dtype) else {
            throw FormatError(file: destination, .cannotRepresent(what: "'\(tensor.name)' (\(tensor.dtype.name))", why: "NumPy has no \(tensor.dtype.name) dtype; cast it to float32 first (ConvertOptions.floatType)"))
        }
        return NPYHeader.encode(descr: descr, shape: tensor.shape)
    }
}
