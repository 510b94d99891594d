import Synchronization

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

    /// A layer called on several inputs (a shared layer) gets a node per call; every call
    /// after the first runs a copy of the layer (made from its `configuration`) whose
    /// variables are tied to the first call's at build time. - Throws: `ZooNetError.graph` for
    /// a shared layer that is not a built-in one.
    static func separateSharedLayers(_ order: [GraphNode]) throws {
        var owners: [ObjectIdentifier: GraphNode] = [:]
        for node in order where node.sharing == nil {
            guard let layer = node.layerObject else { continue }
            // The first call in this network owns the layer, unless another network built it already.
            let earlier = node.outputShape == nil ? builder(of: layer) : nil
            guard let owner = owners[ObjectIdentifier(layer)] ?? earlier.flatMap({ $0 === node ? nil : $0 }) else {
                owners[ObjectIdentifier(layer)] = node
                continue
            }
            guard let configurable = layer as? any ConfigurableLayer else {
                throw ZooNetError.graph(node: owner.name, problem: "a custom layer is called on two inputs; shared layers must be built-in ones")
            }
            switch try configurable.configuration.makeLayer(name: "") {
            case .layer(let copy): node.operation = .layer(copy)
            case .merge(let copy): node.operation = .merge(copy)
            }
            node.sharing = owner
        }
    }

    /// Gives every unnamed node a Keras-style default name (`kind`, `kind_1`, …) unique in
    /// the network; the k-th extra call of a shared layer `name` is named `name@k`.
    /// - Throws: `ZooNetError.graph` for two nodes with one name.
    static func assignNames(_ order: [GraphNode]) throws {
        var used = Set<String>()
        for node in order where !node.name.isEmpty {
            guard used.insert(node.name).inserted else {
                throw ZooNetError.graph(node: node.name, problem: "two nodes have this name")
            }
        }
        var counts: [String: Int] = [:]
        for node in order where node.name.isEmpty && node.sharing == nil {
            var name: String
            repeat {
                let n = counts[node.kind, default: 0]
                counts[node.kind] = n + 1
                name = n == 0 ? node.kind : "\(node.kind)_\(n)"
            } while used.contains(name)
            used.insert(name)
            node.name = name
        }
        var calls: [ObjectIdentifier: Int] = [:]
        for node in order where node.name.isEmpty {
            guard let owner = node.sharing else { continue }
            let k = calls[ObjectIdentifier(owner), default: 0] + 1
            calls[ObjectIdentifier(owner)] = k
            node.name = "\(owner.name)@\(k)"
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
            if let owner = node.sharing {
                let (mine, theirs) = (node.variables, owner.variables)
                guard mine.count == theirs.count, zip(mine, theirs).allSatisfy({ $0.shape == $1.shape }) else {
                    throw ZooNetError.graph(node: node.name, problem: "the shared layer '\(owner.name)' is called on inputs of another shape: its variables \(theirs.map(\.shape)) do not fit \(mine.map(\.shape))")
                }
                for (variable, primary) in zip(mine, theirs) { try variable.tie(to: primary) }
            } else if let layer = node.layerObject {
                recordBuilder(node, of: layer)
            }
            node.outputShape = shape
        }
    }

    /// The node that built each layer, for calls of an already built layer in a later network.
    private final class Builder: @unchecked Sendable {
        weak var node: GraphNode?
        weak var layer: AnyObject?
        init(node: GraphNode, layer: AnyObject) { self.node = node; self.layer = layer }
    }

    private static let builders = Mutex<[ObjectIdentifier: Builder]>([:])

    private static func builder(of layer: AnyObject) -> GraphNode? {
        builders.withLock { table in
            guard let entry = table[ObjectIdentifier(layer)], entry.layer === layer else { return nil }
            return entry.node
        }
    }

    private static func recordBuilder(_ node: GraphNode, of layer: AnyObject) {
        builders.withLock { table in
            table = table.filter { $0.value.layer != nil }  // drop the entries of freed layers
            table[ObjectIdentifier(layer)] = Builder(node: node, layer: layer)
        }
    }

    /// The variables of the layers, in order. - Throws: `duplicateVariable` when two share a name.
    static func variables(of order: [GraphNode], excluding inputs: Set<ObjectIdentifier>) throws -> [Variable] {
        var seen = Set<ObjectIdentifier>(), names = Set<String>(), result: [Variable] = []
        for node in order where !inputs.contains(ObjectIdentifier(node)) && node.sharing == nil {
            for v in node.variables where seen.insert(ObjectIdentifier(v)).inserted {
                guard names.insert(v.name).inserted else { throw ZooNetError.duplicateVariable(v.name) }
                result.append(v)
            }
        }
        return result
    }

    /// The variables of shared layers' extra calls, each with the variable it is tied to.
    static func ties(of order: [GraphNode], excluding inputs: Set<ObjectIdentifier>) -> [(alias: Variable, primary: Variable)] {
        order.filter { !inputs.contains(ObjectIdentifier($0)) }.flatMap { node -> [(alias: Variable, primary: Variable)] in
            guard let owner = node.sharing else { return [] }
            return Array(zip(node.variables, owner.variables))
        }
    }
}
