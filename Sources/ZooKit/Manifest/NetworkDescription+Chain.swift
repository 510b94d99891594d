import ZooNet

/// What the registry asks of an architecture: chains (the schema-1 form and the linear
/// transfer pipeline), the logits variant, the default head and a structural check that
/// allocates nothing.
extension NetworkDescription {
    /// A chain: one input named `inputName` of per-sample `inputShape`, each layer taking the one before.
    public init(chain layers: [LayerSpec], inputShape: [Int], inputName: String = "input_layer") {
        var previous = inputName
        var nodes: [NodeDescription] = []
        for layer in layers {
            nodes.append(NodeDescription(name: layer.name, layer: layer.layer, inputs: [previous]))
            previous = layer.name
        }
        self.init(inputs: [InputDescription(name: inputName, shape: inputShape)], nodes: nodes, outputs: [previous])
    }

    /// The layers bottom first, if the graph is a chain (one input, each node taking the node
    /// before it, no shared layer, the last node the one output); nil for any other graph.
    public var chainLayers: [LayerSpec]? {
        guard inputs.count == 1, outputs == [nodes.last?.name ?? inputs[0].name] else { return nil }
        var previous = inputs[0].name
        for node in nodes {
            guard node.inputs == [previous], node.shares == nil else { return nil }
            if case .merge = node.layer { return nil }
            if case .concatenate = node.layer { return nil }
            previous = node.name
        }
        return nodes.map { LayerSpec($0.name, $0.layer) }
    }

    /// The same network giving, for each output that ends in an activation (softmax, sigmoid,
    /// …), the values before it: an activation node is skipped (unless it takes an input
    /// directly), a layer's own activation becomes linear. Variable names do not change.
    public var withoutFinalActivation: NetworkDescription {
        var copy = self
        let inputNames = Set(inputs.map(\.name))
        for (k, output) in outputs.enumerated() {
            guard let index = copy.nodes.firstIndex(where: { $0.name == output }) else { continue }
            let node = copy.nodes[index]
            if case .activation = node.layer, let input = node.inputs.first, !inputNames.contains(input) {
                copy.outputs[k] = input
            } else if node.layer.activation != nil {
                copy.nodes[index].layer = node.layer.with(activation: .linear)
            }
        }
        return copy
    }

    /// The classifier: from the first output back through nodes without variables that take
    /// one input (activations, dropout, reshapes), the first node with variables; nil if there is none.
    public var defaultHead: String? {
        let byName = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var name = outputs.first
        var seen = Set<String>()
        while let current = name, let node = byName[current], seen.insert(current).inserted {
            if node.layer.hasVariables { return current }
            guard node.inputs.count == 1 else { return nil }
            name = node.inputs[0]
        }
        return nil
    }

    /// The output that `head` leads to: `head` itself, or the output reached from it through
    /// nodes without variables that take one input (a softmax after the classifier). With several
    /// outputs (MTCNN's box regression, landmarks and face probability) this is the one a
    /// classifier's labels describe.
    public func output(reachedFrom head: String) -> String? {
        let byName = Dictionary(nodes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return outputs.first { output in
            var name = output
            var seen = Set<String>()
            while name != head, let node = byName[name], !node.layer.hasVariables, node.inputs.count == 1, seen.insert(name).inserted {
                name = node.inputs[0]
            }
            return name == head
        }
    }

    /// The description with `output` moved to the front of `outputs` (the classifier output every
    /// command reads first); the other outputs keep their order.
    public func withFirstOutput(_ output: String) -> NetworkDescription {
        var description = self
        description.outputs = [output] + outputs.filter { $0 != output }
        return description
    }

    /// Whether a node (not an input) has this name.
    public func hasNode(_ name: String) -> Bool { nodes.contains { $0.name == name } }

    /// The first structural problem, without building anything: a name used twice, an input
    /// or output no node defines, a shared layer that is not a node, a cycle.
    /// - Returns: the position of the node concerned (nil for the outputs) and the problem.
    public func structuralProblem() -> (node: Int?, problem: String)? {
        guard !inputs.isEmpty else { return (nil, "no inputs") }
        var defined = Set<String>()
        for input in inputs {
            guard defined.insert(input.name).inserted else { return (nil, "two inputs are named '\(input.name)'") }
            guard !input.shape.isEmpty, input.shape.allSatisfy({ $0 > 0 }) else { return (nil, "input '\(input.name)' has shape \(input.shape)") }
        }
        for (k, node) in nodes.enumerated() where !defined.insert(node.name).inserted {
            return (k, "is defined twice")
        }
        for (k, node) in nodes.enumerated() {
            if let missing = node.inputs.first(where: { !defined.contains($0) }) { return (k, "takes '\(missing)', which no node or input defines") }
            if node.inputs.isEmpty { return (k, "takes no input") }
            if let owner = node.shares, !hasNode(owner) { return (k, "shares the layer of '\(owner)', which is not a node") }
        }
        guard !outputs.isEmpty else { return (nil, "no outputs") }
        if let missing = outputs.first(where: { !defined.contains($0) }) { return (nil, "output '\(missing)' is not a node") }
        // Kahn's order over the nodes: what cannot be ordered is on or behind a cycle.
        var ready = Set(inputs.map(\.name))
        var pending = Array(nodes.indices)
        while !pending.isEmpty {
            let next = pending.filter { nodes[$0].inputs.allSatisfy(ready.contains) }
            guard !next.isEmpty else { return (pending[0], "is on or behind a cycle") }
            for k in next { ready.insert(nodes[k].name) }
            let made = Set(next)
            pending.removeAll { made.contains($0) }
        }
        return nil
    }
}
