import Foundation
import ZooFormat
import ZooNet

/// Why one node cannot be converted (collected, then reported grouped by operator).
struct ONNXImportUnsupported: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// One conversion of an ONNX graph into a `NetworkDescription` (see `ONNXGraphImporter`): the
/// values seen so far, the engine nodes made, the weights, the problems found.
final class ONNXGraphConversion {
    let model: ONNXModel
    let inputShapes: [[Int]]?
    /// The default domain's operator set version (attribute-vs-input changes depend on it).
    let opset: Int
    /// Every ONNX value name seen so far.
    var values: [String: ONNXImportValue] = [:]
    /// The engine nodes, in the order made.
    var nodes: [NetworkDescription.NodeDescription] = []
    var nodeIndex: [String: Int] = [:]
    var usedNames: Set<String> = []
    var weights: [ONNXImportedWeight] = []
    var unsupported: [(index: Int, op: String, node: String, reason: String)] = []
    /// The batch size the graph's input fixes, if it does (a `Reshape` to `[2, -1]` keeps the batch then).
    var staticBatch: Int?
    /// The ONNX values some node or graph output takes.
    var consumed: Set<String> = []

    init(model: ONNXModel, inputShapes: [[Int]]?) {
        var model = model
        model.graph = ONNXGeluFusion.fused(model.graph)
        self.model = model
        self.inputShapes = inputShapes
        opset = Int(model.defaultOpset ?? 21)
    }

    /// The conversion: inputs, nodes in dependency order, outputs, unused nodes dropped.
    func run() throws -> ONNXImportedNetwork {
        let graph = model.graph
        for tensor in graph.initializers { values[tensor.name] = .constant(ONNXConstant(tensor)) }
        consumed = Set(graph.nodes.flatMap(\.inputs) + graph.outputs.map(\.name))
        var inputs: [NetworkDescription.InputDescription] = []
        var inputOrders: [[Int]] = []
        for info in graph.inputs where values[info.name] == nil {
            let (input, value) = try makeInput(info, index: inputs.count)
            inputs.append(input)
            inputOrders.append(value.order)
            values[info.name] = .runtime(value)
        }
        guard !inputs.isEmpty else { throw ZooKitError.invalidRequest("the ONNX graph '\(graph.name)' has no input that is not an initializer") }
        for index in try dependencyOrder() {
            convert(graph.nodes[index], index: index)
        }
        if !unsupported.isEmpty {
            let inGraphOrder = unsupported.sorted { $0.index < $1.index }.map { ($0.op, $0.node, $0.reason) }
            throw ZooKitError.unsupportedONNXOps(UnsupportedONNXOps(opset: model.defaultOpset, inGraphOrder))
        }
        var outputs: [String] = [], outputOrders: [[Int]] = []
        for info in graph.outputs {
            guard case .runtime(var value)? = values[info.name] else {
                throw ZooKitError.invalidRequest("ONNX output '\(info.name)' is a constant, not computed from the inputs")
            }
            if !(value.rank == 4 && value.order == [0, 2, 3, 1]) { value = reorder(value, to: Array(0..<value.rank), for: info.name) }
            if inputs.contains(where: { $0.name == value.node }) {
                value.node = emit(.activation(.linear), inputs: [value.node], name: info.name)
            }
            outputs.append(value.node)
            outputOrders.append(value.order)
        }
        let description = pruned(NetworkDescription(inputs: inputs, nodes: nodes, outputs: outputs))
        let kept = Set(description.nodes.map(\.name))
        return ONNXImportedNetwork(
            description: description, weights: weights.filter { kept.contains(String($0.variable.split(separator: "/").dropLast().joined(separator: "/"))) },
            inputOrders: inputOrders, outputOrders: outputOrders, outputNames: graph.outputs.map(\.name),
            labels: try metadataLabels(), input: try metadataInput(), producer: (model.producerName, model.producerVersion))
    }

    // MARK: Inputs

    /// An engine input for a graph input: NCHW `[N, C, H, W]` becomes `[H, W, C]`, other ranks
    /// keep their order; the batch dimension is free whatever the graph says.
    func makeInput(_ info: ONNXValueInfo, index: Int) throws -> (NetworkDescription.InputDescription, ONNXRuntimeValue) {
        guard info.elementType == .float || info.elementType == .undefined else {
            throw ZooKitError.invalidRequest("ONNX input '\(info.name)' holds \(info.elementType) elements; Zoo's networks take float32")
        }
        var dims: [Int?]
        if let given = inputShapes?[safe: index] {
            let rank = info.shape?.count ?? (given.count == 3 ? 4 : given.count + 1)
            guard rank == given.count + 1 else {
                throw ZooKitError.invalidSetting(.inputShape, problem: "\(given) has \(given.count) axes; ONNX input '\(info.name)' has \(rank - 1) besides the batch")
            }
            dims = [nil] + (rank == 4 && !isChannelsLast(info.name, dims: nil) ? [given[2], given[0], given[1]] : given)
        } else {
            guard let shape = info.shape, !shape.isEmpty else {
                throw ZooKitError.settingRequired(.inputShape, reason: "ONNX input '\(info.name)' has no recorded shape")
            }
            dims = shape.map(\.value)
            if let batch = dims[0] { staticBatch = batch }
            if dims.dropFirst().contains(where: { $0 == nil }) {
                let text = shape.map { d in d.value.map(String.init) ?? { if case .symbol(let s) = d { s } else { "?" } }() }
                throw ZooKitError.settingRequired(.inputShape, reason: "ONNX input '\(info.name)' has free dimensions [\(text.joined(separator: ", "))]")
            }
        }
        let shape = [ONNXShapeFolding.batch] + dims.dropFirst().map { $0! }
        guard shape.dropFirst().allSatisfy({ $0 > 0 }), let count = checkedElementCount(Array(shape.dropFirst())),
              count <= ONNXShapeFolding.largestSample else {
            throw ZooKitError.invalidRequest("ONNX input '\(info.name)' has the shape \(shape.dropFirst()) besides the batch")
        }
        let order = shape.count == 4 && !isChannelsLast(info.name, dims: Array(shape.dropFirst())) ? [0, 2, 3, 1] : Array(0..<shape.count)
        let name = uniqueName(info.name.isEmpty ? "input" : info.name)
        let value = ONNXRuntimeValue(node: name, shape: shape, order: order)
        return (.init(name: name, shape: value.engineShape), value)
    }

    /// Whether a 4-D input is NHWC rather than NCHW: the element-wise steps from it (scalings,
    /// activations) end in `Transpose(perm = [0, 3, 1, 2])` (tf2onnx, Keras 3, `zoo convert`
    /// without `--channels-first`), or Zoo's `zoo.preprocessing` metadata gives its shape
    /// `[h, w, c]` as `dims` (and not as `[c, h, w]`).
    func isChannelsLast(_ input: String, dims: [Int]?) -> Bool {
        let elementwise: Set<String> = ["Mul", "Add", "Sub", "Div", "Identity", "Cast", "Relu", "Clip", "Sigmoid", "Tanh"]
        var frontier = [input], seen = Set<String>(), ends: [ONNXNode] = []
        while let value = frontier.popLast(), seen.insert(value).inserted, seen.count < 64 {
            for user in model.graph.nodes where user.inputs.contains(value) {
                if elementwise.contains(user.opType) { frontier += user.outputs } else { ends.append(user) }
            }
        }
        if !ends.isEmpty, ends.allSatisfy({ $0.opType == "Transpose" && $0.attribute("perm")?.ints == [0, 3, 1, 2] }) { return true }
        if let dims, let shape = try? metadataInput()?.shape, shape.count == 3 {
            return dims == shape && dims != [shape[2], shape[0], shape[1]]
        }
        return false
    }

    // MARK: Order

    /// The nodes in an order where every value is made before it is used (ONNX requires the
    /// file's order to be one; Kahn's algorithm checks it and tolerates files that are not sorted).
    /// - Throws: `invalidONNXGraph` for a value no node, input or initializer defines, a value
    ///   made twice, or a cycle (naming the nodes on it).
    func dependencyOrder() throws -> [Int] {
        let graph = model.graph
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                if producer[output] != nil || values[output] != nil {
                    throw ZooKitError.invalidONNXGraph(nodes: [label(of: index)], problem: "value '\(output)' is defined twice")
                }
                producer[output] = index
            }
        }
        var undefined: [(node: String, value: String)] = []
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && producer[input] == nil && values[input] == nil {
                undefined.append((label(of: index), input))
            }
        }
        for output in graph.outputs where producer[output.name] == nil && values[output.name] == nil {
            undefined.append(("graph output", output.name))
        }
        if !undefined.isEmpty {
            let names = undefined.map { "'\($0.value)'" }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            throw ZooKitError.invalidONNXGraph(
                nodes: undefined.map(\.node), problem: "the nodes take values no node, input or initializer defines: \(names.prefix(8).joined(separator: ", "))")
        }
        var waiting = graph.nodes.map { node in Set(node.inputs.filter { producer[$0] != nil }).count }
        var users: [Int: [Int]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for input in Set(node.inputs) { if let p = producer[input] { users[p, default: []].append(index) } }
        }
        var ready = (0..<graph.nodes.count).filter { waiting[$0] == 0 }.reversed().map { $0 }
        var order: [Int] = []
        while let next = ready.popLast() {
            order.append(next)
            for user in users[next] ?? [] {
                waiting[user] -= 1
                if waiting[user] == 0 { ready.append(user) }
            }
        }
        guard order.count == graph.nodes.count else {
            let done = Set(order)
            let left = (0..<graph.nodes.count).filter { !done.contains($0) }
            throw ZooKitError.invalidONNXGraph(nodes: left.map(label(of:)), problem: "the graph has a cycle through \(left.count) node\(left.count == 1 ? "" : "s")")
        }
        return order
    }

    /// A node's name for messages: its name, else `#index (op)`.
    func label(of index: Int) -> String {
        let node = model.graph.nodes[index]
        return node.name.isEmpty ? "#\(index) (\(node.opType))" : node.name
    }

    // MARK: Dispatch

    /// Converts one node: folded when its inputs are constants, converted to engine layers
    /// otherwise; problems are collected, the node's outputs marked failed. Downstream of a
    /// failed node, only operators Zoo has no conversion for are collected (a supported one
    /// may fail only because of what it was given).
    func convert(_ node: ONNXNode, index: Int) {
        let inputs: [ONNXImportValue?] = node.inputs.map { $0.isEmpty ? nil : values[$0] }
        let op = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
        if inputs.contains(where: { if case .failed? = $0 { true } else { false } }) {
            // Downstream of a problem: only operators Zoo has no conversion for at all are listed.
            if !ONNXGraphConversion.runtimeOps.contains(op), !ONNXConstantFolding.ops.contains(op) {
                unsupported.append((index, op, label(of: index), node.domain.isEmpty ? "no engine layer computes it" : "an operator of domain '\(node.domain)'"))
            }
            for output in node.outputs { values[output] = .failed }
            return
        }
        do {
            let constants = inputs.compactMap { value -> ONNXConstant? in if case .constant(let c)? = value { c } else { nil } }
            let results: [ONNXImportValue]
            if ["Shape", "Size"].contains(op), case .runtime(let x)? = inputs.first ?? nil {
                // The shape of a computed tensor is known (the batch as a marker).
                let known = ONNXConstant(shape: x.shape, type: .float, values: [], source: node.inputs[0])
                results = try ONNXConstantFolding(node: node, opset: opset, name: node.outputs.first ?? "").fold([known]).map { .constant($0) }
            } else if constants.count == inputs.compactMap({ $0 }).count, ONNXConstantFolding.ops.contains(op) {
                results = try ONNXConstantFolding(node: node, opset: opset, name: node.outputs.first ?? "").fold(inputs.map { value in
                    if case .constant(let c)? = value { c } else { nil }
                }).map { .constant($0) }
            } else if ONNXGraphConversion.runtimeOps.contains(op) {
                results = try convertRuntime(node, inputs: inputs)
            } else if ONNXConstantFolding.ops.contains(op) {
                throw ONNXImportUnsupported("only folded when its inputs are constants; here they are computed")
            } else {
                throw ONNXImportUnsupported(node.domain.isEmpty ? "no engine layer computes it" : "an operator of domain '\(node.domain)'")
            }
            for case .runtime(let value) in results {
                guard let count = checkedElementCount(Array(value.shape.dropFirst())), count <= ONNXShapeFolding.largestSample else {
                    throw ONNXImportUnsupported("its output of shape \(value.shape.dropFirst()) per sample is larger than Zoo handles (2³² elements)")
                }
            }
            for (k, output) in node.outputs.enumerated() where !output.isEmpty {
                if k < results.count {
                    values[output] = results[k]
                } else if consumed.contains(output) {
                    throw ONNXImportUnsupported("its output \(k) ('\(output)') is used; Zoo computes only the first \(results.count)")
                } else {
                    values[output] = .failed
                }
            }
        } catch let error as ONNXImportUnsupported {
            unsupported.append((index, op, label(of: index), error.reason))
            for output in node.outputs { values[output] = .failed }
        } catch {
            unsupported.append((index, op, label(of: index), "\(error)"))
            for output in node.outputs { values[output] = .failed }
        }
    }

    /// The operators converted to engine layers when an input is computed.
    static let runtimeOps = [
        "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization", "PRelu",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax",
        "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Softplus", "Softsign",
        "Gelu", "Mish", "Exp", "Softmax", "LogSoftmax",
        "Add", "Sub", "Mul", "Div", "Concat", "Sum", "Mean", "Max", "Min", "Slice",
        "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze",
        "Dropout", "Identity", "Cast", "Pad", "Resize", "Upsample",
    ]

    func convertRuntime(_ node: ONNXNode, inputs: [ONNXImportValue?]) throws -> [ONNXImportValue] {
        switch node.opType {
        case "Conv": return [.runtime(try convolution(node, inputs))]
        case "ConvTranspose": return [.runtime(try convolutionTranspose(node, inputs))]
        case "LayerNormalization": return [.runtime(try layerNormalization(node, inputs))]
        case "Gemm": return [.runtime(try gemm(node, inputs))]
        case "MatMul": return [.runtime(try matMul(node, inputs))]
        case "BatchNormalization": return [.runtime(try batchNormalization(node, inputs))]
        case "PRelu": return [.runtime(try prelu(node, inputs))]
        case "MaxPool", "AveragePool": return [.runtime(try pooling(node, inputs))]
        case "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax": return [.runtime(try globalPooling(node, inputs))]
        case "Softmax", "LogSoftmax": return [.runtime(try softmax(node, inputs))]
        case "Add", "Sub", "Mul", "Div", "Sum", "Mean", "Max", "Min": return [.runtime(try elementwise(node, inputs))]
        case "Slice": return [.runtime(try crop(node, inputs))]
        case "Concat": return [.runtime(try concat(node, inputs))]
        case "Flatten": return [.runtime(try flatten(node, inputs))]
        case "Reshape": return [.runtime(try reshape(node, inputs))]
        case "Transpose": return [.runtime(try transpose(node, inputs))]
        case "Squeeze", "Unsqueeze": return [.runtime(try squeeze(node, inputs))]
        case "Dropout", "Identity": return [.runtime(try runtime(inputs, 0, node))]
        case "Cast":
            let to = node.attribute("to")?.int ?? 1
            guard to == Int64(ONNXDataType.float.rawValue) else { throw ONNXImportUnsupported("casts a computed tensor to type \(to); the engine computes float32") }
            return [.runtime(try runtime(inputs, 0, node))]
        case "Pad": return [.runtime(try pad(node, inputs))]
        case "Resize", "Upsample": return [.runtime(try resize(node, inputs))]
        default: return [.runtime(try activation(node, inputs))]
        }
    }

    // MARK: Inputs of a node

    /// Input `k`, which must be computed.
    func runtime(_ inputs: [ONNXImportValue?], _ k: Int, _ node: ONNXNode) throws -> ONNXRuntimeValue {
        guard case .runtime(let value)? = inputs[safe: k] ?? nil else {
            throw ONNXImportUnsupported("input \(k) must be a computed tensor")
        }
        return value
    }

    /// Input `k`, which must be a constant (a weight, a shape); nil when omitted.
    func constant(_ inputs: [ONNXImportValue?], _ k: Int, _ what: String) throws -> ONNXConstant? {
        switch inputs[safe: k] ?? nil {
        case .constant(let c)?: return c
        case nil: return nil
        default: throw ONNXImportUnsupported("its \(what) (input \(k)) is computed; Zoo needs a constant")
        }
    }

    /// Input `k`, a required constant.
    func requiredConstant(_ inputs: [ONNXImportValue?], _ k: Int, _ what: String) throws -> ONNXConstant {
        guard let c = try constant(inputs, k, what) else { throw ONNXImportUnsupported("its \(what) (input \(k)) is missing") }
        return c
    }

    /// Integer list from attribute `name` before `opset` `since`, from input `k` from then on.
    func intsSetting(_ node: ONNXNode, _ inputs: [ONNXImportValue?], attribute name: String, input k: Int, since: Int) throws -> [Int]? {
        if opset < since { return node.attribute(name)?.ints?.map { Int($0) } }
        return try constant(inputs, k, name)?.ints()
    }

    // MARK: Engine nodes

    /// Appends an engine node named after `name` (made unique) and returns its name.
    @discardableResult
    func emit(_ layer: LayerConfig, inputs: [String], name: String) -> String {
        let unique = uniqueName(name)
        nodeIndex[unique] = nodes.count
        nodes.append(.init(name: unique, layer: layer, inputs: inputs))
        return unique
    }

    /// `base` made a valid, unused engine name (letters, digits, `.`, `_`, `-`; `_1`, `_2`, … when taken).
    func uniqueName(_ base: String) -> String {
        var name = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
        while name.hasPrefix(".") || name.hasPrefix("-") || name.hasPrefix("_") { name.removeFirst() }
        if name.isEmpty { name = "node" }
        var candidate = name, k = 1
        while usedNames.contains(candidate) { candidate = "\(name)_\(k)"; k += 1 }
        usedNames.insert(candidate)
        return candidate
    }

    /// The engine name for `node`: its weight's module path (`features.0.0.weight` → `features.0.0`);
    /// else the module path of the TorchScript exporter's scoped name
    /// (`/features/features.1/block/block.0/block.0.0/Conv` → `features.1.block.0.0`), with the
    /// operator for nodes without weights (`features.0.2.relu`); else the node's name or first output.
    func engineName(_ node: ONNXNode, weight: ONNXConstant? = nil) -> String {
        if let source = weight?.source, source.hasSuffix(".weight"), !source.hasPrefix("onnx::") {
            return String(source.dropLast(".weight".count))
        }
        let parts = node.name.split(separator: "/").map(String.init)
        if node.name.hasPrefix("/"), parts.count >= 2 {
            var path: [String] = [], previous = ""
            for part in parts.dropLast() {
                if !previous.isEmpty, part.hasPrefix(previous + ".") { path.append(String(part.dropFirst(previous.count + 1))) } else { path.append(part) }
                previous = part
            }
            let module = path.joined(separator: ".")
            return weight != nil ? module : module + "." + parts.last!.split(separator: "_").first!.lowercased()
        }
        return node.name.isEmpty ? (node.outputs.first ?? node.opType) : node.name
    }

    /// Records a variable's value.
    func addWeight(_ node: String, _ variable: String, from constant: ONNXConstant, shape: [Int], _ values: @escaping @Sendable ([Float]) -> [Float]) {
        let source = constant
        weights.append(ONNXImportedWeight(variable: "\(node)/\(variable)", source: source.source, shape: shape) { values(try source.floats()) })
    }

    /// `value` laid out with engine axis i holding ONNX axis `order[i]`: a `Permute` node, or a
    /// `Reshape` when only axes of size 1 move, or nothing when it already is.
    func reorder(_ value: ONNXRuntimeValue, to order: [Int], for name: String) -> ONNXRuntimeValue {
        guard value.order != order else { return value }
        var result = value
        result.order = order
        let moving = { (o: [Int]) in o.dropFirst().filter { value.shape[$0] != 1 } }
        if moving(value.order) == moving(order) {
            result.node = emit(.reshape(result.engineShape), inputs: [value.node], name: name + ".reorder")
        } else {
            let dims = order.dropFirst().map { value.order.firstIndex(of: $0)! }
            result.node = emit(.permute(dims), inputs: [value.node], name: name + ".permute")
        }
        return result
    }

    /// `value` with its channel axis (ONNX axis 1) last in the engine, the other axes in ONNX order.
    func channelsLast(_ value: ONNXRuntimeValue, for name: String) -> ONNXRuntimeValue {
        reorder(value, to: [0] + (2..<value.rank).map { $0 } + (value.rank > 1 ? [1] : []), for: name)
    }

    // MARK: Outputs

    /// The description without the nodes no output needs (fused-away activations, dead branches).
    func pruned(_ description: NetworkDescription) -> NetworkDescription {
        var needed = Set<String>(), stack = description.outputs
        while let name = stack.popLast() {
            guard needed.insert(name).inserted, let index = nodeIndex[name] else { continue }
            stack.append(contentsOf: nodes[index].inputs)
        }
        var copy = description
        copy.nodes = description.nodes.filter { needed.contains($0.name) }
        return copy
    }

    // MARK: Metadata

    /// `zoo.labels`: a JSON list of strings.
    func metadataLabels() throws -> [String]? {
        guard let text = model.metadataProps.last(where: { $0.key == "zoo.labels" })?.value else { return nil }
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw ZooKitError.invalidRequest("ONNX metadata 'zoo.labels' is not a JSON list of strings: \(text.prefix(80))")
        }
    }

    /// `zoo.preprocessing`: the manifest's `input` object (`shape`, `preprocessing`, `image`).
    func metadataInput() throws -> InputSpec? {
        guard let text = model.metadataProps.last(where: { $0.key == "zoo.preprocessing" })?.value else { return nil }
        do {
            return try JSONDecoder().decode(InputSpec.self, from: Data(text.utf8))
        } catch {
            throw ZooKitError.invalidRequest("ONNX metadata 'zoo.preprocessing' is not a manifest 'input' object: \(text.prefix(80))")
        }
    }
}
