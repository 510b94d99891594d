/// Depthwise 2-D convolution (Keras `DepthwiseConv2D`; PyTorch `Conv2d(groups=cin)`).
///
/// Input `[h, w, c]`, kernel `<name>/depthwise_kernel` `[kh, kw, c, m]` (m = depth multiplier),
/// bias `<name>/bias` `[c·m]`, output `[oh, ow, c·m]`: each input channel is convolved with its
/// own m filters, output channel `c·m + j` from filter j of channel c:
/// `y[p, q, c·m + j] = f(b + Σ_{i, k} x[p·s + i·d − top, q·s + k·d − left, c] · K[i, k, c, j])`.
/// A grouped convolution with c groups on oneDNN (its depthwise kernels); the Keras kernel is
/// already in the grouped layout `[kh, kw, 1, c·m]`.
public final class DepthwiseConv2D: Layer, BatchPreparing {
    public var name: String
    public var kind: String { "depthwise_conv2d" }
    public let kernelSize: (height: Int, width: Int)
    public let strides: (height: Int, width: Int)
    public let dilation: (height: Int, width: Int)
    public let depthMultiplier: Int
    public let padding: Padding
    public let activation: Activation
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?

    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?
    public var variables: [Variable] { [kernel, bias].compactMap { $0 } }
    private(set) var core: ConvolutionCore?

    public init(
        kernelSize: (height: Int, width: Int), strides: (height: Int, width: Int) = (1, 1),
        dilation: (height: Int, width: Int) = (1, 1), depthMultiplier: Int = 1, padding: Padding = .valid,
        activation: Activation = .linear, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, kernelRegularizer: Regularizer? = nil, name: String = ""
    ) {
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.depthMultiplier = depthMultiplier
        self.padding = padding
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard depthMultiplier > 0 else { throw ZooNetError.invalidArgument("\(name): depth multiplier must be positive") }
        try activation.validate()
        let geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides, dilation: dilation,
                                          padding: padding, layer: name)
        let c = geometry.channels, outputs = c * depthMultiplier
        let shape = [kernelSize.height, kernelSize.width, c, depthMultiplier]
        let k = Variable(name: "\(name)/depthwise_kernel", shape: shape, trainable: true,
                         initialValues: kernelInitializer.values(shape: shape, seed: seed))
        k.regularizer = kernelRegularizer
        kernel = k
        if useBias {
            bias = Variable(name: "\(name)/bias", shape: [outputs], trainable: true,
                            initialValues: biasInitializer.values(shape: [outputs], seed: seed &+ 1))
        }
        core = ConvolutionCore(shape: geometry.convolution(outputChannels: outputs, groups: c),
                               activation: activation, hasBias: useBias)
        return [geometry.outputHeight, geometry.outputWidth, outputs]
    }

    func prepare(batch: Int, training: Bool) throws {
        try core?.prepare(batch: batch, training: training)
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let core, let kernel else { return }
        core.forward(x, into: y, kernel: kernel, bias: bias, batch: batch, training: training)
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let core, let kernel else { return }
        core.backward(input: input, output: output, outputGradient: dy, inputGradient: dx, kernel: kernel, bias: bias,
                      batch: batch)
    }
}
