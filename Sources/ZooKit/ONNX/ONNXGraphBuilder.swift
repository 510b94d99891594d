import ZooFormat

/// The growing ONNX graph of an export: nodes in topological order, initializers (weights and
/// the small int64/float constants shape-taking operators read), and unique value names.
///
/// Value names are the engine's node names for a node's main result and `NODE/what` for the
/// helper values around it; initializers are named after the variable they hold (`conv/kernel`)
/// or `NODE/what`. A name already taken gets `_1`, `_2`, … appended.
struct ONNXGraphBuilder {
    /// The default-domain operator set the graph is written against.
    let opset: Int
    private(set) var nodes: [ONNXNode] = []
    private(set) var initializers: [ONNXTensor] = []
    private var taken = Set<String>()
    private var initializerNames = Set<String>()

    init(opset: Int) { self.opset = opset }

    /// Reserves `name` (or the first free `name_k`) for a value and returns it.
    mutating func unique(_ name: String) -> String {
        var candidate = name, k = 1
        while taken.contains(candidate) { candidate = "\(name)_\(k)"; k += 1 }
        taken.insert(candidate)
        return candidate
    }

    /// Reserves names helpers must not take (the engine's node and input names).
    mutating func reserve(_ names: some Sequence<String>) { taken.formUnion(names) }

    /// Renames the output of the node that produced `value` (the last one appended) to the
    /// reserved name `name`; nothing reads `value` yet.
    mutating func renameLastOutput(_ value: String, to name: String) -> String {
        guard let index = nodes.lastIndex(where: { $0.outputs == [value] }) else { return value }
        nodes[index].outputs = [name]
        nodes[index].name = name
        return name
    }

    /// Appends `opType(inputs) -> output` and returns the output's (unique) name.
    @discardableResult
    mutating func add(_ opType: String, _ inputs: [String], output: String, _ attributes: [ONNXAttribute] = []) -> String {
        let name = unique(output)
        nodes.append(ONNXNode(name: name, opType: opType, inputs: inputs, outputs: [name], attributes: attributes))
        return name
    }

    /// A float32 initializer `name` of `shape` holding `values` (C order); an initializer of the
    /// same name already added (a shared layer's weights) is reused.
    mutating func floats(_ name: String, shape: [Int], _ values: [Float]) throws -> String {
        if initializerNames.contains(name) { return name }
        let stored = try StoredTensor(name: name, shape: shape, floats: values)
        return try addInitializer(name, stored)
    }

    /// An int64 initializer (shapes, pads, axes, slice bounds).
    mutating func int64s(_ name: String, _ values: [Int]) throws -> String {
        if initializerNames.contains(name) { return name }
        let stored = try StoredTensor(name: name, shape: [values.count], int64s: values.map(Int64.init))
        return try addInitializer(name, stored)
    }

    /// A float32 scalar initializer (shape `[]`), e.g. `Clip`'s bounds.
    mutating func scalar(_ name: String, _ value: Float) throws -> String {
        if initializerNames.contains(name) { return name }
        return try addInitializer(name, try StoredTensor(name: name, shape: [], floats: [value]))
    }

    private mutating func addInitializer(_ name: String, _ stored: StoredTensor) throws -> String {
        let unique = unique(name)
        initializerNames.insert(unique)
        initializers.append(try ONNXTensor(name: unique, stored))
        return unique
    }

    /// `Transpose(value, perm)`, or `value` itself for the identity permutation.
    mutating func transpose(_ value: String, _ permutation: [Int], output: String) -> String {
        if permutation == Array(permutation.indices) { return value }
        return add("Transpose", [value], output: output, [.ints("perm", permutation)])
    }

    /// `ReduceMean(value, axes, keepdims=1)`: the axes an attribute before opset 18, an input from 18.
    mutating func reduceMean(_ value: String, axes: [Int], output: String) throws -> String {
        if opset >= 18 {
            return add("ReduceMean", [value, try int64s(output + "/axes", axes)], output: output, [.int("keepdims", 1)])
        }
        return add("ReduceMean", [value], output: output, [.ints("axes", axes), .int("keepdims", 1)])
    }
}

extension ONNXAttribute {
    /// An INT attribute.
    static func int(_ name: String, _ value: Int) -> ONNXAttribute { ONNXAttribute(name: name, .int(Int64(value))) }
    /// An INTS attribute.
    static func ints(_ name: String, _ values: [Int]) -> ONNXAttribute { ONNXAttribute(name: name, .ints(values.map(Int64.init))) }
    /// A FLOAT attribute.
    static func float(_ name: String, _ value: Float) -> ONNXAttribute { ONNXAttribute(name: name, .float(value)) }
    /// A STRING attribute (UTF-8).
    static func string(_ name: String, _ value: String) -> ONNXAttribute { ONNXAttribute(name: name, .string(Array(value.utf8))) }
}
