/// A layer's kind and typed settings: one node of a declarative `NetworkDescription` (and of
/// the registry's schema-2 manifests). `makeLayer(name:)` builds the engine layer.
///
/// JSON: a flat object with `"kind"` and the settings under Keras' config keys, e.g.
/// `{"kind": "conv2d", "filters": 32, "kernel_size": [3, 3], "strides": [2, 2],
/// "padding": "same", "activation": "relu6", "use_bias": false}`. Padding is `"valid"`,
/// `"same"` or `[[top, bottom], [left, right]]`. Omitted settings take Keras' defaults.
public enum LayerConfig: Sendable, Equatable {
    /// Keras `Dense(units, activation, use_bias)`.
    case dense(units: Int, activation: Activation, useBias: Bool)
    /// Keras `Conv2D` (with `groups`).
    case conv2d(ConvolutionSettings)
    /// Keras `DepthwiseConv2D`.
    case depthwiseConv2d(ConvolutionSettings)
    /// Keras `SeparableConv2D`.
    case separableConv2d(ConvolutionSettings)
    /// Keras `Conv2DTranspose`.
    case conv2dTranspose(ConvolutionSettings)
    /// Keras `BatchNormalization` over the last axis.
    case batchNormalization(momentum: Float, epsilon: Float, center: Bool, scale: Bool)
    /// Keras `LayerNormalization` over `axes`.
    case layerNormalization(axes: [Int], epsilon: Float, center: Bool, scale: Bool)
    /// Keras `Normalization` with its adapted mean and variance as variables.
    /// Standardization with stored statistics: per-channel constants when given, else variables.
    case normalization(mean: [Float]?, variance: [Float]?)
    /// Keras `Rescaling`: x·scale + offset (per channel when several values).
    case rescaling(scale: [Float], offset: [Float])
    /// Keras `Activation` and the activation layers (`ReLU`, `Softmax`, …).
    case activation(Activation)
    /// Keras `PReLU(shared_axes)` (1-based per-sample axes sharing one slope; empty: none).
    case prelu(sharedAxes: [Int])
    /// Keras `Dropout(rate, noise_shape)`.
    case dropout(rate: Float, noiseShape: [Int]?)
    /// Keras `SpatialDropout2D`: whole channels dropped.
    case spatialDropout2d(rate: Float)
    /// Keras `Flatten`.
    case flatten
    /// Keras `Reshape(target_shape)`.
    case reshape([Int])
    /// Keras `Permute(dims)` (1-based, batch excluded).
    case permute([Int])
    /// Keras `ZeroPadding2D`.
    case zeroPadding2d(Sides)
    /// Keras `Cropping2D`.
    case cropping2d(Sides)
    /// Keras `UpSampling2D(size, interpolation)`.
    case upSampling2d(size: [Int], interpolation: UpSampling2D.Interpolation)
    /// Keras `MaxPooling2D` (PyTorch `MaxPool2d` with ceil mode).
    case maxPooling2d(PoolingSettings)
    /// Keras `AveragePooling2D` (PyTorch `AvgPool2d`).
    case averagePooling2d(PoolingSettings)
    /// Keras `GlobalAveragePooling2D(keepdims)`.
    case globalAveragePooling2d(keepDims: Bool)
    /// Keras `GlobalMaxPooling2D(keepdims)`.
    case globalMaxPooling2d(keepDims: Bool)
    /// PyTorch `AdaptiveAvgPool2d(output_size)`.
    case adaptiveAveragePooling2d(outputSize: [Int])
    /// Keras `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`.
    case merge(ElementwiseMerge.Operation)
    /// Keras `Concatenate(axis)`.
    case concatenate(axis: Int)

    /// Settings of the convolution kinds (unused ones keep their defaults).
    public struct ConvolutionSettings: Sendable, Equatable {
        /// The output channels.
        public var filters = 0
        /// (kh, kw), or one number for both.
        public var kernelSize = [1, 1]
        /// (sh, sw).
        public var strides = [1, 1]
        /// (dh, dw), Keras `dilation_rate`.
        public var dilation = [1, 1]
        /// Channel groups.
        public var groups = 1
        /// Depthwise filters per input channel.
        public var depthMultiplier = 1
        /// How the borders are padded.
        public var padding = Padding.valid
        /// Transposed convolution: extra output rows and columns.
        public var outputPadding: [Int]?
        /// The fused activation.
        public var activation = Activation.linear
        /// Whether a bias exists.
        public var useBias = true
        /// Every setting at its default (a 1×1 kernel, stride 1, no padding, linear, with bias).
        public init() {}
    }

    /// Settings of max and average pooling.
    public struct PoolingSettings: Sendable, Equatable {
        /// The window (ph, pw).
        public var poolSize = [2, 2]
        /// The step; nil: the pool size.
        public var strides: [Int]?
        /// How the borders are padded.
        public var padding = Padding.valid
        /// Round the output size up (PyTorch `ceil_mode`).
        public var ceilMode = false
        /// Average over padded cells too (PyTorch `count_include_pad`).
        public var countIncludePad = false
        /// A 2×2 window with stride 2 and no padding.
        public init() {}
    }

    /// Amounts per side (padding, cropping).
    public struct Sides: Sendable, Equatable {
        /// Rows above.
        public var top: Int
        /// Rows below.
        public var bottom: Int
        /// Columns on the left.
        public var left: Int
        /// Columns on the right.
        public var right: Int
        /// Amounts per side.
        public init(top: Int, bottom: Int, left: Int, right: Int) {
            (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
        }
    }

    /// The engine layer of one node: single-input or merge.
    public enum Built {
        /// A single-input layer.
        case layer(any Layer)
        /// A layer that merges several inputs.
        case merge(any MergeLayer)
    }

    /// The kind's name (`conv2d`, `add`, …), the JSON `"kind"`.
    public var kind: String {
        switch self {
        case .dense: return "dense"
        case .conv2d: return "conv2d"
        case .depthwiseConv2d: return "depthwise_conv2d"
        case .separableConv2d: return "separable_conv2d"
        case .conv2dTranspose: return "conv2d_transpose"
        case .batchNormalization: return "batch_normalization"
        case .layerNormalization: return "layer_normalization"
        case .normalization: return "normalization"
        case .rescaling: return "rescaling"
        case .activation: return "activation"
        case .prelu: return "prelu"
        case .dropout: return "dropout"
        case .spatialDropout2d: return "spatial_dropout2d"
        case .flatten: return "flatten"
        case .reshape: return "reshape"
        case .permute: return "permute"
        case .zeroPadding2d: return "zero_padding2d"
        case .cropping2d: return "cropping2d"
        case .upSampling2d: return "up_sampling2d"
        case .maxPooling2d: return "max_pooling2d"
        case .averagePooling2d: return "average_pooling2d"
        case .globalAveragePooling2d: return "global_average_pooling2d"
        case .globalMaxPooling2d: return "global_max_pooling2d"
        case .adaptiveAveragePooling2d: return "adaptive_average_pooling2d"
        case .merge(let operation): return operation.rawValue
        case .concatenate: return "concatenate"
        }
    }

    /// Builds the engine layer named `name`.
    /// - Throws: `ZooNetError.invalidArgument` for settings of the wrong arity (a kernel size
    ///   that is not one or two numbers, …).
    public func makeLayer(name: String) throws -> Built {
        func pair(_ values: [Int], _ key: String) throws -> (height: Int, width: Int) {
            guard values.count == 1 || values.count == 2 else {
                throw ZooNetError.invalidArgument("\(name): '\(key)' must have one or two values, got \(values)")
            }
            return (values[0], values.count == 2 ? values[1] : values[0])
        }
        switch self {
        case let .dense(units, activation, useBias):
            return .layer(Dense(outputCount: units, activation: activation, useBias: useBias, name: name))
        case .conv2d(let s):
            return .layer(Conv2D(filters: s.filters, kernelSize: try pair(s.kernelSize, "kernel_size"),
                                 strides: try pair(s.strides, "strides"), dilation: try pair(s.dilation, "dilation_rate"),
                                 groups: s.groups, padding: s.padding, activation: s.activation, useBias: s.useBias, name: name))
        case .depthwiseConv2d(let s):
            return .layer(DepthwiseConv2D(kernelSize: try pair(s.kernelSize, "kernel_size"), strides: try pair(s.strides, "strides"),
                                          dilation: try pair(s.dilation, "dilation_rate"), depthMultiplier: s.depthMultiplier,
                                          padding: s.padding, activation: s.activation, useBias: s.useBias, name: name))
        case .separableConv2d(let s):
            return .layer(SeparableConv2D(filters: s.filters, kernelSize: try pair(s.kernelSize, "kernel_size"),
                                          strides: try pair(s.strides, "strides"), dilation: try pair(s.dilation, "dilation_rate"),
                                          depthMultiplier: s.depthMultiplier, padding: s.padding, activation: s.activation,
                                          useBias: s.useBias, name: name))
        case .conv2dTranspose(let s):
            return .layer(Conv2DTranspose(filters: s.filters, kernelSize: try pair(s.kernelSize, "kernel_size"),
                                          strides: try pair(s.strides, "strides"), dilation: try pair(s.dilation, "dilation_rate"),
                                          padding: s.padding, outputPadding: try s.outputPadding.map { try pair($0, "output_padding") },
                                          activation: s.activation, useBias: s.useBias, name: name))
        case let .batchNormalization(momentum, epsilon, center, scale):
            return .layer(BatchNorm(momentum: momentum, epsilon: epsilon, center: center, scale: scale, name: name))
        case let .layerNormalization(axes, epsilon, center, scale):
            return .layer(LayerNormalization(axes: axes, epsilon: epsilon, center: center, scale: scale, name: name))
        case let .normalization(mean, variance): return .layer(Normalization(mean: mean, variance: variance, name: name))
        case let .rescaling(scale, offset): return .layer(Rescaling(scale: scale, offset: offset, name: name))
        case .activation(let activation): return .layer(ActivationLayer(activation, name: name))
        case .prelu(let sharedAxes): return .layer(PReLU(sharedAxes: sharedAxes, name: name))
        case let .dropout(rate, noiseShape): return .layer(Dropout(rate: rate, noiseShape: noiseShape, name: name))
        case .spatialDropout2d(let rate): return .layer(SpatialDropout2D(rate: rate, name: name))
        case .flatten: return .layer(Flatten(name: name))
        case .reshape(let shape): return .layer(Reshape(shape, name: name))
        case .permute(let dims): return .layer(Permute(dims, name: name))
        case .zeroPadding2d(let p):
            return .layer(ZeroPadding2D(top: p.top, bottom: p.bottom, left: p.left, right: p.right, name: name))
        case .cropping2d(let c):
            return .layer(Cropping2D(top: c.top, bottom: c.bottom, left: c.left, right: c.right, name: name))
        case let .upSampling2d(size, interpolation):
            return .layer(UpSampling2D(size: try pair(size, "size"), interpolation: interpolation, name: name))
        case .maxPooling2d(let s):
            return .layer(MaxPooling2D(poolSize: try pair(s.poolSize, "pool_size"), strides: try s.strides.map { try pair($0, "strides") },
                                       padding: s.padding, ceilMode: s.ceilMode, name: name))
        case .averagePooling2d(let s):
            return .layer(AveragePooling2D(poolSize: try pair(s.poolSize, "pool_size"),
                                           strides: try s.strides.map { try pair($0, "strides") }, padding: s.padding,
                                           ceilMode: s.ceilMode, countIncludePad: s.countIncludePad, name: name))
        case .globalAveragePooling2d(let keepDims): return .layer(GlobalAveragePooling2D(keepDims: keepDims, name: name))
        case .globalMaxPooling2d(let keepDims): return .layer(GlobalMaxPooling2D(keepDims: keepDims, name: name))
        case .adaptiveAveragePooling2d(let size):
            return .layer(AdaptiveAveragePooling2D(outputSize: try pair(size, "output_size"), name: name))
        case .merge(let operation):
            switch operation {
            case .add: return .merge(Add(name: name))
            case .subtract: return .merge(Subtract(name: name))
            case .multiply: return .merge(Multiply(name: name))
            case .average: return .merge(Average(name: name))
            case .maximum: return .merge(Maximum(name: name))
            case .minimum: return .merge(Minimum(name: name))
            }
        case .concatenate(let axis): return .merge(Concatenate(axis: axis, name: name))
        }
    }
}
