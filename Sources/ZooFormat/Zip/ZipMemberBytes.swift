extension ZipDirectory.Entry {
    /// The member's bytes, CRC-checked: a view of `file` when stored, inflated when deflated
    /// (its declared sizes checked against a compression-ratio bound first).
    /// - Throws: ``FormatError`` for a CRC that does not match, a truncated member, an
    ///   implausible ratio or a deflate stream that does not inflate.
    func bytes(in file: MappedFile) throws -> TensorBytes {
        switch method {
        case .stored:
            return try StoredTensor.verifiedView(file, offset: dataOffset, count: uncompressedSize)
        case .deflated:
            try checkRatio(file)
            let member = UnsafeRawBufferPointer(rebasing: file.bytes[dataOffset..<dataOffset + compressedSize])
            return try withExtendedLifetime(file) {
                try Deflate.inflate(member, outputCount: uncompressedSize, crc: crc32, file: file.path, member: name)
            }
        }
    }

    /// Refuses a deflated member whose declared size is implausible for its compressed size.
    func checkRatio(_ file: MappedFile) throws {
        try Deflate.checkSize(uncompressedSize, from: compressedSize, file: file.path, member: name)
    }
}
