import Testing
@testable import ZooNet

/// Deterministic test data.
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in Float(rng.nextNormal()) * scale }
}

func tensor(_ shape: [Int], seed: UInt64, scale: Float = 1) throws -> Tensor {
    try Tensor(shape: shape, scalars: randomValues(shape.reduce(1, *), seed: seed, scale: scale))
}

/// A convolution of a `kernel × kernel` filter over `[height, width, channels]` with equal strides
/// and dilations, the given pads, and the output size that follows.
func convolutionShape(height: Int, width: Int, channels: Int, outputChannels: Int, kernel: Int, stride: Int, dilation: Int,
                      pads: (top: Int, bottom: Int, left: Int, right: Int), groups: Int = 1) -> ConvolutionShape {
    var s = ConvolutionShape()
    s.inputHeight = height; s.inputWidth = width; s.inputChannels = channels
    s.kernelHeight = kernel; s.kernelWidth = kernel
    s.strideHeight = stride; s.strideWidth = stride
    s.dilationHeight = dilation; s.dilationWidth = dilation
    s.padTop = pads.top; s.padBottom = pads.bottom; s.padLeft = pads.left; s.padRight = pads.right
    s.outputHeight = (height + pads.top + pads.bottom - dilation * (kernel - 1) - 1) / stride + 1
    s.outputWidth = (width + pads.left + pads.right - dilation * (kernel - 1) - 1) / stride + 1
    s.outputChannels = outputChannels
    s.groups = groups
    return s
}

/// |a − b| ≤ rel·max(|a|, |b|) + abs, element-wise; returns the worst violation ratio.
func closeness(_ a: [Float], _ b: [Float], relative: Float, absolute: Float = 0) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let allowed = relative * max(abs(x), abs(y)) + absolute
        let error = abs(x - y)
        worst = max(worst, allowed == 0 ? (error == 0 ? 0 : .infinity) : error / allowed)
    }
    return worst
}

/// Central finite differences of the training-mode loss against the analytic gradients of the
/// trainable variables and of the input. Samples up to `perVariable` entries of each.
func checkGradients(
    _ network: Network, _ data: Dataset, loss: Loss, h: Float = 1e-3, perVariable: Int = 16,
    relative: Float = 2e-2, absolute: Float = 2e-3, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let (_, inputGradient) = try network.lossAndGradients(data, loss: loss)
    let variables = network.trainableVariables
    let analytic = variables.map { $0.gradient.array(count: $0.count) }
    for (v, g) in zip(variables, analytic) {
        for index in stride(from: 0, to: v.count, by: max(1, v.count / perVariable)) {
            let original = v.value.pointer[index]
            v.value.pointer[index] = original + h
            let plus = try network.lossAndGradients(data, loss: loss).loss
            v.value.pointer[index] = original - h
            let minus = try network.lossAndGradients(data, loss: loss).loss
            v.value.pointer[index] = original
            let numeric = Float((plus - minus) / Double(2 * h))
            #expect(abs(numeric - g[index]) <= relative * max(abs(numeric), abs(g[index])) + absolute,
                    "\(v.name)[\(index)]: numeric \(numeric) analytic \(g[index])", sourceLocation: sourceLocation)
        }
    }
    let x = data.inputs.scalars
    for index in stride(from: 0, to: x.count, by: max(1, x.count / perVariable)) {
        func lossAt(_ delta: Float) throws -> Double {
            var shifted = x
            shifted[index] += delta
            let d = try Dataset(inputs: Tensor(shape: data.inputs.shape, scalars: shifted), labels: data.labels)
            return try network.lossAndGradients(d, loss: loss).loss
        }
        let numeric = Float((try lossAt(h) - lossAt(-h)) / Double(2 * h))
        let a = inputGradient[index]
        #expect(abs(numeric - a) <= relative * max(abs(numeric), abs(a)) + absolute,
                "input[\(index)]: numeric \(numeric) analytic \(a)", sourceLocation: sourceLocation)
    }
}

/// MSE dataset with random targets for a network.
func regressionData(_ network: Network, batch: Int, seed: UInt64) throws -> Dataset {
    try Dataset(inputs: tensor([batch] + network.inputShape, seed: seed),
                labels: .values(tensor([batch] + network.outputShape, seed: seed &+ 99)))
}
