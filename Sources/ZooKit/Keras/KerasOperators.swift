import ZooFormat
import ZooNet

/// Operator nodes: Keras 3's (`x + 1.0` serializes as class `Add`, module
/// `keras.src.ops.numpy`, with the constant among its `args`) and Keras 2's `TFOpLambda`
/// (`"function": "__operators__.add"` / `"math.multiply"`, the other operand as the keyword
/// `y`, or as `_CONSTANT_VALUE` when it comes first).
///
/// Tensor ∘ tensor becomes a merge node (`add`, `subtract`, `multiply`); tensor ∘ constant a
/// `Rescaling` (`x + c` → offset c, `x·c` → scale c, `x − c`, `c − x`, `x/c`); a few unary
/// functions (relu, relu6, sigmoid, swish, the mean over the spatial axes) their layers.
enum KerasOperators {
    static func convert(_ node: KerasGraph.Node, inputs: [String]) throws -> KerasLayerCatalog.Conversion {
        let function = operation(of: node)
        // Operands in order: positional then the keyword `y` (TFOpLambda's second operand).
        var operands = node.inputs
        if let y = node.keywords["y"] { operands.append(y) }
        var tensorNames = inputs.makeIterator()
        let resolved: [Operand] = operands.map { input in
            switch input {
            case .node: return .tensor(tensorNames.next() ?? "")
            case .constant(let value): return .constant(value)
            }
        }
        func unsupported(_ reason: String) -> KerasLayerCatalog.Unsupported {
            KerasLayerCatalog.Unsupported(className: node.className, reason: reason)
        }
        func node1(_ layer: LayerConfig, _ sources: [String]) -> KerasLayerCatalog.Conversion {
            .init(nodes: [.init(name: node.name, layer: layer, inputs: sources)])
        }
        switch function {
        case "add", "subtract", "multiply", "divide", "truediv":
            guard resolved.count == 2 else { throw unsupported("\(function) with \(resolved.count) operands") }
            switch (resolved[0], resolved[1]) {
            case let (.tensor(a), .tensor(b)):
                guard function != "divide" && function != "truediv" else { throw unsupported("tensor / tensor") }
                return node1(.merge(function == "add" ? .add : function == "subtract" ? .subtract : .multiply), [a, b])
            case let (.tensor(a), .constant(value)):
                guard let c = KerasLayerCatalog.floats(value) else { throw unsupported("\(function) by \(value)") }
                switch function {
                case "add": return node1(.rescaling(scale: [1], offset: c), [a])
                case "subtract": return node1(.rescaling(scale: [1], offset: c.map { -$0 }), [a])
                case "multiply": return node1(.rescaling(scale: c, offset: [0]), [a])
                default:
                    guard !c.contains(0) else { throw unsupported("division by zero") }
                    return node1(.rescaling(scale: c.map { 1 / $0 }, offset: [0]), [a])
                }
            case let (.constant(value), .tensor(b)):
                guard let c = KerasLayerCatalog.floats(value) else { throw unsupported("\(value) \(function) tensor") }
                switch function {
                case "add": return node1(.rescaling(scale: [1], offset: c), [b])
                case "subtract": return node1(.rescaling(scale: [-1], offset: c), [b])
                case "multiply": return node1(.rescaling(scale: c, offset: [0]), [b])
                default: throw unsupported("constant / tensor")
                }
            default:
                throw unsupported("\(function) of two constants")
            }
        case "relu": return node1(.activation(.relu), inputs)
        case "relu6": return node1(.activation(.relu6), inputs)
        case "sigmoid": return node1(.activation(.sigmoid), inputs)
        case "silu", "swish": return node1(.activation(.swish), inputs)
        case "tanh": return node1(.activation(.tanh), inputs)
        case "hard_sigmoid": return node1(.activation(.hardSigmoid), inputs)
        case "hard_silu", "hard_swish": return node1(.activation(.hardSwish), inputs)
        case "reduce_mean", "mean":
            let axes = (node.keywords["axis"].flatMap(constantInts) ?? node.inputs.dropFirst().first.flatMap(constantInts)) ?? []
            let keep = node.keywords["keepdims"].flatMap { if case .constant(let v) = $0 { return v.boolValue } else { return nil } } ?? false
            guard Set(axes) == [1, 2] else { throw unsupported("mean over axes \(axes) (only the spatial axes 1, 2)") }
            return node1(.globalAveragePooling2d(keepDims: keep), inputs)
        default:
            throw unsupported("operator '\(function)'")
        }
    }

    enum Operand {
        case tensor(String)
        case constant(JSONValue)
    }

    /// The operation's short name: `add` for Keras 3's `Add` op and for `__operators__.add`,
    /// `math.add`, `math.multiply`, `nn.relu6`, …
    static func operation(of node: KerasGraph.Node) -> String {
        if node.className == "TFOpLambda" || node.className == "SlicingOpLambda" {
            let function = node.config["function"]?.stringValue ?? node.config["name"]?.stringValue ?? ""
            let last = function.split(separator: ".").last.map(String.init) ?? function
            switch last {
            case "mul": return "multiply"
            case "sub": return "subtract"
            default: return last
            }
        }
        // Keras 3 ops: CamelCase class names (Add, Multiply, TrueDivide, Relu6, HardSigmoid …).
        var result = ""
        for (i, character) in node.className.enumerated() {
            if character.isUppercase && i > 0 { result += "_" }
            result += character.lowercased()
        }
        return result == "true_divide" ? "truediv" : result
    }

    static func constantInts(_ input: KerasGraph.Input) -> [Int]? {
        guard case .constant(let value) = input else { return nil }
        if let n = value.intValue { return [n] }
        return value.arrayValue?.compactMap(\.intValue)
    }
}
