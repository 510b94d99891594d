/// Transposed 2-D convolution (Keras `Conv2DTranspose`; PyTorch `ConvTranspose2d`): the
/// gradient of a `Conv2D` with respect to its input, used to upsample.
///
/// Input `[h, w, cin]`, kernel `<name>/kernel` `[kh, kw, filters, cin]` (Keras layout), bias
/// `<name>/bias` `[filters]`. Output size per axis (Keras' `deconv_output_length`, e = dilated
/// kernel extent): `valid` → `in·s + max(e − s, 0)`, `same` → `in·s`; with `outputPadding` p
/// → `(in − 1)·s + e − 2·pad + p`, pad = 0 (valid) or ⌊k/2⌋ (same); `explicit` pads (PyTorch
/// `padding`) → `(in − 1)·s + e − before − after + p`. Each input cell scatters
/// `x[i, j, c]·K[:, :, o, c]` into the output window at `(i·s − before, j·s − left)`; oneDNN's
/// deconvolution primitives compute it.
public final class Conv2DTranspose: Layer, BatchPreparing {
    public var name: String
    public var kind: String { "conv2d_transpose" }
    public let filters: Int
    public let kernelSize: (height: Int, width: Int)
    public let strides: (height: Int, width: Int)
    public let dilation: (height: Int, width: Int)
    public let padding: Padding
    public let outputPadding: (height: Int, width: Int)?
    public let activation: Activation
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer

    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?
    public var variables: [Variable] { [kernel, bias].compactMap { $0 } }
    private(set) var core: ConvolutionCore?

    public init(
        filters: Int, kernelSize: (height: Int, width: Int), strides: (height: Int, width: Int) = (1, 1),
        dilation: (height: Int, width: Int) = (1, 1), padding: Padding = .valid,
        outputPadding: (height: Int, width: Int)? = nil, activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.padding = padding
        self.outputPadding = outputPadding
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.name = name
    }

    /// (output, pad before, pad after) along one axis.
    private func axis(_ input: Int, kernel: Int, stride: Int, dilation: Int, outputPadding: Int?, axis: Int) throws
        -> (Int, Int, Int) {
        let extent = (kernel - 1) * dilation + 1
        let output: Int, before: Int
        switch padding {
        case .valid:
            before = 0
            output = outputPadding.map { (input - 1) * stride + extent + $0 } ?? input * stride + Swift.max(extent - stride, 0)
        case .same:
            if let p = outputPadding {
                output = (input - 1) * stride + extent - 2 * (kernel / 2) + p
            } else {
                output = input * stride
            }
            // The pads of the forward "same" convolution from `output` back to `input`.
            let total = Swift.max((input - 1) * stride + extent - output, 0)
            before = total / 2
        case let .explicit(top, bottom, left, right):
            let (b, a) = axis == 0 ? (top, bottom) : (left, right)
            before = b
            output = (input - 1) * stride + extent - b - a + (outputPadding ?? 0)
        }
        let after = (input - 1) * stride + extent - before - output
        guard output > 0, before >= 0, after >= 0 else {
            throw ZooNetError.invalidArgument(
                "\(name): kernel \(kernel) stride \(stride) padding \(padding) gives output \(output) with pads (\(before), \(after)) from input \(input); oneDNN needs non-negative pads")
        }
        return (output, before, after)
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }), filters > 0 else {
            throw ZooNetError.invalidArgument("\(name): expects per-sample NHWC input [h, w, c] and filters > 0, got \(inputShape)")
        }
        try activation.validate()
        let (oh, top, bottom) = try axis(inputShape[0], kernel: kernelSize.height, stride: strides.height,
                                         dilation: dilation.height, outputPadding: outputPadding?.height, axis: 0)
        let (ow, left, right) = try axis(inputShape[1], kernel: kernelSize.width, stride: strides.width,
                                         dilation: dilation.width, outputPadding: outputPadding?.width, axis: 1)
        let cin = inputShape[2]
        let shape = [kernelSize.height, kernelSize.width, filters, cin]
        kernel = Variable(name: "\(name)/kernel", shape: shape, trainable: true,
                          initialValues: kernelInitializer.values(shape: shape, seed: seed))
        if useBias {
            bias = Variable(name: "\(name)/bias", shape: [filters], trainable: true,
                            initialValues: biasInitializer.values(shape: [filters], seed: seed &+ 1))
        }
        core = ConvolutionCore(shape: ConvolutionShape(
            transposed: true, inputHeight: inputShape[0], inputWidth: inputShape[1], inputChannels: cin,
            outputHeight: oh, outputWidth: ow, outputChannels: filters, kernelHeight: kernelSize.height,
            kernelWidth: kernelSize.width, strideHeight: strides.height, strideWidth: strides.width,
            dilationHeight: dilation.height, dilationWidth: dilation.width,
            padTop: top, padBottom: bottom, padLeft: left, padRight: right, groups: 1), activation: activation, hasBias: useBias)
        return [oh, ow, filters]
    }

    /// FLOP of one sample's forward pass.
    var flopPerSample: Int { core?.shape.flopPerSample ?? 0 }

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
