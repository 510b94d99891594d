import ZooNet

/// torchvision's EfficientNet-B0 (`efficientnet_b0(num_classes=…)`), NHWC input `[h, w, 3]` →
/// logits `[classes]`, names equal to its module paths: `features.0.0` (stem conv),
/// `features.S.B.block.M.{0,1}` (expand / depthwise / project conv and BN of block B of stage S),
/// `features.S.B.block.M.fc1` / `.fc2` (squeeze-excitation 1×1 convs), `features.8.0` (head
/// conv), `classifier.1` (the linear layer).
///
/// SiLU (x·σ(x)) everywhere; BN ε 1e-5, momentum 0.1 (PyTorch defaults). Squeeze-excitation:
/// s = σ(fc2(silu(fc1(avgpool(x))))), y = s · x, with max(1, block input / 4) squeeze channels.
/// Stochastic depth on the residual blocks (`features.S.B.stochastic_depth`, torchvision's
/// `StochasticDepth(p, "row")`, Keras' `Dropout(p, noise_shape=(None, 1, 1, 1))`): in training
/// each sample's block output is dropped with p = `stochasticDepth` · k / K (block k of K,
/// counted from 0 over all stages) and the survivors scaled by 1 / (1 − p); the identity in
/// inference. `widthMultiplier` and `depthMultiplier`
/// scale channels (`_make_divisible(c·w, 8)`) and repeats (⌈n·d⌉) as torchvision's
/// `MBConvConfig` does (B0 is 1 and 1; the parity fixtures use smaller values).
enum EfficientNet {
    /// (expansion, kernel, stride, input, output, repeats) per stage, torchvision's B0 table.
    static let stages = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                         (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]

    /// Builds the network: `[inputSize, inputSize, 3]` → `[classes]`.
    static func build(widthMultiplier w: Double = 1, depthMultiplier d: Double = 1, classes: Int = 1000,
                      inputSize: Int = 224, dropout: Float = 0.2, stochasticDepth: Float = 0.2) throws -> Network {
        let adjust = { (c: Int) in makeDivisible(Double(c) * w) }
        let repeatsOf = { (stage: Int) in Int((Double(stages[stage].5) * d).rounded(.up)) }
        let blocks = stages.indices.map(repeatsOf).reduce(0, +)
        var blockIndex = 0
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = TorchBuilder.convNormActivation(x, "features.0", filters: adjust(stages[0].3), kernel: 3, stride: 2, activation: .swish)
        for (s, (expansion, kernel, firstStride, firstInput, outputChannels, _)) in stages.enumerated() {
            let output = adjust(outputChannels)
            var input = adjust(firstInput)
            for b in 0..<repeatsOf(s) {
                let stride = b == 0 ? firstStride : 1
                let prefix = "features.\(s + 1).\(b)"
                let expanded = makeDivisible(Double(input * expansion))
                var z = y, module = 0
                if expanded != input {
                    z = TorchBuilder.convNormActivation(z, "\(prefix).block.0", filters: expanded, kernel: 1, activation: .swish)
                    module += 1
                }
                z = TorchBuilder.convNormActivation(z, "\(prefix).block.\(module)", filters: expanded, kernel: kernel, stride: stride,
                                                    depthwise: true, activation: .swish)
                z = TorchBuilder.squeezeExcitation(z, "\(prefix).block.\(module + 1)", channels: expanded, squeeze: max(1, input / 4),
                                                   activation: .swish, scale: .sigmoid)
                z = TorchBuilder.convNormActivation(z, "\(prefix).block.\(module + 2)", filters: output, kernel: 1, activation: nil)
                if stride == 1 && input == output {
                    let rate = stochasticDepth * Float(blockIndex) / Float(blocks)
                    if rate > 0 { z = Dropout(rate: rate, noiseShape: [1, 1, 1], name: "\(prefix).stochastic_depth")(z) }
                    y = Add(name: "\(prefix).add")([z, y])
                } else {
                    y = z
                }
                input = output
                blockIndex += 1
            }
        }
        y = TorchBuilder.convNormActivation(y, "features.\(stages.count + 1)", filters: 4 * adjust(stages[stages.count - 1].4),
                                            kernel: 1, activation: .swish)
        y = GlobalAveragePooling2D(name: "avgpool")(y)
        y = Dropout(rate: dropout, name: "classifier.0")(y)
        y = Dense(outputCount: classes, name: "classifier.1")(y)
        return try Network(inputs: [x], outputs: [y])
    }
}
