import ZooFormat
import ZooNet

/// Keras layers and operators → engine nodes: one entry per Keras class (or operator)
/// saying which `LayerConfig` it becomes and from which config keys, and how the layer's
/// weights are named in Keras 2 and Keras 3 files when that differs from the engine's.
///
/// A Keras call usually becomes one engine node of the same name; some become a short chain
/// (`CustomScaleLayer` = scale then add, `ReLU(max_value=6, negative_slope=…)` refused, …),
/// whose helper nodes are named `name#1`, `name#2` and whose last node carries the name.
enum KerasLayerCatalog {
    /// What one Keras call became.
    struct Conversion {
        var nodes: [NetworkDescription.NodeDescription]
    }

    /// Why a call cannot be converted (grouped by class in the final message).
    struct Unsupported: Error {
        let className: String
        let reason: String
    }

    /// Converts one call; `inputs` are the engine names of its tensor inputs, in order.
    static func convert(_ node: KerasGraph.Node, inputs: [String]) throws -> Conversion {
        let c = node.config
        let name = node.name
        func one(_ layer: LayerConfig, _ sources: [String]? = nil) -> Conversion {
            Conversion(nodes: [.init(name: name, layer: layer, inputs: sources ?? inputs)])
        }
        func unsupported(_ reason: String) -> Unsupported { Unsupported(className: node.className, reason: reason) }
        func single() throws -> [String] {
            guard inputs.count == 1 else { throw unsupported("takes \(inputs.count) tensors, the engine's \(node.className) takes one") }
            return inputs
        }
        try checkChannelsLast(c, node)
        if node.module?.hasPrefix("keras.src.ops") == true {  // Keras 3 operator nodes (x + 1.0, ops.multiply(a, b))
            return try KerasOperators.convert(node, inputs: inputs)
        }
        switch applicationClassName(node.className) {
        case "Dense":
            guard let units = c["units"]?.intValue else { throw unsupported("no units") }
            return one(.dense(units: units, activation: try activation(c["activation"], node), useBias: c["use_bias"]?.boolValue ?? true), try single())
        case "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose":
            var s = LayerConfig.ConvolutionSettings()
            s.filters = c["filters"]?.intValue ?? 0
            s.kernelSize = try pair(c["kernel_size"], node) ?? [1, 1]
            s.strides = try pair(c["strides"], node) ?? [1, 1]
            s.dilation = try pair(c["dilation_rate"], node) ?? [1, 1]
            s.groups = c["groups"]?.intValue ?? 1
            s.depthMultiplier = c["depth_multiplier"]?.intValue ?? 1
            s.padding = try padding(c["padding"], node)
            s.outputPadding = try pair(c["output_padding"], node)
            s.activation = try activation(c["activation"], node)
            s.useBias = c["use_bias"]?.boolValue ?? true
            switch node.className {
            case "Conv2D": return one(.conv2d(s), try single())
            case "DepthwiseConv2D": return one(.depthwiseConv2d(s), try single())
            case "SeparableConv2D": return one(.separableConv2d(s), try single())
            default: return one(.conv2dTranspose(s), try single())
            }
        case "BatchNormalization":
            let axis = c["axis"]?.intValue ?? c["axis"]?.arrayValue?.first?.intValue ?? -1
            guard [-1, 1, 3].contains(axis) else { throw unsupported("axis \(axis): only the last (channel) axis") }
            return one(.batchNormalization(momentum: Float(c["momentum"]?.doubleValue ?? 0.99), epsilon: Float(c["epsilon"]?.doubleValue ?? 1e-3),
                                           center: c["center"]?.boolValue ?? true, scale: c["scale"]?.boolValue ?? true), try single())
        case "LayerNormalization":
            let axes = c["axis"]?.intValue.map { [$0] } ?? c["axis"]?.arrayValue?.compactMap(\.intValue) ?? [-1]
            if c["rms_scaling"]?.boolValue == true { throw unsupported("rms_scaling") }
            return one(.layerNormalization(axes: axes, epsilon: Float(c["epsilon"]?.doubleValue ?? 1e-3),
                                           center: c["center"]?.boolValue ?? true, scale: c["scale"]?.boolValue ?? true), try single())
        case "Normalization":
            if let axis = c["axis"]?.intValue ?? c["axis"]?.arrayValue?.first?.intValue, axis != -1 && axis != 3 {
                throw unsupported("axis \(axis): only the last (channel) axis")
            }
            if c["invert"]?.boolValue == true { throw unsupported("invert") }
            return one(.normalization(mean: floats(c["mean"]), variance: floats(c["variance"])), try single())
        case "Rescaling":
            return one(.rescaling(scale: floats(c["scale"]) ?? [1], offset: floats(c["offset"]) ?? [0]), try single())
        case "Activation":
            return one(.activation(try activation(c["activation"], node)), try single())
        case "ReLU":
            let maximum = c["max_value"]?.doubleValue, slope = c["negative_slope"]?.doubleValue ?? 0, threshold = c["threshold"]?.doubleValue ?? 0
            guard threshold == 0 else { throw unsupported("threshold \(threshold)") }
            if let maximum {
                guard maximum == 6, slope == 0 else { throw unsupported("max_value \(maximum) with negative_slope \(slope)") }
                return one(.activation(.relu6), try single())
            }
            return one(.activation(slope == 0 ? .relu : .leakyReLU(alpha: Float(slope))), try single())
        case "LeakyReLU":
            return one(.activation(.leakyReLU(alpha: Float(c["negative_slope"]?.doubleValue ?? c["alpha"]?.doubleValue ?? 0.3))), try single())
        case "ELU":
            return one(.activation(.elu(alpha: Float(c["alpha"]?.doubleValue ?? 1))), try single())
        case "Softmax":
            if let axis = c["axis"]?.intValue, axis != -1 { throw unsupported("axis \(axis)") }
            return one(.activation(.softmax), try single())
        case "PReLU":
            let shared = c["shared_axes"]?.arrayValue?.compactMap(\.intValue) ?? []
            return one(.prelu(sharedAxes: shared), try single())
        case "Dropout", "GaussianDropout", "AlphaDropout", "GaussianNoise", "ActivityRegularization":
            let rate = Float(c["rate"]?.doubleValue ?? 0)
            let noise = c["noise_shape"]?.arrayValue.map { $0.dropFirst().map { $0.intValue ?? 0 } }
            return one(.dropout(rate: node.className == "Dropout" ? rate : 0, noiseShape: noise?.contains(0) == true ? nil : noise), try single())
        case "SpatialDropout2D":
            return one(.spatialDropout2d(rate: Float(c["rate"]?.doubleValue ?? 0)), try single())
        case "StochasticDepth":  // ConvNeXt: drops whole samples in training
            return one(.dropout(rate: Float(c["drop_path_rate"]?.doubleValue ?? 0), noiseShape: nil), try single())
        case "Flatten":
            return one(.flatten, try single())
        case "Reshape":
            guard let shape = c["target_shape"]?.arrayValue?.map({ $0.intValue ?? -1 }) else { throw unsupported("no target_shape") }
            return one(.reshape(shape), try single())
        case "Permute":
            guard let dims = c["dims"]?.arrayValue?.compactMap(\.intValue) else { throw unsupported("no dims") }
            return one(.permute(dims), try single())
        case "ZeroPadding2D":
            return one(.zeroPadding2d(try sides(c["padding"], node)), try single())
        case "Cropping2D":
            return one(.cropping2d(try sides(c["cropping"], node)), try single())
        case "UpSampling2D":
            let interpolation = c["interpolation"]?.stringValue ?? "nearest"
            guard let mode = UpSampling2D.Interpolation(rawValue: interpolation) else { throw unsupported("interpolation '\(interpolation)'") }
            return one(.upSampling2d(size: try pair(c["size"], node) ?? [2, 2], interpolation: mode), try single())
        case "MaxPooling2D", "AveragePooling2D":
            var s = LayerConfig.PoolingSettings()
            s.poolSize = try pair(c["pool_size"], node) ?? [2, 2]
            s.strides = try pair(c["strides"], node)
            s.padding = try padding(c["padding"], node)
            return one(node.className == "MaxPooling2D" ? .maxPooling2d(s) : .averagePooling2d(s), try single())
        case "AdaptiveAveragePooling2D":  // Keras 3.11+: PyTorch's windows ⌊i·h/o⌋ ..< ⌈(i + 1)·h/o⌉
            return one(.adaptiveAveragePooling2d(outputSize: try pair(c["output_size"], node) ?? [1, 1]), try single())
        case "GlobalAveragePooling2D":
            return one(.globalAveragePooling2d(keepDims: c["keepdims"]?.boolValue ?? false), try single())
        case "GlobalMaxPooling2D":
            return one(.globalMaxPooling2d(keepDims: c["keepdims"]?.boolValue ?? false), try single())
        case "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum":
            guard let operation = ElementwiseMerge.Operation(rawValue: node.className.lowercased()) else { throw unsupported("?") }
            return one(.merge(operation))
        case "Concatenate":
            return one(.concatenate(axis: c["axis"]?.intValue ?? -1))
        case "TFOpLambda", "SlicingOpLambda":
            return try KerasOperators.convert(node, inputs: inputs)
        case "CustomScaleLayer":  // InceptionResNetV2: inputs[0] + inputs[1] · scale
            guard inputs.count == 2, let scale = c["scale"]?.doubleValue else { throw unsupported("expects two inputs and a scale") }
            return Conversion(nodes: [
                .init(name: "\(name)#1", layer: .rescaling(scale: [Float(scale)], offset: [0]), inputs: [inputs[1]]),
                .init(name: name, layer: .merge(.add), inputs: [inputs[0], "\(name)#1"]),
            ])
        case "LayerScale":  // ConvNeXt: x · γ per channel (γ [C], trainable) = a 1×1 depthwise convolution without bias
            guard let channels = c["projection_dim"]?.intValue, channels > 0 else { throw unsupported("no projection_dim") }
            var s = LayerConfig.ConvolutionSettings()
            s.filters = channels
            s.useBias = false
            return one(.depthwiseConv2d(s), try single())
        case "Lambda":
            throw unsupported("a Lambda layer holds Python code, which Zoo never runs; rebuild the model without it")
        default:
            throw unsupported("not a layer Zoo knows")
        }
    }

    /// Refuses channels-first layers (the engine is NHWC).
    /// The layers Keras Applications define themselves are saved under a package prefix by
    /// some versions (tf-keras: `Custom>CustomScaleLayer`); those two are matched without it.
    /// Other prefixed classes keep their prefix (a user's `MyPkg>Dense` is not Keras' `Dense`).
    static func applicationClassName(_ className: String) -> String {
        guard let marker = className.lastIndex(of: ">") else { return className }
        let bare = String(className[className.index(after: marker)...])
        return ["CustomScaleLayer", "LayerScale"].contains(bare) ? bare : className
    }

    static func checkChannelsLast(_ c: JSONValue, _ node: KerasGraph.Node) throws {
        if let format = c["data_format"]?.stringValue, format == "channels_first" {
            throw Unsupported(className: node.className, reason: "data_format channels_first (Zoo's engine is channels-last)")
        }
    }

    static func activation(_ value: JSONValue?, _ node: KerasGraph.Node) throws -> Activation {
        let name = value?.stringValue ?? value?["config"]?["name"]?.stringValue ?? value?["class_name"]?.stringValue ?? "linear"
        let keras2 = node.module == nil
        // Keras 2's hard_sigmoid is clip(0.2x + 0.5); Keras 3's relu6(x + 3)/6.
        if name == "hard_sigmoid" { return keras2 ? .hardSigmoidKeras2 : .hardSigmoid }
        do { return try Activation(name: name) } catch {
            throw Unsupported(className: node.className, reason: "activation '\(name)'")
        }
    }

    static func pair(_ value: JSONValue?, _ node: KerasGraph.Node) throws -> [Int]? {
        guard let value, value != .null else { return nil }
        if let n = value.intValue { return [n, n] }
        guard let items = value.arrayValue?.compactMap(\.intValue), items.count == 2 else {
            throw Unsupported(className: node.className, reason: "expected one or two integers, found \(value)")
        }
        return items
    }

    static func padding(_ value: JSONValue?, _ node: KerasGraph.Node) throws -> Padding {
        switch value?.stringValue ?? "valid" {
        case "valid": return .valid
        case "same": return .same
        case let other: throw Unsupported(className: node.className, reason: "padding '\(other)'")
        }
    }

    /// ZeroPadding2D / Cropping2D amounts: `p`, `[h, w]` or `[[top, bottom], [left, right]]`.
    static func sides(_ value: JSONValue?, _ node: KerasGraph.Node) throws -> LayerConfig.Sides {
        if let p = value?.intValue { return .init(top: p, bottom: p, left: p, right: p) }
        if let items = value?.arrayValue, items.count == 2 {
            if let h = items[0].intValue, let w = items[1].intValue { return .init(top: h, bottom: h, left: w, right: w) }
            if let a = items[0].arrayValue?.compactMap(\.intValue), let b = items[1].arrayValue?.compactMap(\.intValue),
               a.count == 2, b.count == 2 {
                return .init(top: a[0], bottom: a[1], left: b[0], right: b[1])
            }
        }
        throw Unsupported(className: node.className, reason: "amounts \(String(describing: value))")
    }

    /// A number or a list of numbers.
    static func floats(_ value: JSONValue?) -> [Float]? {
        if let x = value?.doubleValue { return [Float(x)] }
        if let items = value?.arrayValue?.compactMap(\.doubleValue), !items.isEmpty { return items.map { Float($0) } }
        return nil
    }
}
