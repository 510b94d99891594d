/// JSON form of `LayerConfig`: `"kind"` plus Keras' config keys (see `LayerConfig`).
extension LayerConfig: Codable {
    enum Key: String, CodingKey {
        case kind, type, units, activation, alpha, mean, variance, filters, groups, padding, momentum, epsilon, center, scale, offset, rate, axis
        case axes, dims, size, interpolation, strides, keepdims, cropping
        case useBias = "use_bias", kernelSize = "kernel_size", dilationRate = "dilation_rate"
        case depthMultiplier = "depth_multiplier", outputPadding = "output_padding", noiseShape = "noise_shape"
        case targetShape = "target_shape", poolSize = "pool_size", ceilMode = "ceil_mode"
        case countIncludePad = "count_include_pad", outputSize = "output_size", sharedAxes = "shared_axes"
    }

    /// Decodes `{"kind": …, settings under Keras' config keys}`; omitted settings take Keras' defaults.
    /// `"type"` is read where `"kind"` is missing (the spelling of schema-1 manifests).
    /// - Throws: `DecodingError` for an unknown kind or a setting of the wrong type.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? c.decodeIfPresent(String.self, forKey: .type)
            ?? c.decode(String.self, forKey: .kind)
        func activation() throws -> Activation {
            let name = try c.decodeIfPresent(String.self, forKey: .activation) ?? "linear"
            do { return try Activation(name: name, alpha: try c.decodeIfPresent(Float.self, forKey: .alpha)) } catch {
                throw DecodingError.dataCorruptedError(forKey: .activation, in: c, debugDescription: "\(error)")
            }
        }
        func ints(_ key: Key, _ fallback: [Int]) throws -> [Int] { try c.decodeIfPresent([Int].self, forKey: key) ?? fallback }
        func padding() throws -> Padding { try c.decodeIfPresent(PaddingCoding.self, forKey: .padding)?.padding ?? .valid }
        func convolution() throws -> ConvolutionSettings {
            var s = ConvolutionSettings()
            s.filters = try c.decodeIfPresent(Int.self, forKey: .filters) ?? 0
            s.kernelSize = try ints(.kernelSize, [1, 1])
            s.strides = try ints(.strides, [1, 1])
            s.dilation = try ints(.dilationRate, [1, 1])
            s.groups = try c.decodeIfPresent(Int.self, forKey: .groups) ?? 1
            s.depthMultiplier = try c.decodeIfPresent(Int.self, forKey: .depthMultiplier) ?? 1
            s.padding = try padding()
            s.outputPadding = try c.decodeIfPresent([Int].self, forKey: .outputPadding)
            s.activation = try activation()
            s.useBias = try c.decodeIfPresent(Bool.self, forKey: .useBias) ?? true
            return s
        }
        func pooling() throws -> PoolingSettings {
            var s = PoolingSettings()
            s.poolSize = try ints(.poolSize, [2, 2])
            s.strides = try c.decodeIfPresent([Int].self, forKey: .strides)
            s.padding = try padding()
            s.ceilMode = try c.decodeIfPresent(Bool.self, forKey: .ceilMode) ?? false
            s.countIncludePad = try c.decodeIfPresent(Bool.self, forKey: .countIncludePad) ?? false
            return s
        }
        func sides(_ key: Key) throws -> Sides {
            let p = try c.decode([[Int]].self, forKey: key)
            guard p.count == 2, p.allSatisfy({ $0.count == 2 }) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected [[top, bottom], [left, right]]")
            }
            return Sides(top: p[0][0], bottom: p[0][1], left: p[1][0], right: p[1][1])
        }
        func floats(_ key: Key, _ fallback: [Float]) throws -> [Float] {
            if let one = try? c.decode(Float.self, forKey: key) { return [one] }
            return try c.decodeIfPresent([Float].self, forKey: key) ?? fallback
        }
        switch kind {
        case "dense":
            self = .dense(units: try c.decode(Int.self, forKey: .units), activation: try activation(),
                          useBias: try c.decodeIfPresent(Bool.self, forKey: .useBias) ?? true)
        case "conv2d": self = .conv2d(try convolution())
        case "depthwise_conv2d": self = .depthwiseConv2d(try convolution())
        case "separable_conv2d": self = .separableConv2d(try convolution())
        case "conv2d_transpose": self = .conv2dTranspose(try convolution())
        case "batch_normalization":
            self = .batchNormalization(momentum: try c.decodeIfPresent(Float.self, forKey: .momentum) ?? 0.99,
                                       epsilon: try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-3,
                                       center: try c.decodeIfPresent(Bool.self, forKey: .center) ?? true,
                                       scale: try c.decodeIfPresent(Bool.self, forKey: .scale) ?? true)
        case "layer_normalization":
            self = .layerNormalization(axes: try ints(.axes, [-1]), epsilon: try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-3,
                                       center: try c.decodeIfPresent(Bool.self, forKey: .center) ?? true,
                                       scale: try c.decodeIfPresent(Bool.self, forKey: .scale) ?? true)
        case "normalization":
            self = .normalization(mean: try c.decodeIfPresent([Float].self, forKey: .mean),
                                  variance: try c.decodeIfPresent([Float].self, forKey: .variance))
        case "rescaling": self = .rescaling(scale: try floats(.scale, [1]), offset: try floats(.offset, [0]))
        case "activation": self = .activation(try activation())
        case "prelu": self = .prelu(sharedAxes: try c.decodeIfPresent([Int].self, forKey: .sharedAxes) ?? [])
        case "dropout":
            self = .dropout(rate: try c.decode(Float.self, forKey: .rate), noiseShape: try c.decodeIfPresent([Int].self, forKey: .noiseShape))
        case "spatial_dropout2d": self = .spatialDropout2d(rate: try c.decode(Float.self, forKey: .rate))
        case "flatten": self = .flatten
        case "reshape": self = .reshape(try c.decode([Int].self, forKey: .targetShape))
        case "permute": self = .permute(try c.decode([Int].self, forKey: .dims))
        case "zero_padding2d": self = .zeroPadding2d(try sides(.padding))
        case "cropping2d": self = .cropping2d(try sides(.cropping))
        case "up_sampling2d":
            let name = try c.decodeIfPresent(String.self, forKey: .interpolation) ?? "nearest"
            guard let interpolation = UpSampling2D.Interpolation(rawValue: name) else {
                throw DecodingError.dataCorruptedError(forKey: .interpolation, in: c, debugDescription: "expected nearest or bilinear, got \(name)")
            }
            self = .upSampling2d(size: try ints(.size, [2, 2]), interpolation: interpolation)
        case "max_pooling2d": self = .maxPooling2d(try pooling())
        case "average_pooling2d": self = .averagePooling2d(try pooling())
        case "global_average_pooling2d": self = .globalAveragePooling2d(keepDims: try c.decodeIfPresent(Bool.self, forKey: .keepdims) ?? false)
        case "global_max_pooling2d": self = .globalMaxPooling2d(keepDims: try c.decodeIfPresent(Bool.self, forKey: .keepdims) ?? false)
        case "adaptive_average_pooling2d": self = .adaptiveAveragePooling2d(outputSize: try c.decode([Int].self, forKey: .outputSize))
        case "concatenate": self = .concatenate(axis: try c.decodeIfPresent(Int.self, forKey: .axis) ?? -1)
        default:
            guard let operation = ElementwiseMerge.Operation(rawValue: kind) else {
                throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown layer kind '\(kind)'")
            }
            self = .merge(operation)
        }
    }

    /// Encodes `{"kind": …, settings under Keras' config keys}`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(kind, forKey: .kind)
        func encode(_ activation: Activation) throws {
            try c.encode(activation.name, forKey: .activation)
            if let alpha = activation.alpha { try c.encode(alpha, forKey: .alpha) }
        }
        func encode(_ s: ConvolutionSettings) throws {
            if s.filters > 0 { try c.encode(s.filters, forKey: .filters) }
            try c.encode(s.kernelSize, forKey: .kernelSize)
            try c.encode(s.strides, forKey: .strides)
            if s.dilation != [1, 1] { try c.encode(s.dilation, forKey: .dilationRate) }
            if s.groups != 1 { try c.encode(s.groups, forKey: .groups) }
            if case .depthwiseConv2d = self { try c.encode(s.depthMultiplier, forKey: .depthMultiplier) }
            if case .separableConv2d = self { try c.encode(s.depthMultiplier, forKey: .depthMultiplier) }
            try c.encode(PaddingCoding(s.padding), forKey: .padding)
            try c.encodeIfPresent(s.outputPadding, forKey: .outputPadding)
            try encode(s.activation)
            try c.encode(s.useBias, forKey: .useBias)
        }
        func encode(_ s: PoolingSettings) throws {
            try c.encode(s.poolSize, forKey: .poolSize)
            try c.encodeIfPresent(s.strides, forKey: .strides)
            try c.encode(PaddingCoding(s.padding), forKey: .padding)
            if s.ceilMode { try c.encode(true, forKey: .ceilMode) }
            if case .averagePooling2d = self { try c.encode(s.countIncludePad, forKey: .countIncludePad) }
        }
        switch self {
        case let .dense(units, activation, useBias):
            try c.encode(units, forKey: .units)
            try encode(activation)
            try c.encode(useBias, forKey: .useBias)
        case .conv2d(let s), .depthwiseConv2d(let s), .separableConv2d(let s), .conv2dTranspose(let s): try encode(s)
        case let .batchNormalization(momentum, epsilon, center, scale):
            try c.encode(momentum, forKey: .momentum)
            try c.encode(epsilon, forKey: .epsilon)
            try c.encode(center, forKey: .center)
            try c.encode(scale, forKey: .scale)
        case let .layerNormalization(axes, epsilon, center, scale):
            try c.encode(axes, forKey: .axes)
            try c.encode(epsilon, forKey: .epsilon)
            try c.encode(center, forKey: .center)
            try c.encode(scale, forKey: .scale)
        case let .normalization(mean, variance):
            try c.encodeIfPresent(mean, forKey: .mean)
            try c.encodeIfPresent(variance, forKey: .variance)
        case .flatten, .merge: break
        case .prelu(let sharedAxes):
            if !sharedAxes.isEmpty { try c.encode(sharedAxes, forKey: .sharedAxes) }
        case let .rescaling(scale, offset):
            try c.encode(scale, forKey: .scale)
            try c.encode(offset, forKey: .offset)
        case .activation(let activation): try encode(activation)
        case let .dropout(rate, noiseShape):
            try c.encode(rate, forKey: .rate)
            try c.encodeIfPresent(noiseShape, forKey: .noiseShape)
        case .spatialDropout2d(let rate): try c.encode(rate, forKey: .rate)
        case .reshape(let shape): try c.encode(shape, forKey: .targetShape)
        case .permute(let dims): try c.encode(dims, forKey: .dims)
        case .zeroPadding2d(let p): try c.encode([[p.top, p.bottom], [p.left, p.right]], forKey: .padding)
        case .cropping2d(let p): try c.encode([[p.top, p.bottom], [p.left, p.right]], forKey: .cropping)
        case let .upSampling2d(size, interpolation):
            try c.encode(size, forKey: .size)
            try c.encode(interpolation.rawValue, forKey: .interpolation)
        case .maxPooling2d(let s), .averagePooling2d(let s): try encode(s)
        case .globalAveragePooling2d(let keepDims), .globalMaxPooling2d(let keepDims): try c.encode(keepDims, forKey: .keepdims)
        case .adaptiveAveragePooling2d(let size): try c.encode(size, forKey: .outputSize)
        case .concatenate(let axis): try c.encode(axis, forKey: .axis)
        }
    }
}

/// `"valid"`, `"same"` or `[[top, bottom], [left, right]]`.
struct PaddingCoding: Codable {
    let padding: Padding
    init(_ padding: Padding) { self.padding = padding }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let name = try? c.decode(String.self) {
            switch name {
            case "valid": padding = .valid
            case "same": padding = .same
            default: throw DecodingError.dataCorruptedError(in: c, debugDescription: "padding must be valid, same or [[t, b], [l, r]], got '\(name)'")
            }
            return
        }
        let p = try c.decode([[Int]].self)
        guard p.count == 2, p.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0 >= 0 } }) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "explicit padding must be [[top, bottom], [left, right]], non-negative")
        }
        padding = .explicit(top: p[0][0], bottom: p[0][1], left: p[1][0], right: p[1][1])
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch padding {
        case .valid: try c.encode("valid")
        case .same: try c.encode("same")
        case let .explicit(top, bottom, left, right): try c.encode([[top, bottom], [left, right]])
        }
    }
}
