import ZooFormat

/// GELU as exporters write it before opset 20, where ONNX has no `Gelu`:
/// `½·x·(1 + erf(x/√2))`, i.e. `Erf(Div(x, √2))` (or `Mul(x, 1/√2)`), `Add(·, 1)`, then
/// `Mul(x, ·)` and `Mul(·, ½)`, or `Mul(Mul(x, ½), ·)` (torch.onnx.export, tf2onnx, Zoo's own
/// exporter). The engine has no erf, so these chains are rewritten into one `Gelu` node
/// (opset 20's, `approximate = "none"`) before the conversion; an `Erf` in any other use stays
/// and is reported unsupported.
enum ONNXGeluFusion {
    /// `graph` with every exact-GELU chain replaced by a `Gelu` node producing the chain's output.
    static func fused(_ graph: ONNXGraph) -> ONNXGraph {
        guard graph.nodes.contains(where: { $0.opType == "Erf" }) else { return graph }
        let scalars = scalarConstants(graph)
        var producer: [String: Int] = [:]
        var users: [String: [Int]] = [:]
        for (k, node) in graph.nodes.enumerated() {
            for output in node.outputs { producer[output] = k }
            for input in node.inputs { users[input, default: []].append(k) }
        }
        let graphOutputs = Set(graph.outputs.map(\.name))
        /// The one node using `value`, when nothing else (no graph output) does.
        func onlyUser(_ value: String) -> Int? {
            guard !graphOutputs.contains(value), let list = users[value], list.count == 1 else { return nil }
            return list[0]
        }
        /// The operand of a two-input node other than `value`.
        func other(_ node: ONNXNode, _ value: String) -> String? {
            guard node.inputs.count == 2 else { return nil }
            return node.inputs[0] == value ? node.inputs[1] : node.inputs[1] == value ? node.inputs[0] : nil
        }
        func isScalar(_ name: String?, _ value: Float) -> Bool {
            guard let name, let found = scalars[name] else { return false }
            return abs(found - value) <= 1e-5 * max(1, abs(value))
        }

        var removed = Set<Int>()
        var replacement: [Int: ONNXNode] = [:]
        for (e, erf) in graph.nodes.enumerated() where erf.opType == "Erf" && erf.inputs.count == 1 {
            // u = x / √2 or x · (1/√2)
            guard let s = producer[erf.inputs[0]], onlyUser(erf.inputs[0]) == e else { continue }
            let scale = graph.nodes[s]
            guard scale.inputs.count == 2 else { continue }
            let x: String
            if scale.opType == "Div", isScalar(scale.inputs[1], Float(2.0.squareRoot())) {
                x = scale.inputs[0]
            } else if scale.opType == "Mul", let k = scale.inputs.firstIndex(where: { isScalar($0, Float(0.5.squareRoot())) }) {
                x = scale.inputs[1 - k]
            } else { continue }
            // 1 + erf(u)
            guard let a = onlyUser(erf.outputs[0]), graph.nodes[a].opType == "Add", isScalar(other(graph.nodes[a], erf.outputs[0]), 1),
                  let m = onlyUser(graph.nodes[a].outputs[0]), graph.nodes[m].opType == "Mul",
                  let factor = other(graph.nodes[m], graph.nodes[a].outputs[0]) else { continue }
            var chain = [s, e, a, m]
            var output = graph.nodes[m].outputs[0]
            if factor == x {
                // (x · (1 + erf(u))) · ½
                guard let h = onlyUser(output), graph.nodes[h].opType == "Mul", isScalar(other(graph.nodes[h], output), 0.5) else { continue }
                chain.append(h)
                output = graph.nodes[h].outputs[0]
            } else {
                // (x · ½) · (1 + erf(u))
                guard let h = producer[factor], onlyUser(factor) == m, graph.nodes[h].opType == "Mul",
                      graph.nodes[h].inputs.contains(x), isScalar(other(graph.nodes[h], x), 0.5) else { continue }
                chain.append(h)
            }
            guard chain.allSatisfy({ !removed.contains($0) }) else { continue }
            removed.formUnion(chain)
            let last = chain.max()!
            replacement[last] = ONNXNode(name: graph.nodes[m].name.isEmpty ? output : graph.nodes[m].name, opType: "Gelu",
                                         inputs: [x], outputs: [output], attributes: [ONNXAttribute(name: "approximate", .string(Array("none".utf8)))])
        }
        var result = graph
        result.nodes = graph.nodes.indices.compactMap { k in replacement[k] ?? (removed.contains(k) ? nil : graph.nodes[k]) }
        return result
    }

    /// One-element float constants by value name: initializers and `Constant` nodes' values.
    static func scalarConstants(_ graph: ONNXGraph) -> [String: Float] {
        var scalars: [String: Float] = [:]
        for tensor in graph.initializers where tensor.tensor.elementCount == 1 {
            if let value = try? tensor.tensor.floats().first { scalars[tensor.name] = value }
        }
        for node in graph.nodes where node.opType == "Constant" && node.outputs.count == 1 {
            if let tensor = node.attribute("value")?.tensor, tensor.tensor.elementCount == 1, let value = try? tensor.tensor.floats().first {
                scalars[node.outputs[0]] = value
            } else if let value = node.attribute("value_float")?.float {
                scalars[node.outputs[0]] = value
            }
        }
        return scalars
    }
}
