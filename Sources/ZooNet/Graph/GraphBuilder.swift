/// The checks and steps of building a `Network` from its nodes.
enum GraphBuilder {
    /// Every node between `inputs` and `outputs`, inputs first, each after the nodes it takes.
    /// - Throws: `ZooNetError.graph` for a cycle or a node that needs an input the network
    ///   does not have.
    static func topologicalOrder(inputs: [GraphNode], outputs: [GraphNode]) throws -> [GraphNode] {
        let inputSet = Set(inputs.map(ObjectIdentifier.init))
        guard inputSet.count == inputs.count else {
            throw ZooNetError.graph(node: inputs.map(\.name).joined(separator: ", "), problem: "the same input is given twice")
        }
        enum Mark { case visiting, done }
        var marks: [ObjectIdentifier: Mark] = [:]
        var order: [GraphNode] = []
        // Iterative depth-first search (graphs of thousands of nodes must not exhaust the stack).
        for output in outputs {
            var stack: [(node: GraphNode, next: Int, path: Int)] = []
            var path: [GraphNode] = []
            func enter(_ node: GraphNode) throws {
                switch marks[ObjectIdentifier(node)] {
                case .done?: return
                case .visiting?:
                    let start = path.firstIndex { $0 === node } ?? 0
                    let cycle = (path[start...] + [node]).map(\.name).joined(separator: " → ")
                    throw ZooNetError.graph(node: node.name, problem: "the graph has a cycle: \(cycle)")
                case nil:
                    if inputSet.contains(ObjectIdentifier(node)) {
                        marks[ObjectIdentifier(node)] = .done
                        return
                    }
                    if node.isInput {
                        let user = path.last.map { "node '\($0.name)' takes" } ?? "the output is"
                        throw ZooNetError.graph(node: node.name, problem: "\(user) input '\(node.name)', which is not among the network's inputs")
                    }
                    marks[ObjectIdentifier(node)] = .visiting
                    path.append(node)
                    stack.append((node, 0, path.count))
                }
            }
            try enter(output)
            while let top = stack.last {
                if top.next < top.node.inputs.count {
                    stack[stack.count - 1].next += 1
                    try enter(top.node.inputs[top.next])
                } else {
                    stack.removeLast()
                    path.removeLast()
                    marks[ObjectIdentifier(top.node)] = .done
                    order.append(top.node)
                }
            }
        }
        return inputs + order
    }

    /// Gives every unnamed node a Keras-style default name (`kind`, `kind_1`, …) unique in
    /// the network. - Throws: `ZooNetError.graph` for two nodes with one name or one layer used
    /// by two nodes.
    static func assignNames(_ order: [GraphNode]) throws {
        var layers = Set<ObjectIdentifier>()
        for node in order {
            if let layer = node.layerObject, !layers.insert(ObjectIdentifier(layer)).inserted {
                throw ZooNetError.graph(node: node.name, problem: "the layer is called on two inputs (a shared layer); give each call its own layer")
            }
        }
        var used = Set<String>()
        for node in order where !node.name.isEmpty {
            guard used.insert(node.name).inserted else {
                throw ZooNetError.graph(node: node.name, problem: "two nodes have this name")
            }
        }
        var counts: [String: Int] = [:]
        for node in order where node.name.isEmpty {
            var name: String
            repeat {
                let n = counts[node.kind, default: 0]
                counts[node.kind] = n + 1
                name = n == 0 ? node.kind : "\(node.kind)_\(n)"
            } while used.contains(name)
            used.insert(name)
            node.name = name
        }
    }

    /// Builds every node not yet built, in order (the k-th layer of the order with seed
    /// `SplitMix64.derive(seed, k)`). - Throws: `ZooNetError.graph` naming the node, its
    /// inputs and their shapes when the layer rejects them.
    static func build(_ order: [GraphNode], inputs: Set<ObjectIdentifier>, seed: UInt64) throws {
        var ordinal = 0
        for node in order {
            if inputs.contains(ObjectIdentifier(node)) {
                guard let shape = node.outputShape else {
                    throw ZooNetError.graph(node: node.name, problem: "used as an input but not built yet (build a network that computes it first)")
                }
                guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
                    throw ZooNetError.graph(node: node.name, problem: "an input shape must be non-empty and positive, got \(shape)")
                }
                continue
            }
            defer { ordinal += 1 }
            if node.outputShape != nil { continue }
            let shapes = node.inputs.map { $0.outputShape! }
            let layerSeed = SplitMix64.derive(seed, UInt64(ordinal))
            let shape: [Int]
            do {
                switch node.operation {
                case .input: continue
                case .layer(let layer):
                    guard shapes.count == 1 else {
                        throw ZooNetError.invalidArgument("takes one input, got \(shapes.count)")
                    }
                    shape = try layer.build(inputShape: shapes[0], seed: layerSeed)
                case .merge(let layer):
                    shape = try layer.build(inputShapes: shapes, seed: layerSeed)
                }
            } catch let error as ZooNetError {
                let from = zip(node.inputs, shapes).map { "'\($0.name)' \($1)" }.joined(separator: ", ")
                throw ZooNetError.layerBuild(node: node.name, kind: node.kind, inputs: from, error: error)
            }
            guard shape.allSatisfy({ $0 > 0 }) else {
                throw ZooNetError.graph(node: node.name, problem: "empty output shape \(shape)")
            }
            node.outputShape = shape
        }
    }

    /// The variables of the layers, in order. - Throws: `duplicateVariable` when two share a name.
    static func variables(of order: [GraphNode], excluding inputs: Set<ObjectIdentifier>) throws -> [Variable] {
        var seen = Set<ObjectIdentifier>(), names = Set<String>(), result: [Variable] = []
        for node in order where !inputs.contains(ObjectIdentifier(node)) {
            for v in node.variables where seen.insert(ObjectIdentifier(v)).inserted {
                guard names.insert(v.name).inserted else { throw ZooNetError.duplicateVariable(v.name) }
                result.append(v)
            }
        }
        return result
    }
}
