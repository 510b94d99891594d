import ZooNet

/// Helpers for writing PyTorch architectures with the functional API: every layer named after
/// its PyTorch module path (`layer1.0.conv1`), so a `state_dict` maps onto the network's
/// variables one to one (`TorchStateDict`). Parameter-free modules a PyTorch model reuses
/// (one `relu` applied many times) get a node per use (`layer1.0.relu`, `layer1.0.relu_1`).
struct TorchBuilder {
    /// PyTorch `Conv2d(…, padding=p, bias=…)` → `Conv2D`. `padding` `nil` = TensorFlow "same"
    /// (the static same padding of EfficientNet's PyTorch ports).
    static func conv(_ x: SymbolicTensor, _ name: String, filters: Int, kernel: Int, stride: Int = 1, padding: Int? = 0,
                     groups: Int = 1, bias: Bool = false) -> SymbolicTensor {
        Conv2D(filters: filters, kernelSize: (kernel, kernel), strides: (stride, stride), groups: groups,
               padding: TorchBuilder.padding(padding), useBias: bias, name: name)(x)
    }

    /// PyTorch `Conv2d(c, c·m, groups=c)` → `DepthwiseConv2D` (depth multiplier m).
    static func depthwise(_ x: SymbolicTensor, _ name: String, kernel: Int, stride: Int = 1, padding: Int? = 0,
                          multiplier: Int = 1, bias: Bool = false) -> SymbolicTensor {
        DepthwiseConv2D(kernelSize: (kernel, kernel), strides: (stride, stride), depthMultiplier: multiplier,
                        padding: TorchBuilder.padding(padding), useBias: bias, name: name)(x)
    }

    private static func padding(_ p: Int?) -> Padding { p.map { $0 == 0 ? .valid : .symmetric($0) } ?? .same }

    /// PyTorch `BatchNorm2d(eps, momentum)` (PyTorch's momentum m is Keras' 1 − m).
    static func batchNorm(_ x: SymbolicTensor, _ name: String, epsilon: Float = 1e-5, momentum: Float = 0.1) -> SymbolicTensor {
        BatchNorm(momentum: 1 - momentum, epsilon: epsilon, name: name)(x)
    }

    static func activation(_ x: SymbolicTensor, _ activation: Activation, _ name: String) -> SymbolicTensor {
        ActivationLayer(activation, name: name)(x)
    }

    /// torchvision `Conv2dNormActivation(kernel, stride, groups)` at `prefix`: `prefix.0` conv
    /// (padding (k − 1)/2, no bias; depthwise when `depthwise`), `prefix.1` BN, `prefix.2` the
    /// activation (none when nil). `[h, w, c]` → `[⌈h/s⌉, ⌈w/s⌉, filters]`.
    static func convNormActivation(_ x: SymbolicTensor, _ prefix: String, filters: Int, kernel: Int, stride: Int = 1,
                                   depthwise: Bool = false, activation: Activation?,
                                   epsilon: Float = 1e-5, momentum: Float = 0.1) -> SymbolicTensor {
        let padding = (kernel - 1) / 2
        let c = depthwise
            ? TorchBuilder.depthwise(x, "\(prefix).0", kernel: kernel, stride: stride, padding: padding)
            : TorchBuilder.conv(x, "\(prefix).0", filters: filters, kernel: kernel, stride: stride, padding: padding)
        let y = TorchBuilder.batchNorm(c, "\(prefix).1", epsilon: epsilon, momentum: momentum)
        return activation.map { TorchBuilder.activation(y, $0, "\(prefix).2") } ?? y
    }

    /// torchvision `ops.SqueezeExcitation(c, squeeze, activation, scale_activation)` at `prefix`:
    /// s = scale(fc2(activation(fc1(avgpool(x))))) with `fc1`, `fc2` 1×1 convolutions with bias,
    /// y = s · x. `[h, w, c]` → `[h, w, c]` (s is `[1, 1, c]`, broadcast).
    static func squeezeExcitation(_ x: SymbolicTensor, _ prefix: String, channels: Int, squeeze: Int,
                                  activation: Activation, scale: Activation) -> SymbolicTensor {
        var s = GlobalAveragePooling2D(keepDims: true, name: "\(prefix).avgpool")(x)
        s = TorchBuilder.conv(s, "\(prefix).fc1", filters: squeeze, kernel: 1, bias: true)
        s = TorchBuilder.activation(s, activation, "\(prefix).activation")
        s = TorchBuilder.conv(s, "\(prefix).fc2", filters: channels, kernel: 1, bias: true)
        s = TorchBuilder.activation(s, scale, "\(prefix).scale_activation")
        return Multiply(name: "\(prefix).mul")([s, x])
    }

    /// PyTorch `nn.PReLU(c)`: one slope per channel (the last axis), shared over all others.
    /// Its `weight` `[c]` loads into `alpha` `[1, …, 1, c]`.
    static func prelu(_ x: SymbolicTensor, _ name: String, rank: Int) -> SymbolicTensor {
        PReLU(alphaInitializer: .constant(0.25), sharedAxes: Array(1..<rank), name: name)(x)
    }
}

/// `torchvision.models._utils._make_divisible`: `v` rounded to the nearest multiple of
/// `divisor` (at least `minimum`, never more than 10% below `v`).
func makeDivisible(_ v: Double, _ divisor: Int = 8, minimum: Int? = nil) -> Int {
    let minimum = minimum ?? divisor
    var value = max(minimum, Int(v + Double(divisor) / 2) / divisor * divisor)
    if Double(value) < 0.9 * v { value += divisor }
    return value
}
