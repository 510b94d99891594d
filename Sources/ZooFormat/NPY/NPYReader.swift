/// Reads `.npy` arrays: a whole file, or a member of a `.npz` archive.
enum NPYReader {
    /// Opens a mapped `.npy` file as one tensor named after the file (`kernel.npy` → `kernel`).
    static func open(_ file: MappedFile) throws -> TensorArchive {
        let reader = ByteReader(file.bytes, file: file.path)
        let tensor = try readTensor(
            named: tensorName(forPath: file.path), reader: reader,
            source: { offset, count in .mapped(file, offset: offset, count: count) })
        return TensorArchive(file: file.path, format: .npy, tensors: [tensor])
    }

    /// Reads the header in `reader` and describes the data that follows it.
    ///
    /// - Parameter source: makes the source for `count` data bytes at `offset` of `reader`'s bytes.
    static func readTensor(
        named name: String, path: String? = nil, reader: ByteReader,
        source: (_ offset: Int, _ count: Int) -> TensorSource
    ) throws -> StoredTensor {
        let header = try NPYHeader.parse(reader)
        let available = reader.count - header.dataOffset
        let strides = header.fortranOrder ? fortranStrides(header.shape) : contiguousStrides(header.shape)
        do {
            return try StoredTensor(
                name: name, dtype: header.dtype, shape: header.shape, strides: strides,
                byteOrder: header.byteOrder, source: source(header.dataOffset, available),
                file: reader.file, path: path)
        } catch let error as FormatError {
            // Report truncation at the data's offset, where the user can look.
            if case .truncated(_, let needed, let available, let what) = error.reason {
                throw FormatError(file: reader.file, .truncated(at: reader.location(header.dataOffset), needed: needed, available: available, what: what))
            }
            throw error
        }
    }

    /// `dir/hidden1.kernel.npy` → `hidden1.kernel`.
    static func tensorName(forPath path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        return base.hasSuffix(".npy") ? String(base.dropLast(4)) : base
    }
}
