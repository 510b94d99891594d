import ZooFormat

/// ONNX model files in the registry: `zoo import model.onnx`, and any command taking MODEL a
/// `.onnx` file. The manifest's architecture is the converted graph, `weights.format` is `onnx`
/// and the weights are the graph's initializers, read through the graph again on loading (each
/// in the layout its node needs), so `weights.mapping` is not used.
extension Importer {
    /// The ONNX conversion of `request.file` when it is an ONNX model whose own graph is the
    /// architecture; nil for other files and architecture sources, and for ONNX files of tensors
    /// only (initializers, no nodes: `zoo convert`'s tensor files).
    static func onnxImport(_ request: ImportRequest, archive: TensorArchive) throws -> ONNXImportedNetwork? {
        guard archive.format == .onnx, case .weightsFile = request.architecture else { return nil }
        let model = try ONNXReader.read(request.file)
        guard !model.graph.nodes.isEmpty else { return nil }
        return try ONNXGraphImporter.convert(model, inputShapes: request.inputShape.map { [$0] })
    }

    /// A converted ONNX graph as an import's base: its labels and input settings from the
    /// model's `zoo.labels` and `zoo.preprocessing` metadata when it has them.
    static func base(from onnx: ONNXImportedNetwork) -> BaseArchitecture {
        BaseArchitecture(description: onnx.description, labels: onnx.labels, preprocessing: onnx.input?.preprocessing, image: onnx.input?.image)
    }

    /// The ONNX producer as provenance (`pytorch 2.15.0`).
    static func provenance(of onnx: ONNXImportedNetwork) -> Provenance {
        Provenance(framework: onnx.producer.name.isEmpty ? "unknown" : onnx.producer.name,
                   frameworkVersion: onnx.producer.version.isEmpty ? "unknown" : onnx.producer.version)
    }

    /// A registered ONNX model's weights: the file's graph converted again for the manifest's
    /// input shape (the same node names as at import), its initializers in the engine's layouts.
    static func onnxWeights(_ path: String, inputShape: [Int]) throws -> [MappedTensor] {
        try ONNXGraphImporter.convert(ONNXReader.read(path), inputShapes: [inputShape]).mappedTensors()
    }
}
