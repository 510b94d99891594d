import ZooNet

/// torchvision's `mobilenet_v2(width_mult=α, num_classes=…)`, NHWC input `[h, w, 3]`, names
/// equal to its module paths: `features.0.0` (stem conv), `features.N.conv.…` (inverted
/// residual blocks), `features.18.0` (last 1×1 conv), `classifier.1` (the linear layer).
enum MobileNetV2 {
    /// (expansion t, channels c, repeats n, first stride s) per stage.
    static let stages = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    static func build(widthMultiplier α: Double = 1, classes: Int = 1000, inputSize: Int = 224, dropout: Float = 0.2) throws -> Network {
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var channels = makeDivisible(32 * α)
        let last = makeDivisible(1280 * max(1, α))
        func convBNReLU6(_ y: SymbolicTensor, _ prefix: String, filters: Int, kernel: Int, stride: Int = 1,
                         depthwise: Bool = false) -> SymbolicTensor {
            let c = depthwise
                ? TorchBuilder.depthwise(y, "\(prefix).0", kernel: kernel, stride: stride, padding: (kernel - 1) / 2)
                : TorchBuilder.conv(y, "\(prefix).0", filters: filters, kernel: kernel, stride: stride, padding: (kernel - 1) / 2)
            return TorchBuilder.activation(TorchBuilder.batchNorm(c, "\(prefix).1"), .relu6, "\(prefix).2")
        }
        var y = convBNReLU6(x, "features.0", filters: channels, kernel: 3, stride: 2)
        var index = 1
        for (t, c, n, s) in stages {
            let output = makeDivisible(Double(c) * α)
            for i in 0..<n {
                let stride = i == 0 ? s : 1
                let prefix = "features.\(index).conv"
                let hidden = Int((Double(channels) * Double(t)).rounded())
                var z = y
                var module = 0
                if t != 1 {
                    z = convBNReLU6(z, "\(prefix).0", filters: hidden, kernel: 1)
                    module = 1
                }
                z = convBNReLU6(z, "\(prefix).\(module)", filters: hidden, kernel: 3, stride: stride, depthwise: true)
                z = TorchBuilder.conv(z, "\(prefix).\(module + 1)", filters: output, kernel: 1)
                z = TorchBuilder.batchNorm(z, "\(prefix).\(module + 2)")
                y = stride == 1 && channels == output ? Add(name: "features.\(index).add")([y, z]) : z
                channels = output
                index += 1
            }
        }
        y = convBNReLU6(y, "features.\(index)", filters: last, kernel: 1)
        y = GlobalAveragePooling2D(name: "pool")(y)
        y = Dropout(rate: dropout, name: "classifier.0")(y)
        y = Dense(outputCount: classes, name: "classifier.1")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
