import ZooFormat
import ZooNet

/// A Keras model file (`.keras`, Keras 2 `.h5`) on the engine: its config flattened into a
/// graph (`KerasGraph`), each call converted by `KerasLayerCatalog`, the network built, and the
/// file's weights assigned strictly by name.
public enum KerasModelImporter {
    /// The network a Keras graph describes. `inputShapes` fills free input dimensions
    /// (`None` in Keras); without it every dimension must be known.
    /// - Throws: `ZooKitError.unsupportedLayers` listing every call that cannot be converted,
    ///   grouped by class; `ZooKitError.invalidRequest` for a free input dimension.
    public static func description(of graph: KerasGraph, inputShapes: [[Int]]? = nil) throws -> NetworkDescription {
        var inputs: [NetworkDescription.InputDescription] = []
        for (k, input) in graph.inputs.enumerated() {
            if let given = inputShapes?[safe: k] {
                inputs.append(.init(name: input.name, shape: given))
                continue
            }
            guard input.shape.allSatisfy({ $0 != nil }) else {
                throw ZooKitError.invalidRequest(
                    "input '\(input.name)' has free dimensions \(input.shape.map { $0.map(String.init) ?? "None" }); give its shape (--input-shape)")
            }
            inputs.append(.init(name: input.name, shape: input.shape.map { $0! }))
        }
        var nodes: [NetworkDescription.NodeDescription] = []
        var unsupported: [(className: String, layer: String, reason: String)] = []
        var firstCall: [String: String] = [:]  // layer path → the engine node of its first call
        for node in graph.nodes {
            let tensorInputs = node.inputs.compactMap { if case .node(let name) = $0 { return name } else { return nil } }
                + node.keywords.sorted { $0.key < $1.key }.compactMap { if case .node(let name) = $0.value { return name } else { return nil } }
            do {
                var converted = try KerasLayerCatalog.convert(node, inputs: tensorInputs).nodes
                // Later calls of a layer call the first call's engine layer again (shared
                // variables); only single-node conversions carry weights.
                if node.call == 0 { firstCall[node.layer] = converted.last?.name }
                else if converted.count == 1, let owner = firstCall[node.layer] { converted[0].shares = owner }
                nodes += converted
            } catch let error as KerasLayerCatalog.Unsupported {
                unsupported.append((error.className, node.layer, error.reason))
            }
        }
        guard unsupported.isEmpty else { throw ZooKitError.unsupportedLayers(UnsupportedLayers(unsupported)) }
        return NetworkDescription(inputs: inputs, nodes: nodes, outputs: graph.outputs)
    }

    /// Opens a Keras model file, builds its network and assigns its weights.
    /// - Returns: the network and the assignment report.
    /// - Throws: `FormatError` for a file Zoo cannot read, `ZooKitError.invalidRequest` for one
    ///   without a model config, `ZooKitError.unsupportedLayers`, `ZooKitError.assignmentFailed`
    ///   when the weights do not fit (nothing is assigned then).
    /// - Parameters:
    ///   - path: the `.keras` or Keras 2 `.h5` file.
    ///   - inputShapes: per-sample shapes for inputs with free dimensions.
    ///   - logits: drop each output's final softmax (the values before it).
    public static func load(_ path: String, inputShapes: [[Int]]? = nil, logits: Bool = false) throws
        -> (network: Network, report: AssignmentReport) {
        let archive = try TensorArchive.open(path)
        guard let graph = try archive.kerasGraph() else {
            throw ZooKitError.invalidRequest("\(path): no Keras model config in the file (a weights-only file needs an architecture)")
        }
        let network: Network
        do {
            var described = try description(of: graph, inputShapes: inputShapes)
            if logits { described = described.withoutFinalSoftmax }
            network = try Network(description: described)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: path, reason: error.description)
        }
        let report = try WeightAssigner.assign(mappedTensors(archive, for: network), to: network)
        return (network, report)
    }

    /// The archive's tensors under the engine's variable names: Keras canonical names
    /// (`layer/kernel`), with the names that differ between Keras 2 and 3 and the engine mapped
    /// (Keras 3 names a `DepthwiseConv2D`'s kernel `kernel`, Keras 2 and the engine `depthwise_kernel`).
    static func mappedTensors(_ archive: TensorArchive, for network: Network) -> [MappedTensor] {
        var aliases: [String: String] = [:]  // name in the file → variable name
        for (name, layer) in network.layersByName where layer is DepthwiseConv2D {
            aliases["\(name)/kernel"] = "\(name)/depthwise_kernel"
        }
        // Keras 2 files name a nested model's weights by the inner layer alone (`c1/kernel` for
        // the engine's `base/c1/kernel`): take the one variable with that suffix.
        let variables = Set(network.variables.map(\.name))
        var bySuffix: [String: [String]] = [:]
        for name in variables {
            var rest = Substring(name)
            while let slash = rest.firstIndex(of: "/") {
                rest = rest[rest.index(after: slash)...]
                if rest.contains("/") { bySuffix[String(rest), default: []].append(name) }
            }
        }
        // Keras 2.0 files name weights by TensorFlow scopes, which it made unique with a
        // suffix: `conv2d_1_1/kernel` holds layer `conv2d_1`'s kernel (fer's mini-Xception).
        func withoutScopeSuffix(_ name: String) -> String? {
            guard let slash = name.firstIndex(of: "/"), let underscore = name[..<slash].lastIndex(of: "_"),
                  name[name.index(after: underscore)..<slash].allSatisfy(\.isNumber), name.index(after: underscore) < slash
            else { return nil }
            return String(name[..<underscore]) + String(name[slash...])
        }
        // ConvNeXt's LayerScale runs as a 1×1 depthwise convolution: its γ `[C]` (Keras 2
        // `layer/gamma`, Keras 3 `layer/0`) is the kernel `[1, 1, C, 1]`, the same values.
        var layerScales: Set<String> = []
        for (name, layer) in network.layersByName {
            if let depthwise = layer as? DepthwiseConv2D, depthwise.kernelSize == (1, 1), !depthwise.useBias { layerScales.insert(name) }
        }
        return archive.tensors.map { tensor in
            let plain = NameMapping.dropIndexSuffix(tensor.name)
            if let slash = plain.lastIndex(of: "/"), ["gamma", "0"].contains(plain[plain.index(after: slash)...]),
               layerScales.contains(String(plain[..<slash])), tensor.shape.count == 1, !variables.contains(plain) {
                let name = String(plain[..<slash]) + "/depthwise_kernel"
                return MappedTensor(name: name, source: tensor.name, shape: [1, 1, tensor.shape[0], 1], isOptimizerState: false) {
                    try tensor.floats()
                }
            }
            var name = plain
            if !variables.contains(plain) {
                if let alias = aliases[plain] { name = alias }
                else if let candidates = bySuffix[plain], candidates.count == 1 { name = candidates[0] }
                else if let unscoped = withoutScopeSuffix(plain), variables.contains(unscoped) { name = unscoped }
            }
            return NameMapping.direct(tensor, name: name)
        }
    }
}

/// Calls a converter could not turn into engine layers, grouped by class for one message:
/// `unsupported layers: Lambda ×2 (lambda_1, lambda_2): a Lambda layer holds Python code …`.
public struct UnsupportedLayers: Sendable, Equatable, CustomStringConvertible {
    /// The calls of one class.
    public struct Group: Sendable, Equatable {
        /// The Keras class (`Lambda`, `MyCustomLayer`).
        public let className: String
        /// The layers of that class, in the model's order.
        public let layers: [String]
        /// Why the first of them cannot be converted.
        public let reason: String
    }

    /// One group per class, in order of first appearance.
    public let groups: [Group]

    init(_ items: [(className: String, layer: String, reason: String)]) {
        var order: [String] = []
        var byClass: [String: (layers: [String], reason: String)] = [:]
        for item in items {
            if byClass[item.className] == nil { order.append(item.className); byClass[item.className] = ([], item.reason) }
            byClass[item.className]?.layers.append(item.layer)
        }
        groups = order.map { Group(className: $0, layers: byClass[$0]!.layers, reason: byClass[$0]!.reason) }
    }

    /// `unsupported layers: Lambda ×2 (lambda_1, lambda_2): …; MyLayer ×1 (mine): …`.
    public var description: String {
        "unsupported layers: " + groups.map { group in
            let names = group.layers.prefix(5).joined(separator: ", ") + (group.layers.count > 5 ? ", …" : "")
            return "\(group.className) ×\(group.layers.count) (\(names)): \(group.reason)"
        }.joined(separator: "; ")
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

extension NetworkDescription {
    /// The same network giving, for each output that ends in a softmax, the values before it:
    /// a softmax activation node is skipped, a layer's own softmax activation becomes linear.
    public var withoutFinalSoftmax: NetworkDescription {
        var copy = self
        for (k, output) in outputs.enumerated() {
            guard let index = copy.nodes.firstIndex(where: { $0.name == output }) else { continue }
            switch copy.nodes[index].layer {
            case .activation(.softmax):
                copy.outputs[k] = copy.nodes[index].inputs[0]
            case .dense(let units, .softmax, let useBias):
                copy.nodes[index].layer = .dense(units: units, activation: .linear, useBias: useBias)
            case .conv2d(var settings) where settings.activation == .softmax:
                settings.activation = .linear
                copy.nodes[index].layer = .conv2d(settings)
            default:
                break
            }
        }
        return copy
    }
}
