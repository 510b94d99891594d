/// Depthwise-separable 2-D convolution (Keras `SeparableConv2D`): a depthwise convolution
/// (`<name>/depthwise_kernel` `[kh, kw, c, m]`, no bias) followed by a 1×1 pointwise convolution
/// (`<name>/pointwise_kernel` `[1, 1, c·m, filters]`) with the bias `<name>/bias` `[filters]`
/// and the activation: `y = f(pointwise(depthwise(x)) + b)`. Input `[h, w, c]`, output
/// `[oh, ow, filters]`; both stages on oneDNN. Training keeps the depthwise output (what the
/// pointwise stage's weight gradient needs).
public final class SeparableConv2D: Layer, BatchPreparing {
    public var name: String
    public var kind: String { "separable_conv2d" }
    /// The number of output channels.
    public let filters: Int
    /// The depthwise kernel's (kh, kw).
    public let kernelSize: (height: Int, width: Int)
    /// The depthwise step, (sh, sw).
    public let strides: (height: Int, width: Int)
    /// The depthwise spacing of taps, (dh, dw).
    public let dilation: (height: Int, width: Int)
    /// m, the depthwise filters per input channel.
    public let depthMultiplier: Int
    /// How the borders are padded (depthwise stage).
    public let padding: Padding
    /// The activation f applied to the output.
    public let activation: Activation
    /// Whether the bias exists.
    public let useBias: Bool
    let depthwiseInitializer: Initializer
    let pointwiseInitializer: Initializer
    let biasInitializer: Initializer

    /// `[kh, kw, c, m]`, `<name>/depthwise_kernel`.
    public private(set) var depthwiseKernel: Variable?
    /// `[1, 1, c·m, filters]`, `<name>/pointwise_kernel`.
    public private(set) var pointwiseKernel: Variable?
    /// The bias `[filters]`, `<name>/bias`.
    public private(set) var bias: Variable?
    public var variables: [Variable] { [depthwiseKernel, pointwiseKernel, bias].compactMap { $0 } }
    /// The depthwise stage `[h, w, c]` → `[oh, ow, c·m]` (read by the fused steps' `SeparableStage`).
    private(set) var depthwise: ConvolutionCore?
    /// The pointwise stage `[oh, ow, c·m]` → `[oh, ow, filters]`.
    private(set) var pointwise: ConvolutionCore?
    /// The depthwise stage's output and its gradient, `[batch, oh, ow, c·m]`.
    private let middle = FloatBuffer(count: 0)
    private let middleGradient = FloatBuffer(count: 0)
    private var middleCount = 0

    /// A depthwise-separable convolution.
    /// - Parameters:
    ///   - filters: output channels.
    ///   - kernelSize: (kh, kw) of the depthwise stage.
    ///   - strides: (sh, sw).
    ///   - dilation: (dh, dw).
    ///   - depthMultiplier: m ≥ 1.
    ///   - padding: `valid`, `same` or explicit pads.
    ///   - activation: f.
    ///   - useBias: add the bias.
    ///   - depthwiseInitializer: the depthwise kernel's initializer.
    ///   - pointwiseInitializer: the pointwise kernel's initializer.
    ///   - biasInitializer: the bias's initializer.
    ///   - name: the scope name; empty: `separable_conv2d`, ….
    public init(
        filters: Int, kernelSize: (height: Int, width: Int), strides: (height: Int, width: Int) = (1, 1),
        dilation: (height: Int, width: Int) = (1, 1), depthMultiplier: Int = 1, padding: Padding = .valid,
        activation: Activation = .linear, useBias: Bool = true, depthwiseInitializer: Initializer = .glorotUniform,
        pointwiseInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.depthMultiplier = depthMultiplier
        self.padding = padding
        self.activation = activation
        self.useBias = useBias
        self.depthwiseInitializer = depthwiseInitializer
        self.pointwiseInitializer = pointwiseInitializer
        self.biasInitializer = biasInitializer
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard filters > 0, depthMultiplier > 0 else {
            throw ZooNetError.invalidArgument("\(name): filters and depth multiplier must be positive")
        }
        try activation.validate()
        let geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides, dilation: dilation,
                                          padding: padding, layer: name)
        let c = geometry.channels, m = c * depthMultiplier
        let depthShape = [kernelSize.height, kernelSize.width, c, depthMultiplier], pointShape = [1, 1, m, filters]
        depthwiseKernel = Variable(name: "\(name)/depthwise_kernel", shape: depthShape, trainable: true,
                                   initialValues: depthwiseInitializer.values(shape: depthShape, seed: seed))
        pointwiseKernel = Variable(name: "\(name)/pointwise_kernel", shape: pointShape, trainable: true,
                                   initialValues: pointwiseInitializer.values(shape: pointShape, seed: seed &+ 2))
        if useBias {
            bias = Variable(name: "\(name)/bias", shape: [filters], trainable: true,
                            initialValues: biasInitializer.values(shape: [filters], seed: seed &+ 1))
        }
        depthwise = ConvolutionCore(shape: geometry.convolution(outputChannels: m, groups: c), activation: .linear, hasBias: false)
        var pointShapeGeometry = ConvolutionShape()
        pointShapeGeometry.inputHeight = geometry.outputHeight
        pointShapeGeometry.inputWidth = geometry.outputWidth
        pointShapeGeometry.inputChannels = m
        pointShapeGeometry.outputHeight = geometry.outputHeight
        pointShapeGeometry.outputWidth = geometry.outputWidth
        pointShapeGeometry.outputChannels = filters
        pointwise = ConvolutionCore(shape: pointShapeGeometry, activation: activation, hasBias: useBias)
        middleCount = geometry.positions * m
        return [geometry.outputHeight, geometry.outputWidth, filters]
    }

    /// FLOP of one sample's forward pass (both stages).
    var flopPerSample: Int { (depthwise?.shape.flopPerSample ?? 0) + (pointwise?.shape.flopPerSample ?? 0) }

    func prepare(batch: Int, training: Bool) throws {
        try depthwise?.prepare(batch: batch, training: training)
        try pointwise?.prepare(batch: batch, training: training)
        middle.reserve(batch * middleCount)
        if training { middleGradient.reserve(batch * middleCount) }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let depthwise, let pointwise, let depthwiseKernel, let pointwiseKernel else { return }
        middle.reserve(batch * middleCount)
        depthwise.forward(x, into: middle.pointer, kernel: depthwiseKernel, bias: nil, batch: batch, training: training)
        pointwise.forward(middle.pointer, into: y, kernel: pointwiseKernel, bias: bias, batch: batch, training: training)
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let depthwise, let pointwise, let depthwiseKernel, let pointwiseKernel else { return }
        let needMiddle = dx != nil || depthwiseKernel.isTrainable
        middleGradient.reserve(batch * middleCount)
        pointwise.backward(input: middle.pointer, output: output, outputGradient: dy,
                           inputGradient: needMiddle ? middleGradient.pointer : nil, kernel: pointwiseKernel, bias: bias,
                           batch: batch)
        guard needMiddle else { return }
        depthwise.backward(input: input, output: middle.pointer, outputGradient: middleGradient.pointer, inputGradient: dx,
                           kernel: depthwiseKernel, bias: nil, batch: batch)
    }
}
