/// Writes `ONNXModel`s as `.onnx` files that onnx, onnxruntime and `ONNXReader` load: one
/// `ModelProto`, fields in field-number order, every tensor as little-endian `raw_data`.
///
/// A protobuf message cannot exceed 2 GB, so a model whose encoding would is written with its
/// tensors as external data (as `onnx.save(…, save_as_external_data=True)` does): the model
/// file `NAME.onnx` holds the graph and, for each tensor of at least `minimumExternalBytes`,
/// a location (`NAME.onnx.data`, beside it), an offset (a multiple of 4096, the alignment the
/// proto recommends so the data can be mapped) and a length. Both files are written atomically
/// (a temporary file renamed into place), the data file first. A tensor's `external` (where it
/// was read from) is not reused: its bytes are written where this writer puts them.
///
/// Fields `ONNXModel` does not keep (training info, functions, nodes' `metadata_props`, doc
/// strings of nodes and tensors) are not written; a model from the TorchScript exporter is
/// rewritten byte for byte.
public enum ONNXWriter {
    /// The largest protobuf message: 2 GB − 1 bytes (2³¹ − 1).
    public static let protobufLimit = Int(Int32.max)
    /// Tensors smaller than this stay inline even in a model with external data (onnx's default threshold).
    public static let minimumExternalBytes = 1024
    /// External data offsets are multiples of this.
    public static let externalAlignment = 4096

    /// Where the tensors go.
    public enum ExternalData: Sendable, Equatable {
        /// Inline, unless the model file would exceed `protobufLimit`: then external.
        case automatic
        /// Every tensor of at least `minimumExternalBytes` in `NAME.onnx.data`.
        case always
        /// Inline; a model over `protobufLimit` is refused.
        case never
    }

    /// Writes `model` to `path` atomically; with external data, also `path + ".data"`.
    /// - Parameters:
    ///   - model: the model; its tensors' bytes are read (once) while writing.
    ///   - path: the `.onnx` file.
    ///   - externalData: where the tensors go (`automatic`: inline below 2 GB).
    /// - Returns: the path of the external data file, if one was written.
    /// - Throws: `FormatError` `.cannotRepresent` (a tensor whose elements do not match its
    ///   type and dims, an attribute type Zoo keeps no value for, a model over 2 GB with
    ///   `.never`) or `.writeFailed`.
    @discardableResult
    public static func write(_ model: ONNXModel, to path: String, externalData: ExternalData = .automatic) throws -> String? {
        try write(model, to: path, externalData: externalData, limit: protobufLimit)
    }

    /// `write` with `limit` in place of `protobufLimit` (tests try the switch to external data on small models).
    static func write(_ model: ONNXModel, to path: String, externalData: ExternalData, limit: Int) throws -> String? {
        var segments = try encode(model, file: path, external: nil)
        var dataPath: String?
        var placed: [StoredTensor] = []
        let goesExternal = externalData == .always || (externalData == .automatic && segments.count > limit)
        if goesExternal {
            let location = (path.split(separator: "/").last.map(String.init) ?? path) + ".data"
            var offset = 0
            segments = try encode(model, file: path, external: { tensor in
                offset = (offset + externalAlignment - 1) / externalAlignment * externalAlignment
                defer { offset += tensor.byteCount }
                placed.append(tensor)
                return ONNXTensor.External(location: location, offset: offset, length: tensor.byteCount)
            })
            dataPath = ONNXExternalFiles.directory(of: path) + "/" + location
        }
        guard segments.count <= limit else {
            throw FormatError(file: path, .cannotRepresent(what: "a model of \(segments.count) bytes", why: "a protobuf message holds at most \(limit) bytes: write its tensors as external data"))
        }
        if let dataPath {
            let data = try AtomicFile(destination: dataPath)
            for tensor in placed {
                let padding = (externalAlignment - data.position % externalAlignment) % externalAlignment
                if padding > 0 { try data.write([UInt8](repeating: 0, count: padding)) }
                try tensor.canonicalBytes().withUnsafeBytes { try data.write($0) }
            }
            try data.commit()
        }
        let file = try AtomicFile(destination: path)
        try segments.write(to: file)
        try file.commit()
        return dataPath
    }

    /// The bytes of `model` with every tensor inline (`raw_data`), as `write(_:to:externalData: .never)` writes them.
    /// - Throws: `.cannotRepresent` as `write`, or for a model over `protobufLimit`.
    public static func encode(_ model: ONNXModel) throws -> [UInt8] {
        let segments = try encode(model, file: "<memory>", external: nil)
        guard segments.count <= protobufLimit else {
            throw FormatError(file: "<memory>", .cannotRepresent(what: "a model of \(segments.count) bytes", why: "a protobuf message holds at most \(protobufLimit) bytes"))
        }
        return try segments.encoded()
    }

    /// `model` encoded; `external` places the tensors of at least `minimumExternalBytes` (nil: all inline).
    static func encode(_ model: ONNXModel, file: String, external: ((StoredTensor) -> ONNXTensor.External)?) throws -> ProtoSegments {
        let encoder = ONNXEncoder(
            file: file,
            externalize: { external != nil && $0.tensor.byteCount >= minimumExternalBytes },
            place: { external?($0) ?? ONNXTensor.External(location: "") })
        return try encoder.model(model)
    }
}
