/// A tensors-only ONNX model: what `zoo convert w.npz w.onnx` writes.
extension ONNXModel {
    /// The IR version and opset of a tensors-only model (onnxruntime 1.14 and later, onnx 1.12 and later load it).
    public static let weightsIRVersion: Int64 = 8
    /// The default-domain opset of a tensors-only model.
    public static let weightsOpset: Int64 = 17

    /// A model of `tensors` alone: a graph without nodes whose initializers are the tensors,
    /// each also a graph output (so `onnx.checker.check_model(full_check=True)` accepts it and
    /// onnxruntime, run on no inputs, returns the tensors), `producer_name` `zoo` and `metadata`
    /// as `metadata_props` (sorted by key). It carries no computation: converting a model's
    /// graph is the ONNX exporter's work.
    /// - Parameters:
    ///   - tensors: the tensors, with distinct non-empty names.
    ///   - metadata: string pairs for `metadata_props`.
    /// - Throws: `.duplicateName`, or `.cannotRepresent` for an empty name or a dtype ONNX lacks.
    public init(weights tensors: [StoredTensor], metadata: [String: String] = [:]) throws {
        var names: Set<String> = []
        var initializers: [ONNXTensor] = []
        var outputs: [ONNXValueInfo] = []
        for tensor in tensors {
            guard !tensor.name.isEmpty else {
                throw FormatError(file: tensor.file, .cannotRepresent(what: "a tensor without a name", why: "ONNX initializers are named"))
            }
            guard names.insert(tensor.name).inserted else { throw FormatError(file: tensor.file, .duplicateName(tensor.name)) }
            let initializer = try ONNXTensor(name: tensor.name, tensor)
            initializers.append(initializer)
            outputs.append(ONNXValueInfo(name: tensor.name, elementType: initializer.dataType, shape: tensor.shape.map { .value($0) }))
        }
        self.init(
            irVersion: Self.weightsIRVersion, opsetImports: [ONNXOperatorSet(version: Self.weightsOpset)], producerName: "zoo",
            graph: ONNXGraph(name: "weights", nodes: [], initializers: initializers, inputs: [], outputs: outputs),
            metadataProps: metadata.sorted { $0.key < $1.key }.map { ONNXStringPair(key: $0.key, value: $0.value) })
    }
}
