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
        case node(String)
        case constant(JSONValue)
    }

    /// One call of a layer or operator.
    public struct Node: Sendable, Equatable {
        /// Unique in the graph: the layer's path, `@k` for its k-th extra call.
        public let name: String
        /// The layer's path (`base/conv1`): what its weights are named by.
        public let layer: String
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

    public struct GraphInput: Sendable, Equatable {
        public let name: String
        /// Without the batch dimension; nil entries are free dimensions.
        public let shape: [Int?]
    }

    public let name: String
    public let isSequential: Bool
    public let inputs: [GraphInput]
    /// In an order where every node comes after the nodes it takes.
    public let nodes: [Node]
    public let outputs: [String]
}

/// Why a config cannot be read as a graph.
public enum KerasGraphError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAModelConfig(String)
    /// A layer or call that is malformed or names something that does not exist.
    case malformed(layer: String, problem: String)

    public var description: String {
        switch self {
        case .notAModelConfig(let why): return "not a Keras model config: \(why)"
        case .malformed(let layer, let problem): return "layer '\(layer)': \(problem)"
        }
    }
}
