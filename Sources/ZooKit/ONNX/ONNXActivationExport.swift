import ZooNet

extension ONNXGraphBuilder {
    /// Appends the operators computing `activation` of `value` and returns the result's name
    /// (`value` itself for `linear`). `channelAxis` is the axis softmax and log-softmax run
    /// over (1 for NCHW maps, −1 otherwise). Formulas as `Activation` states them:
    /// - relu → `Relu`; relu6 → `Clip(0, 6)`; leaky ReLU → `LeakyRelu(alpha)`; ELU → `Elu(alpha)`;
    ///   SELU → `Selu` (ONNX's default α, γ are the engine's); sigmoid, tanh, softplus, softsign
    ///   → the operators of those names; exponential → `Exp`
    /// - softmax, log-softmax → `Softmax` / `LogSoftmax(axis)` (opset 13's per-axis form)
    /// - hard sigmoid → `HardSigmoid(α, β)`: α = 1/6, β = ½ (Keras 3, PyTorch) or α = 0.2, β = ½ (Keras 2)
    /// - hard swish → `HardSwish` (opset 14), below it `x · HardSigmoid(1/6, ½)(x)`
    /// - swish → `x · Sigmoid(x)`
    /// - GELU → `Gelu(approximate)` (opset 20); below it `½x(1 + erf(x/√2))` or
    ///   `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`
    /// - mish → `Mish` (opset 18); below it `x · tanh(softplus(x))`
    mutating func activation(_ activation: Activation, of value: String, channelAxis: Int, name: String) throws -> String {
        let out = name + "/activation"
        switch activation {
        case .linear: return value
        case .relu: return add("Relu", [value], output: out)
        case .relu6:
            return add("Clip", [value, try scalar("zoo/zero", 0), try scalar("zoo/six", 6)], output: out)
        case .leakyReLU(let alpha): return add("LeakyRelu", [value], output: out, [.float("alpha", alpha)])
        case .elu(let alpha): return add("Elu", [value], output: out, [.float("alpha", alpha)])
        case .selu: return add("Selu", [value], output: out)
        case .sigmoid: return add("Sigmoid", [value], output: out)
        case .tanh: return add("Tanh", [value], output: out)
        case .softmax: return add("Softmax", [value], output: out, [.int("axis", channelAxis)])
        case .logSoftmax: return add("LogSoftmax", [value], output: out, [.int("axis", channelAxis)])
        case .hardSigmoid: return add("HardSigmoid", [value], output: out, [.float("alpha", 1.0 / 6), .float("beta", 0.5)])
        case .hardSigmoidKeras2: return add("HardSigmoid", [value], output: out, [.float("alpha", 0.2), .float("beta", 0.5)])
        case .hardSwish:
            if opset >= 14 { return add("HardSwish", [value], output: out) }
            let gate = add("HardSigmoid", [value], output: name + "/hard_sigmoid", [.float("alpha", 1.0 / 6), .float("beta", 0.5)])
            return add("Mul", [value, gate], output: out)
        case .swish:
            let gate = add("Sigmoid", [value], output: name + "/sigmoid")
            return add("Mul", [value, gate], output: out)
        case .gelu(let approximate):
            if opset >= 20 { return add("Gelu", [value], output: out, [.string("approximate", approximate ? "tanh" : "none")]) }
            let inner: String
            if approximate {
                let cube = add("Mul", [value, add("Mul", [value, value], output: name + "/x2")], output: name + "/x3")
                let sum = add("Add", [value, add("Mul", [cube, try scalar("zoo/gelu_c", 0.044715)], output: name + "/cx3")], output: name + "/u0")
                let u = add("Mul", [sum, try scalar("zoo/sqrt_2_over_pi", Float((2 / Double.pi).squareRoot()))], output: name + "/u")
                inner = add("Tanh", [u], output: name + "/tanh")
            } else {
                let scaled = add("Mul", [value, try scalar("zoo/inv_sqrt2", Float(1 / 2.0.squareRoot()))], output: name + "/x_sqrt2")
                inner = add("Erf", [scaled], output: name + "/erf")
            }
            let onePlus = add("Add", [inner, try scalar("zoo/one", 1)], output: name + "/one_plus")
            let half = add("Mul", [value, try scalar("zoo/half", 0.5)], output: name + "/half_x")
            return add("Mul", [half, onePlus], output: out)
        case .softplus: return add("Softplus", [value], output: out)
        case .softsign: return add("Softsign", [value], output: out)
        case .mish:
            if opset >= 18 { return add("Mish", [value], output: out) }
            let softplus = add("Softplus", [value], output: name + "/softplus")
            return add("Mul", [value, add("Tanh", [softplus], output: name + "/tanh")], output: out)
        case .exponential: return add("Exp", [value], output: out)
        }
    }
}
