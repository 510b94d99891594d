import ZooNet

/// torchvision's `mobilenet_v3_small` / `mobilenet_v3_large(width_mult=α, num_classes=…)`, NHWC
/// input `[h, w, 3]` → logits `[classes]`, names equal to its module paths: `features.0.0`
/// (stem conv, hardswish), `features.N.block.M.{0,1}` (expand / depthwise / project conv and
/// BN of inverted residual N), `features.N.block.M.fc1` / `.fc2` (squeeze-excitation 1×1 convs),
/// `features.L.0` (last 1×1 conv), `classifier.0` and `classifier.3` (the two linear layers).
///
/// BN ε 1e-3, momentum 0.01. Squeeze-excitation: s = hardsigmoid(fc2(relu(fc1(avgpool(x))))),
/// hardsigmoid(x) = relu6(x + 3)/6, y = s · x, with `_make_divisible(expanded / 4, 8)` squeeze
/// channels. Hardswish(x) = x · relu6(x + 3)/6. Not reproduced: torchvision's `reduced_tail`
/// and `dilated` options (segmentation backbones).
enum MobileNetV3 {
    enum Size { case small, large }

    /// One bottleneck (`InvertedResidualConfig`): input, kernel, expanded, output channels,
    /// squeeze-excitation, hardswish (else ReLU), stride.
    struct Bottleneck {
        let input: Int, kernel: Int, expanded: Int, output: Int, se: Bool, hardswish: Bool, stride: Int
        init(_ input: Int, _ kernel: Int, _ expanded: Int, _ output: Int, _ se: Bool, _ activation: String, _ stride: Int) {
            (self.input, self.kernel, self.expanded, self.output, self.se, self.hardswish, self.stride)
                = (input, kernel, expanded, output, se, activation == "HS", stride)
        }
    }

    /// torchvision `_mobilenet_v3_conf`: the bottlenecks (before the width multiplier) and the
    /// classifier's hidden width.
    static func configuration(_ size: Size) -> (blocks: [Bottleneck], lastChannel: Int) {
        switch size {
        case .large:
            return ([Bottleneck(16, 3, 16, 16, false, "RE", 1), Bottleneck(16, 3, 64, 24, false, "RE", 2),
                     Bottleneck(24, 3, 72, 24, false, "RE", 1), Bottleneck(24, 5, 72, 40, true, "RE", 2),
                     Bottleneck(40, 5, 120, 40, true, "RE", 1), Bottleneck(40, 5, 120, 40, true, "RE", 1),
                     Bottleneck(40, 3, 240, 80, false, "HS", 2), Bottleneck(80, 3, 200, 80, false, "HS", 1),
                     Bottleneck(80, 3, 184, 80, false, "HS", 1), Bottleneck(80, 3, 184, 80, false, "HS", 1),
                     Bottleneck(80, 3, 480, 112, true, "HS", 1), Bottleneck(112, 3, 672, 112, true, "HS", 1),
                     Bottleneck(112, 5, 672, 160, true, "HS", 2), Bottleneck(160, 5, 960, 160, true, "HS", 1),
                     Bottleneck(160, 5, 960, 160, true, "HS", 1)], 1280)
        case .small:
            return ([Bottleneck(16, 3, 16, 16, true, "RE", 2), Bottleneck(16, 3, 72, 24, false, "RE", 2),
                     Bottleneck(24, 3, 88, 24, false, "RE", 1), Bottleneck(24, 5, 96, 40, true, "HS", 2),
                     Bottleneck(40, 5, 240, 40, true, "HS", 1), Bottleneck(40, 5, 240, 40, true, "HS", 1),
                     Bottleneck(40, 5, 120, 48, true, "HS", 1), Bottleneck(48, 5, 144, 48, true, "HS", 1),
                     Bottleneck(48, 5, 288, 96, true, "HS", 2), Bottleneck(96, 5, 576, 96, true, "HS", 1),
                     Bottleneck(96, 5, 576, 96, true, "HS", 1)], 1024)
        }
    }

    /// Builds the network: `[inputSize, inputSize, 3]` → `[classes]`.
    static func build(_ size: Size, widthMultiplier α: Double = 1, classes: Int = 1000, inputSize: Int = 224,
                      dropout: Float = 0.2) throws -> Network {
        let (blocks, lastChannel) = configuration(size)
        let adjust = { (c: Int) in makeDivisible(Double(c) * α) }
        func cna(_ y: SymbolicTensor, _ prefix: String, _ filters: Int, kernel: Int, stride: Int = 1,
                 depthwise: Bool = false, _ activation: Activation?) -> SymbolicTensor {
            TorchBuilder.convNormActivation(y, prefix, filters: filters, kernel: kernel, stride: stride, depthwise: depthwise,
                                            activation: activation, epsilon: 1e-3, momentum: 0.01)
        }
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = cna(x, "features.0", adjust(blocks[0].input), kernel: 3, stride: 2, .hardSwish)
        for (i, b) in blocks.enumerated() {
            let prefix = "features.\(i + 1).block"
            let (input, expanded, output) = (adjust(b.input), adjust(b.expanded), adjust(b.output))
            let activation: Activation = b.hardswish ? .hardSwish : .relu
            var z = y, module = 0
            if expanded != input {
                z = cna(z, "\(prefix).0", expanded, kernel: 1, activation)
                module += 1
            }
            z = cna(z, "\(prefix).\(module)", expanded, kernel: b.kernel, stride: b.stride, depthwise: true, activation)
            module += 1
            if b.se {
                z = TorchBuilder.squeezeExcitation(z, "\(prefix).\(module)", channels: expanded, squeeze: makeDivisible(Double(expanded / 4)),
                                                   activation: .relu, scale: .hardSigmoid)
                module += 1
            }
            z = cna(z, "\(prefix).\(module)", output, kernel: 1, nil)
            y = b.stride == 1 && input == output ? Add(name: "features.\(i + 1).add")([z, y]) : z
        }
        let lastConv = 6 * adjust(blocks[blocks.count - 1].output)
        y = cna(y, "features.\(blocks.count + 1)", lastConv, kernel: 1, .hardSwish)
        y = GlobalAveragePooling2D(name: "avgpool")(y)
        y = Dense(outputCount: adjust(lastChannel), name: "classifier.0")(y)
        y = TorchBuilder.activation(y, .hardSwish, "classifier.1")
        y = Dropout(rate: dropout, name: "classifier.2")(y)
        y = Dense(outputCount: classes, name: "classifier.3")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
