/// 2-D convolution on NHWC input with Keras HWIO kernels (Keras `Conv2D`,
/// `data_format="channels_last"`; PyTorch `Conv2d` after OIHW → HWIO).
///
/// Input `[h, w, cin]`, kernel `<name>/kernel` `[kh, kw, cin/groups, filters]`, bias
/// `<name>/bias` `[filters]`, output `[oh, ow, filters]` (sizes and pads: `Padding`):
/// `y[p, q, o] = f(b[o] + Σ_{i, j, c} x[p·s + i·d − top, q·s + j·d − left, g·cin/groups + c] · K[i, j, c, o])`,
/// g = the group of output channel o, padded cells read as 0. Runs on oneDNN's convolution
/// primitives (forward, backward data, backward weights), the activation fused as a post-op
/// where oneDNN has it (see `ConvolutionCore`).
public final class Conv2D: Layer, BatchPreparing {
    public var name: String
    public var kind: String { "conv2d" }
    public let filters: Int
    public let kernelSize: (height: Int, width: Int)
    public let strides: (height: Int, width: Int)
    public let dilation: (height: Int, width: Int)
    public let groups: Int
    public let padding: Padding
    public let activation: Activation
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    let kernelConstraint: Constraint?

    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?
    public var variables: [Variable] { [kernel, bias].compactMap { $0 } }
    private(set) var core: ConvolutionCore?

    public init(
        filters: Int, kernelSize: (height: Int, width: Int), strides: (height: Int, width: Int) = (1, 1),
        dilation: (height: Int, width: Int) = (1, 1), groups: Int = 1,
        padding: Padding = .valid, activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, kernelConstraint: Constraint? = nil, name: String = ""
    ) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.groups = groups
        self.padding = padding
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.kernelConstraint = kernelConstraint
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard filters > 0, groups > 0, filters % groups == 0 else {
            throw ZooNetError.invalidArgument("\(name): filters (\(filters)) must be a positive multiple of groups (\(groups))")
        }
        try activation.validate()
        let geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides, dilation: dilation,
                                          padding: padding, layer: name)
        guard geometry.channels % groups == 0 else {
            throw ZooNetError.invalidArgument("\(name): input channels (\(geometry.channels)) must be a multiple of groups (\(groups))")
        }
        let shape = [kernelSize.height, kernelSize.width, geometry.channels / groups, filters]
        let k = Variable(name: "\(name)/kernel", shape: shape, trainable: true,
                         initialValues: kernelInitializer.values(shape: shape, seed: seed))
        k.regularizer = kernelRegularizer
        k.constraint = kernelConstraint
        kernel = k
        if useBias {
            bias = Variable(name: "\(name)/bias", shape: [filters], trainable: true,
                            initialValues: biasInitializer.values(shape: [filters], seed: seed &+ 1))
        }
        core = ConvolutionCore(shape: geometry.convolution(outputChannels: filters, groups: groups),
                               activation: activation, hasBias: useBias)
        return [geometry.outputHeight, geometry.outputWidth, filters]
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
