/// Recognizing an ONNX model, a format without magic bytes: a `ModelProto` whose top-level
/// fields are walked (not decoded) and must all be ModelProto's, with their wire types, ending
/// exactly at the end of the file — in practice `08 xx` (ir_version) first.
extension ONNXReader {
    /// ModelProto's field numbers and their wire types (onnx.proto, IR version 11).
    static let modelFields: [Int: Int] = [1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2]

    /// Whether `bytes` are a whole ModelProto: `ir_version` (1–255) first, then only ModelProto
    /// fields with their wire types, a graph among them, every length inside the file, and
    /// nothing after the last field. Linear in the number of top-level fields.
    static func looksLikeModel(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4, bytes[0] == 0x08 else { return false }
        var reader = ProtoReader(bytes, file: "", context: "")
        var first = true
        var hasGraph = false
        do {
            while let field = try reader.nextField() {
                guard modelFields[field.number] == field.wireType else { return false }
                if first {
                    guard field.number == 1, (1...255).contains(try reader.varint()) else { return false }
                    first = false
                    continue
                }
                if field.number == 7 { hasGraph = true }
                try reader.skip(field.wireType)
            }
        } catch {
            return false
        }
        return hasGraph
    }

    /// Whether a file named `*.onnx` starts as a ModelProto does (a key of one of its fields):
    /// the name as a hint, so a damaged model gets the reader's precise error, not "unknown format".
    static func isNamedLikeModel(_ file: MappedFile) -> Bool {
        guard file.path.lowercased().hasSuffix(".onnx"), let (key, _) = ProtoReader.varint(file.bytes, at: 0) else { return false }
        return modelFields[Int(key >> 3)] == Int(key & 7)
    }
}
