import ZooNet

/// torchvision's ResNet (v1.5: the stride of a bottleneck block on its 3×3 convolution), NHWC
/// input `[h, w, 3]`, layer names equal to the module paths of `torchvision.models.resnet*`
/// (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`).
enum ResNet {
    enum Block { case basic, bottleneck }

    /// `resnet18` [2, 2, 2, 2] basic, `resnet34` [3, 4, 6, 3] basic, `resnet50` [3, 4, 6, 3]
    /// bottleneck, `resnet101` [3, 4, 23, 3], `resnet152` [3, 8, 36, 3]. `width` is the stem's
    /// channels (64 in torchvision; stage s has width·2ˢ), smaller for the conversion fixtures.
    static func build(block: Block, layers: [Int], classes: Int, inputSize: Int = 224, width base: Int = 64) throws -> Network {
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = TorchBuilder.conv(x, "conv1", filters: base, kernel: 7, stride: 2, padding: 3)
        y = TorchBuilder.activation(TorchBuilder.batchNorm(y, "bn1"), .relu, "relu")
        y = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .symmetric(1), name: "maxpool")(y)
        var channels = base
        let expansion = block == .basic ? 1 : 4
        for (stage, count) in layers.enumerated() {
            let width = base << stage
            for index in 0..<count {
                let stride = stage > 0 && index == 0 ? 2 : 1
                let prefix = "layer\(stage + 1).\(index)"
                let identity: SymbolicTensor
                if stride != 1 || channels != width * expansion {
                    let shortcut = TorchBuilder.conv(y, "\(prefix).downsample.0", filters: width * expansion, kernel: 1, stride: stride)
                    identity = TorchBuilder.batchNorm(shortcut, "\(prefix).downsample.1")
                } else {
                    identity = y
                }
                var z: SymbolicTensor
                switch block {
                case .basic:
                    z = TorchBuilder.conv(y, "\(prefix).conv1", filters: width, kernel: 3, stride: stride, padding: 1)
                    z = TorchBuilder.activation(TorchBuilder.batchNorm(z, "\(prefix).bn1"), .relu, "\(prefix).relu")
                    z = TorchBuilder.batchNorm(TorchBuilder.conv(z, "\(prefix).conv2", filters: width, kernel: 3, padding: 1), "\(prefix).bn2")
                case .bottleneck:
                    z = TorchBuilder.conv(y, "\(prefix).conv1", filters: width, kernel: 1)
                    z = TorchBuilder.activation(TorchBuilder.batchNorm(z, "\(prefix).bn1"), .relu, "\(prefix).relu")
                    z = TorchBuilder.conv(z, "\(prefix).conv2", filters: width, kernel: 3, stride: stride, padding: 1)
                    z = TorchBuilder.activation(TorchBuilder.batchNorm(z, "\(prefix).bn2"), .relu, "\(prefix).relu_1")
                    z = TorchBuilder.batchNorm(TorchBuilder.conv(z, "\(prefix).conv3", filters: width * 4, kernel: 1), "\(prefix).bn3")
                }
                y = TorchBuilder.activation(Add(name: "\(prefix).add")([z, identity]), .relu, "\(prefix).relu_out")
                channels = width * expansion
            }
        }
        y = GlobalAveragePooling2D(name: "avgpool")(y)
        y = Dense(outputCount: classes, name: "fc")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
