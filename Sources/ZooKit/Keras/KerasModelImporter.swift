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
    ///   - logits: drop each output's final activation (the values before it).
    public static func load(_ path: String, inputShapes: [[Int]]? = nil, logits: Bool = false) throws
        -> (network: Network, report: AssignmentReport) {
        let archive = try TensorArchive.open(path)
        guard let graph = try archive.kerasGraph() else {
            throw ZooKitError.invalidRequest("\(path): no Keras model config in the file (a weights-only file needs an architecture)")
        }
        let network: Network
        do {
            var described = try description(of: graph, inputShapes: inputShapes)
            if logits { described = described.withoutFinalActivation }
            network = try Network(description: described)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: path, reason: error.description)
        }
        let report = try WeightAssigner.assign(NameMapping(layout: .keras).apply(to: archive, network: network), to: network)
        return (network, report)
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
