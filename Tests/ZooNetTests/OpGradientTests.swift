import Testing
@testable import ZooNet

/// Finite-difference checks of the CNN ops' backward passes (MSE on random targets), each
/// inside a small network so the gradient also flows through the op into a trainable layer.
@Suite struct OpGradientTests {
    /// A chain `input [h, w, c]` → layers → MSE, checked by finite differences.
    func check(_ inputShape: [Int], _ layers: [any Layer], batch: Int = 2, seed: UInt64 = 3,
               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let net = try Sequential(inputShape: inputShape, layers: layers, seed: seed)
        try checkGradients(net, regressionData(net, batch: batch, seed: seed &+ 1), loss: .meanSquaredError,
                           sourceLocation: sourceLocation)
    }

    static let convolutions: [(String, @Sendable () -> any Layer)] = [
        ("3x3 same s1", { Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, biasInitializer: .constant(0.1)) }),
        ("3x3 same s2", { Conv2D(filters: 4, kernelSize: (3, 3), strides: (2, 2), padding: .same) }),
        ("1x1 s2", { Conv2D(filters: 3, kernelSize: (1, 1), strides: (2, 2)) }),
        ("dilated", { Conv2D(filters: 3, kernelSize: (3, 3), dilation: (2, 2), padding: .same) }),
        ("groups", { Conv2D(filters: 4, kernelSize: (3, 3), groups: 2, padding: .same) }),
        ("explicit", { Conv2D(filters: 3, kernelSize: (3, 2), padding: .explicit(top: 1, bottom: 2, left: 0, right: 1)) }),
        ("relu6 fused", { Conv2D(filters: 3, kernelSize: (3, 3), padding: .same, activation: .relu6) }),
        ("swish", { Conv2D(filters: 3, kernelSize: (3, 3), padding: .same, activation: .swish) }),
        ("depthwise", { DepthwiseConv2D(kernelSize: (3, 3), strides: (2, 2), depthMultiplier: 2, padding: .same) }),
        ("depthwise dilated", { DepthwiseConv2D(kernelSize: (3, 3), dilation: (2, 2), padding: .valid) }),
        ("separable", { SeparableConv2D(filters: 5, kernelSize: (3, 3), depthMultiplier: 2, padding: .same, activation: .elu(alpha: 1)) }),
        ("transpose same s2", { Conv2DTranspose(filters: 3, kernelSize: (3, 3), strides: (2, 2), padding: .same) }),
        ("transpose valid s2", { Conv2DTranspose(filters: 3, kernelSize: (2, 2), strides: (2, 2)) }),
    ]

    @Test(arguments: convolutions.indices) func convolution(_ index: Int) throws {
        let (label, make) = Self.convolutions[index]
        let layer = make()
        try check([7, 6, 4], [layer, Flatten(), Dense(outputCount: 3)])
        _ = label
    }

    static let poolings: [(String, @Sendable () -> any Layer)] = [
        ("max 2x2", { MaxPooling2D() }),
        ("max 3x3 s2 same", { MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same) }),
        ("max ceil", { MaxPooling2D(poolSize: (3, 3), strides: (2, 2), ceilMode: true) }),
        ("max padded", { MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: .symmetric(1)) }),
        ("avg 2x2", { AveragePooling2D() }),
        ("avg same", { AveragePooling2D(poolSize: (3, 3), strides: (2, 2), padding: .same) }),
        ("avg include pad", { AveragePooling2D(poolSize: (3, 3), strides: (1, 1), padding: .symmetric(1), countIncludePad: true) }),
        ("avg ceil include pad", { AveragePooling2D(poolSize: (3, 3), strides: (2, 2), padding: .symmetric(1), ceilMode: true,
                                                    countIncludePad: true) }),
        ("global avg", { GlobalAveragePooling2D() }),
        ("global max keepdims", { GlobalMaxPooling2D(keepDims: true) }),
        ("adaptive", { AdaptiveAveragePooling2D(outputSize: (3, 2)) }),
    ]

    /// The pooling first: perturbing a weight before a max pool shifts every value and may swap
    /// a window's maximum (a kink); single input elements rarely do.
    @Test(arguments: poolings.indices) func pooling(_ index: Int) throws {
        try check([8, 7, 3], [Self.poolings[index].1(), Flatten(), Dense(outputCount: 2)])
    }

    static let reshapes: [(String, @Sendable () -> any Layer)] = [
        ("zero padding", { ZeroPadding2D(top: 1, bottom: 2, left: 0, right: 1) }),
        ("cropping", { Cropping2D(top: 1, bottom: 0, left: 2, right: 1) }),
        ("nearest", { UpSampling2D(size: (2, 3)) }),
        ("bilinear", { UpSampling2D(size: (2, 2), interpolation: .bilinear) }),
        ("reshape", { Reshape([-1, 3]) }),
        ("permute", { Permute([3, 1, 2]) }),
        ("rescaling", { Rescaling(scale: [0.5, 2, -1], offset: [0.1]) }),
        ("normalization", { Normalization(mean: [0.1, -0.2, 0.3], variance: [0.5, 2, 1]) }),
        ("layer norm last axis", { LayerNormalization() }),
        ("layer norm all axes", { LayerNormalization(axes: [1, 2, 3]) }),
        ("batch norm NHWC", { BatchNorm(momentum: 0.9) }),
    ]

    @Test(arguments: reshapes.indices) func reshapingAndNormalization(_ index: Int) throws {
        try check([4, 5, 3], [Conv2D(filters: 3, kernelSize: (1, 1), biasInitializer: .constant(0.2)), Self.reshapes[index].1(),
                              Flatten(), Dense(outputCount: 2)], batch: 3)
    }

    static let newActivations: [Activation] = [
        .relu6, .logSoftmax, .hardSigmoid, .hardSigmoidKeras2, .hardSwish, .swish, .gelu(approximate: false),
        .gelu(approximate: true), .softplus, .softsign, .mish, .exponential,
    ]

    /// Pre-activations spread over [−4, 4] (the kinks of the hard functions included); eˣ gets
    /// smaller ones, so the float32 loss keeps enough digits for finite differences.
    @Test(arguments: newActivations) func activation(_ activation: Activation) throws {
        let spread: Float = activation == .exponential ? 0.3 : 1.5
        try check([6], [Dense(outputCount: 5, kernelInitializer: .randomUniform(minimum: -spread, maximum: spread)),
                        ActivationLayer(activation), Dense(outputCount: 2)], batch: 4)
        try check([6], [Dense(outputCount: 4, activation: activation, kernelInitializer: .randomUniform(minimum: -spread, maximum: spread)),
                        Dense(outputCount: 2)], batch: 3)
    }

    /// Merges inside a graph: residual add, broadcast multiply (squeeze-excitation), concat,
    /// subtract, average, maximum and minimum, all fed by trainable convolutions.
    @Test(arguments: ["add", "subtract", "multiply-se", "average", "maximum", "minimum", "concat", "concat-h"])
    func merge(_ kind: String) throws {
        let x = Input(shape: [5, 4, 3])
        let a = Conv2D(filters: 4, kernelSize: (3, 3), padding: .same, name: "a")(x)
        let b = Conv2D(filters: 4, kernelSize: (1, 1), name: "b")(x)
        let merged: SymbolicTensor
        switch kind {
        case "add": merged = Add()([a, b, a])
        case "subtract": merged = Subtract()([a, b])
        case "multiply-se":
            let squeezed = GlobalAveragePooling2D(keepDims: true)(a)
            let gate = Conv2D(filters: 4, kernelSize: (1, 1), activation: .sigmoid, name: "gate")(squeezed)
            merged = Multiply()([b, gate])
        case "average": merged = Average()([a, b])
        case "maximum": merged = Maximum()([a, b])
        case "minimum": merged = Minimum()([a, b])
        case "concat": merged = Concatenate()([a, b, x])
        default: merged = Concatenate(axis: 1)([a, b])
        }
        let y = Dense(outputCount: 2, name: "head")(Flatten()(merged))
        let net = try Network(inputs: [x], outputs: [y], seed: 4)
        try checkGradients(net, regressionData(net, batch: 2, seed: 5), loss: .meanSquaredError)
    }
}
