/// A Keras model config — Sequential or Functional, Keras 2 or Keras 3, with nested models,
/// shared layers and operator nodes — flattened into a graph of layer calls.
///
/// Both generations describe a Functional model as its layers, each with `inbound_nodes`: one
/// entry per call of the layer, naming the tensors it was called on as
/// `[layer, node index, tensor index]`:
///
///     Keras 2: "inbound_nodes": [[["conv1", 0, 0, {}]], [["r", 0, 0, {}]]]       one list of entries per call
///              TFOpLambda:      [["add", 0, 0, {"y": 1.0, "name": null}]]        the call is the entry
///                               [["_CONSTANT_VALUE", -1, 1.0, {"y": ["a", 0, 0]}]]  a constant first argument
///     Keras 3: "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
///                                          "config": {"keras_history": ["conv1", 0, 0]}}, 1.0],
///                                 "kwargs": {}}]
///
/// A nested model called as a layer is expanded in place: its layers become nodes named
/// `model/layer`, fed by the tensors the call passed (Keras 2 numbers a nested Functional
/// model's calls from 1: its node 0 is the model's own construction). A layer called more than
/// once gives a node per call, the k-th extra one named `layer@k` (its weights are the first
/// call's). Keras 3 operator nodes (`x + 1.0` → class `Add`, module `keras.src.ops.numpy`)
/// and Keras 2 `TFOpLambda` layers keep their constant arguments.
public struct KerasGraph: Sendable, Equatable {
    /// What a call takes: another node's output, or a constant from the config.
    public enum Input: Sendable, Equatable {
        /// The output of the node (or graph input) with this name.
        case node(String)
        /// A constant the config spells out (`1.0` in `x + 1.0`).
        case constant(JSONValue)
    }

    /// One call of a layer or operator.
    public struct Node: Sendable, Equatable {
        /// Unique in the graph: the layer's path, `@k` for its k-th extra call.
        public let name: String
        /// The layer's path (`base/conv1`): what its weights are named by.
        public let layer: String
        /// The Keras class (`Conv2D`, `TFOpLambda`, `Add`, …).
        public let className: String
        /// Keras 3's module (`keras.layers`, `keras.src.ops.numpy`, …); nil in Keras 2.
        public let module: String?
        /// The layer's `config` object.
        public let config: JSONValue
        /// Positional inputs, lists flattened (`Add([a, b])` → a, b).
        public let inputs: [Input]
        /// Keyword inputs (`TFOpLambda`'s `y`, operator keywords), in config order.
        public let keywords: [String: Input]
        /// 0 for the first call of the layer, k for its k-th extra call.
        public let call: Int
    }

    /// One of the model's inputs.
    public struct GraphInput: Sendable, Equatable {
        /// The input layer's name (its path for a nested model's inputs).
        public let name: String
        /// Without the batch dimension; nil entries are free dimensions.
        public let shape: [Int?]
    }

    /// The model's name.
    public let name: String
    /// Whether the top level is a Sequential model.
    public let isSequential: Bool
    /// The model's inputs, in order.
    public let inputs: [GraphInput]
    /// In an order where every node comes after the nodes it takes.
    public let nodes: [Node]
    /// The nodes whose outputs are the model's outputs, in order.
    public let outputs: [String]
}

/// Why a config cannot be read as a graph.
public enum KerasGraphError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON is not a Sequential or Functional model config at all.
    case notAModelConfig(String)
    /// A layer or call that is malformed or names something that does not exist.
    case malformed(layer: String, problem: String)

    /// The problem in words, naming the layer.
    public var description: String {
        switch self {
        case .notAModelConfig(let why): return "not a Keras model config: \(why)"
        case .malformed(let layer, let problem): return "layer '\(layer)': \(problem)"
        }
    }
}

extension KerasGraph {
    /// Nodes whose output feeds more than one call (where the graph branches), with how many.
    public var branchPoints: [(node: String, consumers: Int)] {
        var count: [String: Int] = [:]
        for node in nodes {
            for input in node.inputs + node.keywords.values {
                if case .node(let name) = input { count[name, default: 0] += 1 }
            }
        }
        return (inputs.map(\.name) + nodes.map(\.name)).compactMap { name in
            count[name].flatMap { $0 > 1 ? (name, $0) : nil }
        }
    }

    /// Calls that take several tensors (merges: `Add`, `Concatenate`, …).
    public var merges: [String] {
        nodes.filter { node in
            (node.inputs + node.keywords.values).filter { if case .node = $0 { return true } else { return false } }.count > 1
        }.map(\.name)
    }

    /// A few lines for `zoo inspect`: the model, its inputs and outputs, where it branches.
    public var summary: [String] {
        func shape(_ dims: [Int?]) -> String { "[" + dims.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]" }
        let classes = Dictionary(grouping: nodes, by: \.className).map { ($0.key, $0.value.count) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        let branches = branchPoints
        var lines = [
            "model: \(isSequential ? "sequential" : "functional") '\(name)', \(nodes.count) calls of \(Set(nodes.map(\.layer)).count) layers",
            "  inputs: " + inputs.map { "\($0.name) \(shape($0.shape))" }.joined(separator: ", "),
            "  outputs: " + outputs.joined(separator: ", "),
            "  layers: " + classes.prefix(12).map { "\($0.0) ×\($0.1)" }.joined(separator: ", ") + (classes.count > 12 ? ", …" : ""),
        ]
        if !branches.isEmpty {
            lines.append("  branch points: \(branches.count) (" + branches.prefix(6).map { "\($0.node) → \($0.consumers)" }.joined(separator: ", ")
                         + (branches.count > 6 ? ", …" : "") + "), merges: \(merges.count)")
        }
        let shared = Set(nodes.filter { $0.call > 0 }.map(\.layer))
        if !shared.isEmpty { lines.append("  shared layers: " + shared.sorted().joined(separator: ", ")) }
        return lines
    }
}
