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
    public func inspectJSON(_ options: InspectOptions = InspectOptions()) throws -> JSONValue {
        var tensorObjects: [JSONValue] = []
        for tensor in tensors {
            var members: [(key: String, value: JSONValue)] = [
                ("name", .string(tensor.name)),
                ("dtype", .string(tensor.dtype.name)),
                ("shape", .array(tensor.shape.map { .integer($0) })),
                ("bytes", .integer(tensor.byteCount)),
            ]
            if let path = tensor.path, path != tensor.name { members.append(("path", .string(path))) }
            for (key, value) in tensor.attributes.sorted(by: { $0.key < $1.key }) { members.append((key, .string(value))) }
            if options.checksums { members.append(("sha256", .string(try tensor.sha256()))) }
            if options.statistics, tensor.dtype.isNumeric {
                if let statistics = try TensorStatistics(tensor) {
                    members += [
                        ("min", .double(statistics.minimum)), ("max", .double(statistics.maximum)),
                        ("mean", .double(statistics.mean)), ("std", .double(statistics.standardDeviation)),
                    ]
                }
            }
            tensorObjects.append(.object(members))
        }
        var model: [(key: String, value: JSONValue)] = []
        if let description = try kerasModel() {
            model = [
                ("class", .string(description.topology == .sequential ? "Sequential" : "Functional")),
                ("name", .string(description.name)),
                ("input_shape", description.inputShape.map { .array($0.map { $0.map(JSONValue.integer) ?? .null }) } ?? .null),
                ("layers", .array(description.layers.map { .object([("name", .string($0.name)), ("class", .string($0.className))]) })),
                ("unsupported", .array(description.unsupported.map { .object([("name", .string($0.layer)), ("class", .string($0.className)), ("reason", .string($0.reason))]) })),
            ]
        }
        return .object([
            ("file", .string(file)),
            ("format", .string(format.name)),
            ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("tensors", .array(tensorObjects)),
            ("skipped", .array(skipped.map { .object([("path", .string($0.path)), ("reason", .string($0.reason))]) })),
            ("tensor_count", .integer(tensors.count)),
            ("parameters", .integer(elementCount)),
            ("total_bytes", .integer(byteCount)),
        ] + (model.isEmpty ? [] : [("model", .object(model))]))
    }
}
