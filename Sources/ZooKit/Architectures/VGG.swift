import ZooNet

/// torchvision's VGG (`vgg11`, `vgg11_bn`, `vgg16`, …; `num_classes=…`), NHWC input `[h, w, 3]`
/// → logits `[classes]`, names equal to its module paths: `features.N` (3×3 convs with padding 1
/// and bias, `BatchNorm2d` after each with `_bn`, ReLU, 2×2 max pooling, numbered as
/// torchvision's `make_layers` numbers them), `classifier.0`, `classifier.3`, `classifier.6`.
///
/// After the features: `AdaptiveAvgPool2d((7, 7))` → `[7, 7, c]`, then PyTorch flattens a CHW
/// map. To keep `classifier.0.weight` loadable unchanged, a `Permute([3, 1, 2])` node
/// (`flatten_order`) turns the NHWC map into `[c, 7, 7]` before `Flatten`, so the flattened
/// vector has PyTorch's order c·49 + h·7 + w (the state dict's rows are not permuted at load).
enum VGG {
    /// torchvision's `cfgs`: channel counts, nil for a max pooling ("M").
    static let configurationA: [Int?] = [64, nil, 128, nil, 256, 256, nil, 512, 512, nil, 512, 512, nil]
    /// Configuration "D" (VGG-16).
    static let configurationD: [Int?] = [64, 64, nil, 128, 128, nil, 256, 256, 256, nil, 512, 512, 512, nil, 512, 512, 512, nil]

    /// Builds the network: `[inputSize, inputSize, 3]` → `[classes]`. `hidden` is the width of
    /// the two hidden linear layers (4096 in torchvision; the parity fixtures use less).
    static func build(configuration: [Int?], batchNorm: Bool, classes: Int = 1000, inputSize: Int = 224,
                      hidden: Int = 4096, dropout: Float = 0.5) throws -> Network {
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = x, index = 0
        for entry in configuration {
            guard let filters = entry else {
                y = MaxPooling2D(poolSize: (2, 2), strides: (2, 2), name: "features.\(index)")(y)
                index += 1
                continue
            }
            y = TorchBuilder.conv(y, "features.\(index)", filters: filters, kernel: 3, padding: 1, bias: true)
            index += 1
            if batchNorm {
                y = TorchBuilder.batchNorm(y, "features.\(index)")
                index += 1
            }
            y = TorchBuilder.activation(y, .relu, "features.\(index)")
            index += 1
        }
        y = AdaptiveAveragePooling2D(outputSize: (7, 7), name: "avgpool")(y)
        y = Permute([3, 1, 2], name: "flatten_order")(y)
        y = Flatten(name: "flatten")(y)
        y = Dense(outputCount: hidden, name: "classifier.0")(y)
        y = TorchBuilder.activation(y, .relu, "classifier.1")
        y = Dropout(rate: dropout, name: "classifier.2")(y)
        y = Dense(outputCount: hidden, name: "classifier.3")(y)
        y = TorchBuilder.activation(y, .relu, "classifier.4")
        y = Dropout(rate: dropout, name: "classifier.5")(y)
        y = Dense(outputCount: classes, name: "classifier.6")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
