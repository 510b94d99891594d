/// An ONNX model as a `TensorArchive`: what `zoo inspect`, `zoo convert` and `zoo assign`
/// see of a `.onnx` file.
///
/// The tensors are the main graph's initializers (the weights), in file order, named as the
/// graph names them. `Constant` nodes' values and the initializers of subgraphs (If/Loop
/// bodies) are graph structure, not weights, and are left to `ONNXModel`; `STRING`
/// initializers are listed as skipped. The metadata holds `ir_version`, `opset_import`
/// (`ai.onnx=17,com.microsoft=1`), `producer_name`, `producer_version`, `domain`,
/// `model_version`, `graph_name` (those that are set) and the `metadata_props` pairs.
/// `modelConfig` is nil: the graph is read by the ONNX importer, not as a Keras config.
extension ONNXReader {
    /// Reads `file` as an ONNX model and lists its initializers.
    /// - Throws: the reader's `FormatError`s; `.duplicateName` for two initializers of one name.
    static func open(_ file: MappedFile) throws -> TensorArchive {
        try archive(of: read(file), file: file.path)
    }

    /// The initializers of `model` (read from `file`) as named tensors, with the model's metadata.
    /// - Throws: `.duplicateName` for two initializers of one name.
    static func archive(of model: ONNXModel, file: String) throws -> TensorArchive {
        var tensors: [StoredTensor] = []
        var skipped: [SkippedEntry] = []
        var names: Set<String> = []
        for (index, initializer) in model.graph.initializers.enumerated() {
            let path = "graph.initializer[\(index)]"
            guard initializer.dataTypeNumber != ONNXDataType.string.rawValue else {
                skipped.append(SkippedEntry(path: path, reason: "a STRING tensor '\(initializer.name)' (Zoo reads numeric tensors)"))
                continue
            }
            guard !initializer.name.isEmpty else {
                skipped.append(SkippedEntry(path: path, reason: "an initializer without a name"))
                continue
            }
            guard names.insert(initializer.name).inserted else { throw FormatError(file: file, .duplicateName(initializer.name)) }
            tensors.append(initializer.tensor)
        }
        return TensorArchive(file: file, format: .onnx, metadata: metadata(of: model), tensors: tensors, skipped: skipped)
    }

    /// The model's descriptive fields as string pairs (unset fields left out), then its `metadata_props`.
    static func metadata(of model: ONNXModel) -> [String: String] {
        var metadata: [String: String] = [:]
        for pair in model.metadataProps { metadata[pair.key] = pair.value }
        metadata["ir_version"] = String(model.irVersion)
        metadata["opset_import"] = model.opsetImports.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain)=\($0.version)" }.joined(separator: ",")
        let optional = [
            ("producer_name", model.producerName), ("producer_version", model.producerVersion), ("domain", model.domain),
            ("graph_name", model.graph.name), ("model_version", model.modelVersion == 0 ? "" : String(model.modelVersion)),
        ]
        for (key, value) in optional where !value.isEmpty { metadata[key] = value }
        return metadata
    }
}
