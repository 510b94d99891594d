/// Activations by their Keras names (`"relu"`, `"hard_swish"`, …), as configs and manifests
/// spell them.
extension Activation {
    /// The Keras name; parameters (α of leaky ReLU / ELU, GELU's approximation) are separate.
    public var name: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .relu6: return "relu6"
        case .leakyReLU: return "leaky_relu"
        case .elu: return "elu"
        case .selu: return "selu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .logSoftmax: return "log_softmax"
        case .hardSigmoid: return "hard_sigmoid"
        case .hardSigmoidKeras2: return "hard_sigmoid_keras2"
        case .hardSwish: return "hard_swish"
        case .swish: return "swish"
        case .gelu(let approximate): return approximate ? "gelu_tanh" : "gelu"
        case .softplus: return "softplus"
        case .softsign: return "softsign"
        case .mish: return "mish"
        case .exponential: return "exponential"
        }
    }

    /// α of leaky ReLU and ELU (nil for the others).
    public var alpha: Float? {
        switch self {
        case .leakyReLU(let alpha), .elu(let alpha): return alpha
        default: return nil
        }
    }

    /// The activation named `name` (Keras' names and aliases: `silu` = `swish`, `hard_silu` =
    /// `hard_swish`); `alpha` for leaky ReLU (default 0.3, Keras') and ELU (default 1).
    /// - Throws: `ZooNetError.invalidArgument` for a name ZooNet does not know.
    public init(name: String, alpha: Float? = nil) throws {
        switch name {
        case "linear", "identity", "": self = .linear
        case "relu": self = .relu
        case "relu6": self = .relu6
        case "leaky_relu": self = .leakyReLU(alpha: alpha ?? 0.3)
        case "elu": self = .elu(alpha: alpha ?? 1)
        case "selu": self = .selu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "softmax": self = .softmax
        case "log_softmax": self = .logSoftmax
        case "hard_sigmoid": self = .hardSigmoid
        case "hard_sigmoid_keras2": self = .hardSigmoidKeras2
        case "hard_swish", "hard_silu": self = .hardSwish
        case "swish", "silu": self = .swish
        case "gelu": self = .gelu(approximate: false)
        case "gelu_tanh": self = .gelu(approximate: true)
        case "softplus": self = .softplus
        case "softsign": self = .softsign
        case "mish": self = .mish
        case "exponential": self = .exponential
        default:
            throw ZooNetError.invalidArgument(
                "unknown activation '\(name)' (known: linear, relu, relu6, leaky_relu, elu, selu, sigmoid, tanh, softmax, "
                    + "log_softmax, hard_sigmoid, hard_sigmoid_keras2, hard_swish, swish, gelu, gelu_tanh, softplus, softsign, mish, exponential)")
        }
    }
}
