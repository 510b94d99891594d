/// Reads ONNX models (`.onnx`: one protobuf `ModelProto`, https://github.com/onnx/onnx/blob/main/onnx/onnx.proto)
/// into `ONNXModel`, without generated code and without copying tensor bytes:
///
/// - `raw_data` tensors are views of the mapped file (`TensorSource.mapped`);
/// - the typed fields (`float_data`, `int32_data` — which also carries float16, bfloat16, int8,
///   uint8, int16, uint16, bool and float8 —, `int64_data`, `double_data`, `uint64_data`),
///   packed or not, are decoded into the declared dtype;
/// - external data (`data_location = EXTERNAL`, as `onnx.save(…, save_as_external_data=True)`
///   writes it, and as every model over protobuf's 2 GB limit must be stored) is mapped from
///   files in the model's directory, never outside it.
///
/// Everything read is bounded by the file: dims must be non-negative and their product fit,
/// each tensor's bytes must equal `dims × itemsize`, strings and lists lie inside their message,
/// graphs (the bodies of If, Loop, Scan) nest at most `maximumGraphDepth` deep. Errors are
/// `FormatError`s naming the file, the offset (from the start of the file) or the key
/// (`graph.initializer[3] 'conv1.weight'`), what was expected and what was found.
public enum ONNXReader {
    /// Most levels of graphs in attributes (the model's graph is level 1).
    public static let maximumGraphDepth = 32

    /// Reads the model at `path`; external data is looked for in its directory.
    /// - Throws: `FormatError` (`.notFound`, `.malformed`, `.truncated`, `.shapeOverflow`, …).
    public static func read(_ path: String) throws -> ONNXModel {
        try read(MappedFile(path: path))
    }

    /// The model at `path` when the file is ONNX by its structure (as `TensorArchive.open` tells
    /// formats apart) and reads as one; nil for any other file, a missing or a damaged one.
    public static func modelIfONNX(at path: String) -> ONNXModel? {
        guard let file = try? MappedFile(path: path), (try? FormatDetector.detect(file)) == .onnx else { return nil }
        return try? read(file)
    }

    /// Reads the model in `file`; external data is looked for in the directory of `file.path`
    /// (and refused for bytes held in memory).
    /// - Throws: `FormatError` for anything that is not a well-formed ONNX model.
    public static func read(_ file: MappedFile) throws -> ONNXModel {
        try read(file, externalDataDirectory: file.isInMemory ? nil : ONNXExternalFiles.directory(of: file.path))
    }

    /// Reads the model in `file`, its external data relative to `externalDataDirectory` (nil refuses it).
    static func read(_ file: MappedFile, externalDataDirectory: String?, maximumItems: Int = ONNXItemBudget.maximumItems) throws -> ONNXModel {
        try ONNXDecoder(file: file, external: ONNXExternalFiles(model: file.path, directory: externalDataDirectory), maximumItems: maximumItems).model()
    }
}
