/// A network as data: named inputs with their shapes, nodes (a name, a `LayerConfig`, the
/// names of the nodes or inputs it takes) and the names of the outputs. Codable, so it is
/// what a manifest stores; `Network(description:seed:)` builds it.
///
/// ```json
/// {"inputs": [{"name": "image", "shape": [32, 32, 3]}],
///  "nodes": [{"name": "conv", "kind": "conv2d", "filters": 8, "kernel_size": [3, 3], "inputs": ["image"]},
///            {"name": "skip", "kind": "add", "inputs": ["conv", "conv"]}],
///  "outputs": ["skip"]}
/// ```
public struct NetworkDescription: Sendable, Equatable, Codable {
    public struct InputDescription: Sendable, Equatable, Codable {
        public var name: String
        public var shape: [Int]
        public init(name: String, shape: [Int]) { self.name = name; self.shape = shape }
    }

    public struct NodeDescription: Sendable, Equatable, Codable {
        public var name: String
        public var layer: LayerConfig
        public var inputs: [String]
        /// Another node whose layer this node calls again (a shared layer: one set of variables).
        public var shares: String?

        public init(name: String, layer: LayerConfig, inputs: [String], shares: String? = nil) {
            self.name = name
            self.layer = layer
            self.inputs = inputs
            self.shares = shares
        }

        enum Key: String, CodingKey { case name, inputs, shares }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            name = try c.decode(String.self, forKey: .name)
            inputs = try c.decode([String].self, forKey: .inputs)
            shares = try c.decodeIfPresent(String.self, forKey: .shares)
            layer = try LayerConfig(from: decoder)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(name, forKey: .name)
            try layer.encode(to: encoder)
            try c.encode(inputs, forKey: .inputs)
            try c.encodeIfPresent(shares, forKey: .shares)
        }
    }

    public var inputs: [InputDescription]
    public var nodes: [NodeDescription]
    public var outputs: [String]

    public init(inputs: [InputDescription], nodes: [NodeDescription], outputs: [String]) {
        self.inputs = inputs
        self.nodes = nodes
        self.outputs = outputs
    }
}

extension Network {
    /// Builds the network a description gives (nodes in any order).
    /// - Throws: `ZooNetError.graph` for a name defined twice, an input no node or input
    ///   defines, a cycle (naming its nodes), and everything `init(inputs:outputs:seed:)`
    ///   checks; `ZooNetError.invalidArgument` for malformed settings.
    public convenience init(description: NetworkDescription, seed: UInt64 = 0) throws {
        var tensors: [String: SymbolicTensor] = [:]
        for input in description.inputs {
            guard tensors[input.name] == nil else { throw ZooNetError.graph(node: input.name, problem: "two inputs have this name") }
            tensors[input.name] = Input(shape: input.shape, name: input.name)
        }
        var nodes: [String: NetworkDescription.NodeDescription] = [:]
        for node in description.nodes {
            guard tensors[node.name] == nil, nodes[node.name] == nil else {
                throw ZooNetError.graph(node: node.name, problem: "two nodes (or a node and an input) have this name")
            }
            nodes[node.name] = node
        }
        // The nodes the outputs need, checking every name on the way (iteratively: graphs may be deep).
        let known = (description.inputs.map(\.name) + description.nodes.map(\.name)).prefix(10).joined(separator: ", ")
        var needed = Set<String>(), stack = description.outputs.map { ($0, nil as String?) }
        while let (name, user) = stack.popLast() {
            if tensors[name] != nil || needed.contains(name) { continue }
            guard let node = nodes[name] else {
                throw ZooNetError.graph(node: user ?? name, problem: "takes '\(name)', which no node or input defines (known: \(known))")
            }
            needed.insert(name)
            stack.append(contentsOf: node.inputs.map { ($0, name) })
        }
        // Kahn's order: a node is made once all its inputs exist; what is left is on or behind a cycle.
        // A node sharing another's layer needs that one made first (and made at all).
        for node in description.nodes where needed.contains(node.name) {
            if let owner = node.shares {
                guard let shared = nodes[owner] else {
                    throw ZooNetError.graph(node: node.name, problem: "shares the layer of '\(owner)', which is not a node")
                }
                guard shared.layer == node.layer else {
                    throw ZooNetError.graph(node: node.name, problem: "shares the layer of '\(owner)' but describes another layer")
                }
                needed.insert(owner)
            }
        }
        var layers: [String: LayerConfig.Built] = [:]
        var pending = description.nodes.filter { needed.contains($0.name) }
        while !pending.isEmpty {
            let ready = pending.filter { node in
                node.inputs.allSatisfy { tensors[$0] != nil } && (node.shares.map { layers[$0] != nil } ?? true)
            }
            guard !ready.isEmpty else {
                let left = Dictionary(uniqueKeysWithValues: pending.map { ($0.name, $0) })
                var walk = [pending[0].name]
                while let next = left[walk.last!]?.inputs.first(where: { left[$0] != nil }), !walk.contains(next) { walk.append(next) }
                let next = left[walk.last!]?.inputs.first { left[$0] != nil } ?? walk[0]
                let cycle = walk[(walk.firstIndex(of: next) ?? 0)...] + [next]
                throw ZooNetError.graph(node: next, problem: "the graph has a cycle: \(cycle.reversed().joined(separator: " → "))")
            }
            for node in ready {
                let inputs = node.inputs.map { tensors[$0]! }
                let built = try node.shares.flatMap { layers[$0] } ?? node.layer.makeLayer(name: node.name)
                layers[node.name] = built
                switch built {
                case .layer(let layer):
                    guard inputs.count == 1 else {
                        throw ZooNetError.graph(node: node.name, problem: "\(node.layer.kind) takes one input, the description gives \(inputs.count)")
                    }
                    tensors[node.name] = layer(inputs[0])
                case .merge(let layer):
                    tensors[node.name] = layer(inputs)
                }
            }
            let made = Set(ready.map(\.name))
            pending.removeAll { made.contains($0.name) }
        }
        let outputs = description.outputs.map { tensors[$0]! }
        try self.init(inputs: description.inputs.map { tensors[$0.name]! }, outputs: outputs, seed: seed)
    }
}
