import ZooNet

/// torchvision's `squeezenet1_1(num_classes=…)`, NHWC input `[h, w, 3]` → `[classes]`, names
/// equal to its module paths: `features.0` (3×3 stride-2 conv), `features.N.squeeze`,
/// `features.N.expand1x1`, `features.N.expand3x3` (Fire modules), `classifier.1` (the final
/// 1×1 conv with bias).
///
/// Max poolings 3×3 stride 2 with `ceil_mode=True` (output ⌈(h − 3)/2⌉ + 1). A Fire module:
/// s = relu(squeeze(x)); y = concat(relu(expand1x1(s)), relu(expand3x3(s))) on the channel
/// axis (expand 1×1 first, as `torch.cat(…, 1)`). Classifier: dropout, conv, ReLU, global
/// average pooling (`AdaptiveAvgPool2d((1, 1))`), flatten.
enum SqueezeNet {
    /// `features` of version 1.1: nil for a max pooling, else a Fire module's (squeeze, expand1x1, expand3x3).
    static let fires: [(Int, Int, Int)?] = [nil, (16, 64, 64), (16, 64, 64), nil, (32, 128, 128), (32, 128, 128), nil,
                                            (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)]

    /// Builds the network: `[inputSize, inputSize, 3]` → `[classes]`.
    static func build(classes: Int = 1000, inputSize: Int = 224, dropout: Float = 0.5) throws -> Network {
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = TorchBuilder.conv(x, "features.0", filters: 64, kernel: 3, stride: 2, bias: true)
        y = TorchBuilder.activation(y, .relu, "features.1")
        for (offset, fire) in fires.enumerated() {
            let prefix = "features.\(offset + 2)"
            guard let fire else {
                y = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), ceilMode: true, name: prefix)(y)
                continue
            }
            let (squeeze, expand1, expand3) = fire
            let s = TorchBuilder.activation(TorchBuilder.conv(y, "\(prefix).squeeze", filters: squeeze, kernel: 1, bias: true),
                                            .relu, "\(prefix).squeeze_activation")
            let e1 = TorchBuilder.activation(TorchBuilder.conv(s, "\(prefix).expand1x1", filters: expand1, kernel: 1, bias: true),
                                             .relu, "\(prefix).expand1x1_activation")
            let e3 = TorchBuilder.activation(TorchBuilder.conv(s, "\(prefix).expand3x3", filters: expand3, kernel: 3, padding: 1, bias: true),
                                             .relu, "\(prefix).expand3x3_activation")
            y = Concatenate(name: "\(prefix).cat")([e1, e3])
        }
        y = Dropout(rate: dropout, name: "classifier.0")(y)
        y = TorchBuilder.conv(y, "classifier.1", filters: classes, kernel: 1, bias: true)
        y = TorchBuilder.activation(y, .relu, "classifier.2")
        y = GlobalAveragePooling2D(name: "classifier.3")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
