/// One call of a layer in a graph: the layer (or an input placeholder) and the nodes whose
/// outputs it takes. Nodes are created by calling layers on `SymbolicTensor`s (the functional
/// API) or by `NetworkDescription`; a `Network` is a view over the nodes between its inputs
/// and outputs, so several networks may share nodes (a base and a transfer model on top).
final class GraphNode {
    enum Operation {
        /// A graph input with its per-sample shape.
        case input([Int])
        case layer(any Layer)
        case merge(any MergeLayer)
    }

    /// The layer; a shared layer's second and later calls get their own copy at build time.
    var operation: Operation
    let inputs: [GraphNode]
    /// For such a copy: the node whose layer it copies (its variables are tied to that one's).
    var sharing: GraphNode?
    /// For inputs: the given name or a default; layers carry their own (see `name`).
    private var inputName: String
    /// Per-sample output shape, set once the node is built.
    var outputShape: [Int]?

    init(_ operation: Operation, inputs: [GraphNode], name: String = "") {
        self.operation = operation
        self.inputs = inputs
        self.inputName = name
        if case let .input(shape) = operation { outputShape = shape }
    }

    /// The node's name: the layer's name, or the input's.
    var name: String {
        get {
            switch operation {
            case .input: return inputName
            case .layer(let layer): return layer.name
            case .merge(let layer): return layer.name
            }
        }
        set {
            switch operation {
            case .input: inputName = newValue
            case .layer(let layer): layer.name = newValue
            case .merge(let layer): layer.name = newValue
            }
        }
    }

    /// Default name prefix (`input_layer`, `conv2d`, `add`, …).
    var kind: String {
        switch operation {
        case .input: return "input_layer"
        case .layer(let layer): return layer.kind
        case .merge(let layer): return layer.kind
        }
    }

    /// The layer object (nil for inputs), for identity checks.
    var layerObject: AnyObject? {
        switch operation {
        case .input: return nil
        case .layer(let layer): return layer
        case .merge(let layer): return layer
        }
    }

    var variables: [Variable] {
        switch operation {
        case .input: return []
        case .layer(let layer): return layer.variables
        case .merge(let layer): return layer.variables
        }
    }

    var isInput: Bool { if case .input = operation { return true } else { return false } }

    /// A short description for error messages: `'conv2' (conv2d)`.
    var label: String { "'\(name)' (\(kind))" }
}

/// The symbolic output of a graph node: what the functional API passes between layers, as a
/// Keras `KerasTensor` does. It holds no data.
///
/// ```swift
/// let x = Input(shape: [28, 28, 1])
/// var y = Conv2D(filters: 8, kernelSize: (3, 3), padding: .same, activation: .relu)(x)
/// y = MaxPooling2D(poolSize: (2, 2))(y)
/// let logits = Dense(outputCount: 10)(Flatten()(y))
/// let model = try Network(inputs: [x], outputs: [logits])
/// ```
public struct SymbolicTensor {
    let node: GraphNode

    init(_ node: GraphNode) { self.node = node }

    /// The producing node's name (the layer's name; empty until a network names it).
    public var name: String { node.name }

    /// The per-sample shape, once known (inputs at once; layer outputs after a network built them).
    public var shape: [Int]? { node.outputShape }
}

/// A graph input of per-sample shape `shape` (batch excluded), Keras' `keras.Input(shape)`.
public func Input(shape: [Int], name: String = "") -> SymbolicTensor {
    SymbolicTensor(GraphNode(.input(shape), inputs: [], name: name))
}

extension Layer {
    /// Adds a node applying this layer to `input` (the functional API). Shapes are checked when
    /// a `Network` is built from the nodes.
    public func callAsFunction(_ input: SymbolicTensor) -> SymbolicTensor {
        SymbolicTensor(GraphNode(.layer(self), inputs: [input.node]))
    }
}

extension MergeLayer {
    /// Adds a node applying this layer to `inputs` (the functional API).
    public func callAsFunction(_ inputs: [SymbolicTensor]) -> SymbolicTensor {
        SymbolicTensor(GraphNode(.merge(self), inputs: inputs.map(\.node)))
    }
}
