/// The `LayerConfig` of each built-in layer: what a shared layer's second call is rebuilt from
/// (its variables then tied to the first's), and what a network's description is written with.
/// Initializers, regularizers and constraints are not part of it.
extension Dense: ConfigurableLayer {
    public var configuration: LayerConfig { .dense(units: outputCount, activation: activation, useBias: useBias) }
}

/// The settings every convolution kind shares; the caller adds its own (filters, groups, …).
private func convolutionSettings(
    kernelSize: (height: Int, width: Int), strides: (height: Int, width: Int), dilation: (height: Int, width: Int),
    padding: Padding, activation: Activation, useBias: Bool
) -> LayerConfig.ConvolutionSettings {
    var s = LayerConfig.ConvolutionSettings()
    s.kernelSize = [kernelSize.height, kernelSize.width]
    s.strides = [strides.height, strides.width]
    s.dilation = [dilation.height, dilation.width]
    s.padding = padding
    s.activation = activation
    s.useBias = useBias
    return s
}

extension Conv2D: ConfigurableLayer {
    public var configuration: LayerConfig {
        var s = convolutionSettings(kernelSize: kernelSize, strides: strides, dilation: dilation, padding: padding,
                                    activation: activation, useBias: useBias)
        s.filters = filters
        s.groups = groups
        return .conv2d(s)
    }
}

extension DepthwiseConv2D: ConfigurableLayer {
    public var configuration: LayerConfig {
        var s = convolutionSettings(kernelSize: kernelSize, strides: strides, dilation: dilation, padding: padding,
                                    activation: activation, useBias: useBias)
        s.depthMultiplier = depthMultiplier
        return .depthwiseConv2d(s)
    }
}

extension SeparableConv2D: ConfigurableLayer {
    public var configuration: LayerConfig {
        var s = convolutionSettings(kernelSize: kernelSize, strides: strides, dilation: dilation, padding: padding,
                                    activation: activation, useBias: useBias)
        s.filters = filters
        s.depthMultiplier = depthMultiplier
        return .separableConv2d(s)
    }
}

extension Conv2DTranspose: ConfigurableLayer {
    public var configuration: LayerConfig {
        var s = convolutionSettings(kernelSize: kernelSize, strides: strides, dilation: dilation, padding: padding,
                                    activation: activation, useBias: useBias)
        s.filters = filters
        s.outputPadding = outputPadding.map { [$0.height, $0.width] }
        return .conv2dTranspose(s)
    }
}

extension BatchNorm: ConfigurableLayer {
    public var configuration: LayerConfig { .batchNormalization(momentum: momentum, epsilon: epsilon, center: center, scale: scale) }
}

extension LayerNormalization: ConfigurableLayer {
    public var configuration: LayerConfig { .layerNormalization(axes: axes, epsilon: epsilon, center: center, scale: scale) }
}

extension Normalization: ConfigurableLayer {
    public var configuration: LayerConfig { .normalization(mean: constantMean, variance: constantVariance) }
}

extension Rescaling: ConfigurableLayer {
    public var configuration: LayerConfig { .rescaling(scale: scale, offset: offset) }
}

extension ActivationLayer: ConfigurableLayer {
    public var configuration: LayerConfig { .activation(activation) }
}

extension PReLU: ConfigurableLayer {
    public var configuration: LayerConfig { .prelu(sharedAxes: sharedAxes) }
}

extension Dropout: ConfigurableLayer {
    public var configuration: LayerConfig {
        self is SpatialDropout2D ? .spatialDropout2d(rate: rate) : .dropout(rate: rate, noiseShape: noiseShape)
    }
}

extension Flatten: ConfigurableLayer {
    public var configuration: LayerConfig { .flatten }
}

extension Reshape: ConfigurableLayer {
    public var configuration: LayerConfig { .reshape(targetShape) }
}

extension Permute: ConfigurableLayer {
    public var configuration: LayerConfig { .permute(dims) }
}

extension ZeroPadding2D: ConfigurableLayer {
    public var configuration: LayerConfig { .zeroPadding2d(.init(top: top, bottom: bottom, left: left, right: right)) }
}

extension Cropping2D: ConfigurableLayer {
    public var configuration: LayerConfig { .cropping2d(.init(top: top, bottom: bottom, left: left, right: right)) }
}

extension UpSampling2D: ConfigurableLayer {
    public var configuration: LayerConfig { .upSampling2d(size: [size.height, size.width], interpolation: interpolation) }
}

extension MaxPooling2D: ConfigurableLayer {
    public var configuration: LayerConfig {
        var s = LayerConfig.PoolingSettings()
        s.poolSize = [poolSize.height, poolSize.width]
        s.strides = [strides.height, strides.width]
        s.padding = padding
        s.ceilMode = ceilMode
        return .maxPooling2d(s)
    }
}

extension AveragePooling2D: ConfigurableLayer {
    public var configuration: LayerConfig {
        var s = LayerConfig.PoolingSettings()
        s.poolSize = [poolSize.height, poolSize.width]
        s.strides = [strides.height, strides.width]
        s.padding = padding
        s.ceilMode = ceilMode
        s.countIncludePad = countIncludePad
        return .averagePooling2d(s)
    }
}

extension GlobalAveragePooling2D: ConfigurableLayer {
    public var configuration: LayerConfig { .globalAveragePooling2d(keepDims: keepDims) }
}

extension GlobalMaxPooling2D: ConfigurableLayer {
    public var configuration: LayerConfig { .globalMaxPooling2d(keepDims: keepDims) }
}

extension AdaptiveAveragePooling2D: ConfigurableLayer {
    public var configuration: LayerConfig { .adaptiveAveragePooling2d(outputSize: [outputSize.height, outputSize.width]) }
}

extension ElementwiseMerge: ConfigurableLayer {
    public var configuration: LayerConfig { .merge(operation) }
}

extension Concatenate: ConfigurableLayer {
    public var configuration: LayerConfig { .concatenate(axis: axis) }
}

/// A layer that can say how it was configured (every built-in layer).
public protocol ConfigurableLayer: AnyObject {
    /// The kind and settings the layer was made with.
    var configuration: LayerConfig { get }
}
