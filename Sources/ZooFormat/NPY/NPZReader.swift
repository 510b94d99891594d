/// Reads `.npz` archives: a zip of `.npy` members, as `np.savez` and
/// `np.savez_compressed` write them.
///
///     np.savez("w.npz", **{"hidden1/kernel": k})   # member "hidden1/kernel.npy" → tensor "hidden1/kernel"
///
/// Stored members are zero-copy views into the mapped archive, their CRC-32 checked at
/// the first read (see `StoredMemberChecks`). Deflated members
/// have only their `.npy` header inflated when the archive is opened; the data
/// is inflated (and its CRC-32 checked) when the tensor is read.
enum NPZReader {
    static func open(_ file: MappedFile) throws -> TensorArchive {
        let archive = ByteReader(file.bytes, file: file.path)
        let directory = try ZipDirectory(archive)
        directory.registerStoredMembers(of: file)
        var tensors: [StoredTensor] = []
        var skipped: [String] = []
        var seen: Set<String> = []
        for entry in directory.entries {
            guard entry.name.hasSuffix(".npy") else {
                if !entry.name.hasSuffix("/") { skipped.append(entry.name) }
                continue
            }
            let name = String(entry.name.dropLast(4))
            guard seen.insert(name).inserted else { throw FormatError(file: file.path, .duplicateName(name)) }
            tensors.append(try readMember(entry, name: name, file: file))
        }
        if tensors.isEmpty && !skipped.isEmpty {
            throw archive.malformed(0, expected: "a .npz archive with .npy members", found: "a zip archive of " + skipped.prefix(5).joined(separator: ", "))
        }
        var metadata: [String: String] = [:]
        if !skipped.isEmpty { metadata["skipped_members"] = skipped.joined(separator: ",") }
        return TensorArchive(file: file.path, format: .npz, metadata: metadata, tensors: tensors)
    }

    private static func readMember(_ entry: ZipDirectory.Entry, name: String, file: MappedFile) throws -> StoredTensor {
        let compressed = UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataOffset..<entry.dataOffset + entry.compressedSize])
        switch entry.method {
        case .stored:
            let reader = ByteReader(compressed, file: file.path, member: entry.name)
            return try NPYReader.readTensor(named: name, path: entry.name, reader: reader) { offset, count in
                .mapped(file, offset: entry.dataOffset + offset, count: count)
            }
        case .deflated:
            try Deflate.checkSize(entry.uncompressedSize, from: entry.compressedSize, file: file.path, member: entry.name)
            // Inflate enough for the header; a longer header (up to 65535 bytes in
            // version 1.0, more in 2.0/3.0) asks for more.
            var prefix = try Deflate.inflatePrefix(compressed, limit: min(entry.uncompressedSize, 4096), file: file.path, member: entry.name)
            if prefix.count >= 12 {
                let preamble = prefix[6] >= 2 ? 12 : 10
                let length = prefix[8..<preamble].reversed().reduce(0) { $0 << 8 | Int($1) }
                let wanted = min(entry.uncompressedSize, min(length, NPYHeader.maximumHeaderLength) + preamble)
                if wanted > prefix.count {
                    prefix = try Deflate.inflatePrefix(compressed, limit: wanted, file: file.path, member: entry.name)
                }
            }
            let header = try prefix.withUnsafeBytes { bytes in
                try NPYHeader.parse(ByteReader(bytes, file: file.path, member: entry.name))
            }
            let dataCount = entry.uncompressedSize - header.dataOffset
            let path = file.path
            let source = TensorSource.loader(byteCount: max(dataCount, 0)) {
                let member = UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataOffset..<entry.dataOffset + entry.compressedSize])
                let inflated = try withExtendedLifetime(file) {
                    try Deflate.inflate(member, outputCount: entry.uncompressedSize, crc: entry.crc32, file: path, member: entry.name)
                }
                // The compressed bytes are read once: drop them from this process (they stay in the page cache).
                file.release(offset: entry.dataOffset, count: entry.compressedSize)
                return TensorBytes(
                    buffer: UnsafeRawBufferPointer(rebasing: inflated.buffer[header.dataOffset...]), owner: inflated.owner)
            }
            let strides = header.fortranOrder ? fortranStrides(header.shape) : contiguousStrides(header.shape)
            return try StoredTensor(
                name: name, dtype: header.dtype, shape: header.shape, strides: strides, byteOrder: header.byteOrder,
                source: source, file: file.path, path: entry.name)
        }
    }
}
