/// What `zoo inspect --json` prints: a contract scripts rely on. Later
/// readers add keys; none is ever renamed or removed.
///
///     {"file": "w.safetensors", "format": "safetensors", "metadata": {…},
///      "tensors": [{"name": "hidden1/kernel", "dtype": "float32", "shape": [784, 300],
///                   "bytes": 940800, "sha256": "…", "min": …, "max": …, "mean": …, "std": …}],
///      "tensor_count": 6, "parameters": 266610, "total_bytes": 1066440}
public struct InspectOptions: Sendable {
    /// Add each tensor's SHA-256 (of its elements in the stored dtype, little-endian, C order).
    public var checksums = false
    /// Add each tensor's min, max, mean and standard deviation.
    public var statistics = false
    /// Options; the defaults list names, dtypes, shapes and sizes only.
    public init(checksums: Bool = false, statistics: Bool = false) {
        self.checksums = checksums
        self.statistics = statistics
    }
}

extension TensorArchive {
    /// The `inspect --json` object for this archive.
    ///
    /// Tensors that cannot be read (see `inspect(_:)`) are listed under `"skipped"` with the reason.
    public func inspectJSON(_ options: InspectOptions = InspectOptions()) throws -> JSONValue {
        try inspectJSON(options, inspection: try inspect(options))
    }

    /// The `inspect --json` object from an `inspect(_:)` already made with the same `options`.
    public func inspectJSON(_ options: InspectOptions, inspection: (tensors: [InspectedTensor], unreadable: [SkippedEntry])) throws -> JSONValue {
        let (inspected, unreadable) = inspection
        var tensorObjects: [JSONValue] = []
        for item in inspected {
            let tensor = item.tensor
            var members: [(key: String, value: JSONValue)] = [
                ("name", .string(tensor.name)),
                ("dtype", .string(tensor.dtype.name)),
                ("shape", .array(tensor.shape.map { .integer($0) })),
                ("bytes", .integer(tensor.byteCount)),
            ]
            if let path = tensor.path, path != tensor.name { members.append(("path", .string(path))) }
            for (key, value) in tensor.attributes.sorted(by: { $0.key < $1.key }) { members.append((key, .string(value))) }
            if let digest = item.sha256 { members.append(("sha256", .string(digest))) }
            if options.statistics, tensor.dtype.isNumeric {
                if let statistics = item.statistics {
                    members += [
                        ("min", .double(statistics.minimum)), ("max", .double(statistics.maximum)),
                        ("mean", .double(statistics.mean)), ("std", .double(statistics.standardDeviation)),
                    ]
                }
            }
            tensorObjects.append(.object(members))
        }
        var model: [(key: String, value: JSONValue)] = []
        if let graph = try kerasGraph() {
            func shape(_ dims: [Int?]) -> JSONValue { .array(dims.map { $0.map(JSONValue.integer) ?? .null }) }
            func input(_ input: KerasGraph.Input) -> JSONValue {
                switch input {
                case .node(let name): return .string(name)
                case .constant(let value): return .object([("constant", value)])
                }
            }
            model = [
                ("class", .string(graph.isSequential ? "Sequential" : "Functional")),
                ("name", .string(graph.name)),
                ("input_shape", graph.inputs.first.map { shape($0.shape) } ?? .null),
                ("layers", .array(graph.nodes.map { .object([("name", .string($0.name)), ("class", .string($0.className))]) })),
                ("graph", .object([
                    ("inputs", .array(graph.inputs.map { .object([("name", .string($0.name)), ("shape", shape($0.shape))]) })),
                    ("nodes", .array(graph.nodes.map { node in
                        .object([("name", .string(node.name)), ("layer", .string(node.layer)), ("class", .string(node.className)),
                                 ("inputs", .array(node.inputs.map(input))),
                                 ("keywords", .object(node.keywords.sorted { $0.key < $1.key }.map { ($0.key, input($0.value)) }))])
                    })),
                    ("outputs", .array(graph.outputs.map(JSONValue.string))),
                ])),
                ("branch_points", .array(graph.branchPoints.map { .object([("node", .string($0.node)), ("consumers", .integer($0.consumers))]) })),
            ]
        }
        return .object([
            ("file", .string(file)),
            ("format", .string(format.name)),
            ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("tensors", .array(tensorObjects)),
            ("skipped", .array((skipped + unreadable).map { .object([("path", .string($0.path)), ("reason", .string($0.reason))]) })),
            ("tensor_count", .integer(inspected.count)),
            ("parameters", .integer(inspected.reduce(0) { $0 + $1.tensor.elementCount })),
            ("total_bytes", .integer(inspected.reduce(0) { $0 + $1.tensor.byteCount })),
        ] + (model.isEmpty ? [] : [("model", .object(model))]))
    }
}
