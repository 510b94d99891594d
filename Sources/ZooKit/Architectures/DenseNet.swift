import ZooNet

/// torchvision's DenseNet-BC (`densenet121(num_classes=…)`), NHWC input `[h, w, 3]` → logits
/// `[classes]`, names equal to its module paths: `features.conv0`, `features.norm0`,
/// `features.denseblockN.denselayerM.{norm1, conv1, norm2, conv2}`,
/// `features.transitionN.{norm, conv}`, `features.norm5`, `classifier`.
///
/// Dense layer M of a block sees the concatenation (channel axis, oldest first) of the
/// block's input and the M − 1 earlier layers' outputs: `[h, w, c₀ + (M − 1)·k]` →
/// norm1, ReLU, 1×1 conv to `bn_size·k`, norm2, ReLU, 3×3 conv (padding 1) to `[h, w, k]`
/// (k = growth rate). A transition halves channels (1×1 conv) and size (2×2 average
/// pooling, stride 2). Head: norm5, ReLU, global average pooling, linear. No bias in any conv.
enum DenseNet {
    /// Builds the network: `[inputSize, inputSize, 3]` → `[classes]`. `densenet121` is growth
    /// rate 32, blocks (6, 12, 24, 16), 64 initial features, bottleneck factor 4.
    static func build(growthRate k: Int = 32, blocks: [Int] = [6, 12, 24, 16], initialFeatures: Int = 64, bottleneck: Int = 4,
                      classes: Int = 1000, inputSize: Int = 224) throws -> Network {
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = TorchBuilder.conv(x, "features.conv0", filters: initialFeatures, kernel: 7, stride: 2, padding: 3)
        y = TorchBuilder.activation(TorchBuilder.batchNorm(y, "features.norm0"), .relu, "features.relu0")
        y = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .symmetric(1), name: "features.pool0")(y)
        var channels = initialFeatures
        for (b, layers) in blocks.enumerated() {
            let block = "features.denseblock\(b + 1)"
            var features = [y]
            for m in 1...layers {
                let prefix = "\(block).denselayer\(m)"
                var z = features.count == 1 ? features[0] : Concatenate(name: "\(prefix).cat")(features)
                z = TorchBuilder.activation(TorchBuilder.batchNorm(z, "\(prefix).norm1"), .relu, "\(prefix).relu1")
                z = TorchBuilder.conv(z, "\(prefix).conv1", filters: bottleneck * k, kernel: 1)
                z = TorchBuilder.activation(TorchBuilder.batchNorm(z, "\(prefix).norm2"), .relu, "\(prefix).relu2")
                features.append(TorchBuilder.conv(z, "\(prefix).conv2", filters: k, kernel: 3, padding: 1))
            }
            y = Concatenate(name: "\(block).cat")(features)
            channels += layers * k
            if b != blocks.count - 1 {
                let prefix = "features.transition\(b + 1)"
                y = TorchBuilder.activation(TorchBuilder.batchNorm(y, "\(prefix).norm"), .relu, "\(prefix).relu")
                y = TorchBuilder.conv(y, "\(prefix).conv", filters: channels / 2, kernel: 1)
                y = AveragePooling2D(poolSize: (2, 2), strides: (2, 2), name: "\(prefix).pool")(y)
                channels /= 2
            }
        }
        y = TorchBuilder.activation(TorchBuilder.batchNorm(y, "features.norm5"), .relu, "relu")
        y = GlobalAveragePooling2D(name: "avgpool")(y)
        y = Dense(outputCount: classes, name: "classifier")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
