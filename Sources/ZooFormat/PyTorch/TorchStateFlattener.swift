/// Turns an unpickled checkpoint into dotted tensor names and metadata:
///
///     {"hidden1.weight": T, …}                            → hidden1.weight
///     {"model_state": {"0.weight": T}, "epoch": 3}       → model_state.0.weight; metadata epoch = "3"
///     {"optimizer": {"state": {0: {"exp_avg": T}}}}       → optimizer.state.0.exp_avg
///     [T, T]                                              → 0, 1
///
/// Dicts are walked by key (strings as they are, integers in decimal), lists and
/// tuples by index. A value that is not a tensor or container becomes metadata
/// under its dotted name, written as Python would print it (strings unquoted);
/// a list of such values becomes one metadata entry. Depth and the number of
/// values visited are bounded (a pickle can make a list contain itself).
struct TorchStateFlattener {
    static let maximumDepth = 64
    static let maximumVisits = 1 << 20

    let file: String
    let location: FileLocation
    private(set) var tensors: [(name: String, tensor: TorchTensorRef)] = []
    private(set) var metadata: [String: String] = [:]
    private var visits = 0

    init(file: String, location: FileLocation) {
        self.file = file
        self.location = location
    }

    mutating func flatten(_ value: PickleValue) throws {
        try walk(value, prefix: "", depth: 0)
    }

    private mutating func walk(_ value: PickleValue, prefix: String, depth: Int) throws {
        visits += 1
        guard depth <= Self.maximumDepth, visits <= Self.maximumVisits else {
            throw FormatError(file: file, .malformed(
                at: location, expected: "containers nested at most \(Self.maximumDepth) deep, \(Self.maximumVisits) values in all",
                found: depth > Self.maximumDepth ? "deeper nesting at '\(prefix)' (a container may contain itself)" : "more values"))
        }
        func join(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }
        switch value {
        case .tensor(let tensor):
            tensors.append((prefix.isEmpty ? "tensor" : prefix, tensor))
        case .dict(let dict):
            for (key, item) in dict.items {
                try walk(item, prefix: join(Self.keyName(key)), depth: depth + 1)
            }
        case .list(let list):
            try walkSequence(list.items, value, prefix: prefix, depth: depth)
        case .tuple(let items):
            try walkSequence(items, value, prefix: prefix, depth: depth)
        case .string(let text):
            metadata[prefix.isEmpty ? "value" : prefix] = text
        default:
            metadata[prefix.isEmpty ? "value" : prefix] = value.pythonDescription
        }
    }

    private mutating func walkSequence(_ items: [PickleValue], _ value: PickleValue, prefix: String, depth: Int) throws {
        if items.allSatisfy(Self.isScalar) {
            metadata[prefix.isEmpty ? "value" : prefix] = value.pythonDescription
            return
        }
        for (index, item) in items.enumerated() {
            try walk(item, prefix: prefix.isEmpty ? String(index) : prefix + "." + String(index), depth: depth + 1)
        }
    }

    private static func isScalar(_ value: PickleValue) -> Bool {
        switch value {
        case .tensor, .dict, .list, .tuple: false
        default: true
        }
    }

    static func keyName(_ key: PickleValue) -> String {
        switch key {
        case .string(let text): text
        case .int(let number): String(number)
        default: key.pythonDescription
        }
    }
}
