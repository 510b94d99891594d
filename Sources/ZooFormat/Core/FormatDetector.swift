/// Decides a file's format from its first bytes; only ONNX, which has no magic, is known by
/// its structure, with the name `*.onnx` as a last hint for a damaged model.
public enum FormatDetector {
    /// The format of a mapped file.
    /// - Throws: `.empty` for a 0-byte file, `.unknownFormat` with the first bytes otherwise.
    static func detect(_ file: MappedFile) throws -> TensorFileFormat {
        let bytes = file.bytes
        guard bytes.count > 0 else { throw FormatError(file: file.path, .empty) }
        let head = Array(bytes.prefix(16))
        if head.starts(with: NPYHeader.magic) { return .npy }
        if head.starts(with: HDF5Reader.signature) { return .hdf5 }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            if try KerasArchiveReader.isKerasArchive(file) { return .keras }
            return PyTorchZipReader.isTorchArchive(file) ? .pytorch : .npz
        }
        if head.starts(with: PyTorchLegacyReader.magic) { return .pytorch }
        // HDF5 after a user block (whose bytes are the user's: checked before guessing safetensors).
        if HDF5Reader.superblockOffset(bytes) != nil { return .hdf5 }
        // A TensorFlow .index (an SSTable) is known by the magic ending its footer.
        if SSTable.hasMagic(bytes) { return .tfCheckpoint }
        // ONNX: a whole protobuf ModelProto (checked before safetensors' weaker test).
        if ONNXReader.looksLikeModel(bytes) { return .onnx }
        // safetensors: an 8-byte little-endian header length, then '{'.
        if bytes.count >= 9, bytes[8] == UInt8(ascii: "{") { return .safetensors }
        if IDXReader.looksLikeIDX(bytes) { return .idx }
        if ONNXReader.isNamedLikeModel(file) { return .onnx }
        throw FormatError(file: file.path, .unknownFormat(found: Array(head.prefix(8))))
    }
}
