import ZooFormat
import ZooNet

/// The Keras a model file is written for.
public enum KerasVersion: String, Sendable {
    /// Keras 3 (`keras.models.load_model("m.keras")`).
    case keras3 = "Keras 3"
    /// Keras 2 / tf-keras (`tf_keras.models.load_model("m.h5")`).
    case keras2 = "tf-keras"
}

/// One Keras layer call a node becomes: the class, its settings (besides `name`, `trainable`,
/// `dtype`), what it takes and the shape it gives (per sample).
struct KerasExportStep {
    /// Where a step's input comes from.
    enum Source: Equatable {
        /// The node's k-th input.
        case input(Int)
        /// An earlier step of the same node.
        case step(Int)
    }

    /// The name suffix of a helper step (`_pad`); empty for the step that carries the node's name and variables.
    var suffix: String
    var className: String
    var settings: [(key: String, value: JSONValue)]
    var inputs: [Source]
    /// A merge layer, called on a list of tensors.
    var takesList = false
    var outputShape: [Int]
}

/// LayerConfig → Keras: the inverse of `convert`, one entry per engine layer kind, saying
/// which Keras layers (and settings) compute the same function. PyTorch semantics Keras lacks
/// become chains of Keras layers: explicit (symmetric) padding is a `ZeroPadding2D` before a
/// `valid` convolution; a max pooling with padding or `ceil_mode` pads by repeating the edge
/// rows and columns (`Cropping2D` + `Concatenate`, a value that never wins a maximum the
/// window did not already have) before a `valid` pooling; `AdaptiveAvgPool2d` is a global or
/// plain average pooling, or a nearest upsampling, when the sizes allow.
extension KerasLayerCatalog {
    /// The Keras layer calls of one node, in dependency order: exactly one step has the suffix
    /// "" (it gets the node's name and variables); the last step's output is the node's output.
    /// - Parameters:
    ///   - layer: the node's layer.
    ///   - inputShapes: per-sample shapes of its inputs.
    ///   - outputShape: its per-sample output shape.
    /// - Throws: `Unsupported` (class = the engine kind) for what the target Keras cannot express.
    static func export(_ layer: LayerConfig, inputShapes: [[Int]], outputShape: [Int], version: KerasVersion) throws -> [KerasExportStep] {
        func unsupported(_ reason: String) -> Unsupported { Unsupported(className: layer.kind, reason: reason) }
        let shape = inputShapes.first ?? []
        func main(_ className: String, _ settings: [(key: String, value: JSONValue)], from source: KerasExportStep.Source = .input(0),
                  shape: [Int]? = nil) -> KerasExportStep {
            KerasExportStep(suffix: "", className: className, settings: settings, inputs: [source], outputShape: shape ?? outputShape)
        }
        switch layer {
        case let .dense(units, activation, useBias):
            let (inline, after) = try fusedActivation(activation, version: version, shape: outputShape, layer: layer)
            return [main("Dense", [("units", .integer(units)), ("activation", .string(inline)), ("use_bias", .bool(useBias))])] + attach(after, to: 0)
        case .conv2d(let s), .depthwiseConv2d(let s), .separableConv2d(let s), .conv2dTranspose(let s):
            var steps: [KerasExportStep] = []
            var padding = "valid"
            switch s.padding {
            case .valid: break
            case .same: padding = "same"
            case let .explicit(top, bottom, left, right):
                if case .conv2dTranspose = layer { throw unsupported("explicit padding on a transposed convolution (Keras crops differently)") }
                if top == bottom, left == right, s.strides == [1, 1], s.kernelSize.count == 2,
                   top * 2 == (s.kernelSize[0] - 1) * s.dilation[0], left * 2 == (s.kernelSize[1] - 1) * s.dilation[1] {
                    padding = "same"  // stride 1: Keras' "same" pads exactly (k − 1)·d / 2 on each side
                } else if top != 0 || bottom != 0 || left != 0 || right != 0 {
                    steps.append(zeroPadding(top, bottom, left, right, shape: shape, suffix: "_pad"))
                }
            }
            var settings: [(key: String, value: JSONValue)] = []
            let className: String
            switch layer {
            case .conv2d:
                className = "Conv2D"
                settings = [("filters", .integer(s.filters)), ("kernel_size", ints(s.kernelSize)), ("strides", ints(s.strides)),
                            ("padding", .string(padding)), ("data_format", .string("channels_last")), ("dilation_rate", ints(s.dilation)),
                            ("groups", .integer(s.groups))]
            case .depthwiseConv2d:
                className = "DepthwiseConv2D"
                settings = [("kernel_size", ints(s.kernelSize)), ("strides", ints(s.strides)), ("padding", .string(padding)),
                            ("depth_multiplier", .integer(s.depthMultiplier)), ("data_format", .string("channels_last")),
                            ("dilation_rate", ints(s.dilation))]
            case .separableConv2d:
                className = "SeparableConv2D"
                settings = [("filters", .integer(s.filters)), ("kernel_size", ints(s.kernelSize)), ("strides", ints(s.strides)),
                            ("padding", .string(padding)), ("depth_multiplier", .integer(s.depthMultiplier)),
                            ("data_format", .string("channels_last")), ("dilation_rate", ints(s.dilation))]
            default:
                className = "Conv2DTranspose"
                settings = [("filters", .integer(s.filters)), ("kernel_size", ints(s.kernelSize)), ("strides", ints(s.strides)),
                            ("padding", .string(padding)), ("output_padding", s.outputPadding.map(ints) ?? .null),
                            ("data_format", .string("channels_last")), ("dilation_rate", ints(s.dilation))]
            }
            let (inline, after) = try fusedActivation(s.activation, version: version, shape: outputShape, layer: layer)
            settings += [("activation", .string(inline)), ("use_bias", .bool(s.useBias))]
            steps.append(main(className, settings, from: steps.isEmpty ? .input(0) : .step(0)))
            return steps + attach(after, to: steps.count - 1)
        case let .batchNormalization(momentum, epsilon, center, scale):
            return [main("BatchNormalization", [("axis", .integer(-1)), ("momentum", float(momentum)),
                                                ("epsilon", float(epsilon)), ("center", .bool(center)), ("scale", .bool(scale))])]
        case let .layerNormalization(axes, epsilon, center, scale):
            return [main("LayerNormalization", [("axis", axes.count == 1 ? .integer(axes[0]) : ints(axes)), ("epsilon", float(epsilon)),
                                                ("center", .bool(center)), ("scale", .bool(scale))])]
        case let .normalization(mean, variance):
            guard let mean, let variance else {
                throw unsupported("statistics stored as variables (adapted mean, variance and count) are not written yet; only constant ones")
            }
            return [main("Normalization", [("axis", .integer(-1)), ("mean", floats(mean)), ("variance", floats(variance))])]
        case let .rescaling(scale, offset):
            return [main("Rescaling", [("scale", floats(scale)), ("offset", floats(offset))])]
        case .activation(let activation):
            return try activationSteps(activation, version: version, shape: outputShape, layer: layer)
        case .prelu(let sharedAxes):
            return [main("PReLU", [("shared_axes", sharedAxes.isEmpty ? .null : ints(sharedAxes))])]
        case let .dropout(rate, noiseShape):
            return [main("Dropout", [("rate", float(rate)), ("noise_shape", noiseShape.map { .array([.null] + $0.map { .integer($0) }) } ?? .null)])]
        case .spatialDropout2d(let rate):
            return [main("SpatialDropout2D", [("rate", float(rate)), ("data_format", .string("channels_last"))])]
        case .flatten:
            return [main("Flatten", [("data_format", .string("channels_last"))])]
        case .reshape(let target):
            return [main("Reshape", [("target_shape", ints(target))])]
        case .permute(let dims):
            return [main("Permute", [("dims", ints(dims))])]
        case .zeroPadding2d(let p):
            return [main("ZeroPadding2D", [("padding", sides(p)), ("data_format", .string("channels_last"))])]
        case .cropping2d(let c):
            return [main("Cropping2D", [("cropping", sides(c)), ("data_format", .string("channels_last"))])]
        case let .upSampling2d(size, interpolation):
            return [main("UpSampling2D", [("size", ints(size)), ("data_format", .string("channels_last")), ("interpolation", .string(interpolation.rawValue))])]
        case .maxPooling2d(let s):
            guard let (padding, pads) = poolingPadding(s, shape: shape) else { throw unsupported("a window that does not fit the input \(shape)") }
            var steps: [KerasExportStep] = []
            if pads != [0, 0, 0, 0] { steps = edgePadding(pads, shape: shape) }
            steps.append(main("MaxPooling2D", pooling(s, padding: padding), from: steps.isEmpty ? .input(0) : .step(steps.count - 1)))
            return steps
        case .averagePooling2d(let s):
            guard let (padding, pads) = poolingPadding(s, shape: shape) else { throw unsupported("a window that does not fit the input \(shape)") }
            guard pads == [0, 0, 0, 0] else {
                var given = [0, 0, 0, 0]
                if case let .explicit(top, bottom, left, right) = s.padding { given = [top, bottom, left, right] }
                guard s.countIncludePad, pads == given else {
                    throw unsupported(s.countIncludePad
                        ? "ceil_mode adds a partial window, whose mean PyTorch takes over fewer cells: no Keras pooling does that"
                        : "a mean that leaves padded cells out (count_include_pad=False) with PyTorch's symmetric padding: Keras' \"same\" pads asymmetrically")
                }
                let pad = zeroPadding(pads[0], pads[1], pads[2], pads[3], shape: shape, suffix: "_pad")
                return [pad, main("AveragePooling2D", pooling(s, padding: "valid"), from: .step(0))]
            }
            return [main("AveragePooling2D", pooling(s, padding: padding))]
        case .globalAveragePooling2d(let keepDims):
            return [main("GlobalAveragePooling2D", [("data_format", .string("channels_last")), ("keepdims", .bool(keepDims))])]
        case .globalMaxPooling2d(let keepDims):
            return [main("GlobalMaxPooling2D", [("data_format", .string("channels_last")), ("keepdims", .bool(keepDims))])]
        case .adaptiveAveragePooling2d(let size):
            let (oh, ow) = (size[0], size.count > 1 ? size[1] : size[0])
            guard shape.count == 3 else { throw unsupported("input \(shape) is not [h, w, c]") }
            let (h, w) = (shape[0], shape[1])
            if oh == 1, ow == 1 {
                return [main("GlobalAveragePooling2D", [("data_format", .string("channels_last")), ("keepdims", .bool(true))])]
            }
            if h % oh == 0, w % ow == 0 {  // equal windows side by side
                var s = LayerConfig.PoolingSettings()
                s.poolSize = [h / oh, w / ow]
                s.strides = s.poolSize
                return [main("AveragePooling2D", pooling(s, padding: "valid"))]
            }
            if oh % h == 0, ow % w == 0 {  // each output cell averages one input cell
                return [main("UpSampling2D", [("size", ints([oh / h, ow / w])), ("data_format", .string("channels_last")),
                                              ("interpolation", .string("nearest"))])]
            }
            guard version == .keras3 else {
                throw unsupported("AdaptiveAvgPool2d from \(h)×\(w) to \(oh)×\(ow) (uneven windows): tf-keras has no adaptive pooling; write Keras 3")
            }
            return [main("AdaptiveAveragePooling2D", [("output_size", ints([oh, ow])), ("data_format", .string("channels_last"))])]
        case .merge(let operation):
            let names: [ElementwiseMerge.Operation: String] = [.add: "Add", .subtract: "Subtract", .multiply: "Multiply",
                                                               .average: "Average", .maximum: "Maximum", .minimum: "Minimum"]
            return [KerasExportStep(suffix: "", className: names[operation]!, settings: [], inputs: inputShapes.indices.map { .input($0) },
                                    takesList: true, outputShape: outputShape)]
        case .concatenate(let axis):
            return [KerasExportStep(suffix: "", className: "Concatenate", settings: [("axis", .integer(axis))],
                                    inputs: inputShapes.indices.map { .input($0) }, takesList: true, outputShape: outputShape)]
        }
    }

    // MARK: - Activations

    /// The activation names Keras 3 and tf-keras both define as the engine does.
    private static func activationName(_ activation: Activation, version: KerasVersion) -> String? {
        switch activation {
        case .linear, .relu, .selu, .sigmoid, .tanh, .softmax, .swish, .softplus, .softsign, .mish, .exponential: return activation.name
        case .elu(let alpha) where alpha == 1: return "elu"
        case .gelu(let approximate) where !approximate: return "gelu"
        case .relu6: return version == .keras3 ? "relu6" : nil
        case .hardSigmoid: return version == .keras3 ? "hard_sigmoid" : nil  // Keras 3: relu6(x + 3) / 6
        case .hardSigmoidKeras2: return version == .keras2 ? "hard_sigmoid" : nil  // tf-keras: clip(0.2x + 0.5, 0, 1)
        case .hardSwish: return version == .keras3 ? "hard_silu" : nil
        case .logSoftmax: return version == .keras3 ? "log_softmax" : nil
        default: return nil
        }
    }

    /// A convolution's or dense layer's activation: inline when the target names it, else
    /// `linear` and the activation's steps after it.
    private static func fusedActivation(_ activation: Activation, version: KerasVersion, shape: [Int], layer: LayerConfig) throws
        -> (String, [KerasExportStep]) {
        if let name = activationName(activation, version: version) { return (name, []) }
        var steps = try activationSteps(activation, version: version, shape: shape, layer: layer)
        for k in steps.indices { steps[k].suffix = "_activation" + steps[k].suffix }
        return ("linear", steps)
    }

    /// Activation steps (written against the node's input) placed after step `main`: their
    /// input becomes that step's output.
    private static func attach(_ steps: [KerasExportStep], to main: Int) -> [KerasExportStep] {
        steps.map { step in
            var step = step
            step.inputs = step.inputs.map { source in
                if case .step(let j) = source { return .step(main + 1 + j) }
                return .step(main)
            }
            return step
        }
    }

    /// Steps computing `activation` of the node's input; the last has suffix "".
    private static func activationSteps(_ activation: Activation, version: KerasVersion, shape: [Int], layer: LayerConfig) throws -> [KerasExportStep] {
        func step(_ className: String, _ settings: [(key: String, value: JSONValue)], _ source: KerasExportStep.Source, suffix: String = "")
            -> KerasExportStep {
            KerasExportStep(suffix: suffix, className: className, settings: settings, inputs: [source], outputShape: shape)
        }
        if let name = activationName(activation, version: version) {
            if activation == .softmax { return [step("Softmax", [("axis", .integer(-1))], .input(0))] }
            return [step("Activation", [("activation", .string(name))], .input(0))]
        }
        switch activation {
        case .relu6:
            return [step("ReLU", [("max_value", .double(6)), ("negative_slope", .double(0)), ("threshold", .double(0))], .input(0))]
        case .leakyReLU(let alpha):
            return [step("LeakyReLU", [(version == .keras3 ? "negative_slope" : "alpha", float(alpha))], .input(0))]
        case .elu(let alpha):
            return [step("ELU", [("alpha", float(alpha))], .input(0))]
        case .hardSigmoid, .hardSigmoidKeras2, .hardSwish:
            // clip(a·x + 1/2, 0, 1) = relu6(6a·x + 3) / 6: Rescaling(6a, 3), ReLU(max_value=6),
            // Rescaling(1/6), with a = 1/6 (Keras 3's and PyTorch's hardsigmoid, relu6(x + 3)/6)
            // or 0.2 (tf-keras'); hard swish multiplies by x. (ReLU(max_value=6) is also what Zoo
            // reads back; it has no clip at other values.)
            let slope = activation == .hardSigmoidKeras2 ? 1.2 : 1
            let relu6 = [("max_value", JSONValue.double(6)), ("negative_slope", .double(0)), ("threshold", .double(0))]
            let gate = [step("Rescaling", [("scale", .double(slope)), ("offset", .double(3))], .input(0), suffix: "_shift"),
                        step("ReLU", relu6, .step(0), suffix: "_relu6"),
                        step("Rescaling", [("scale", .double(1.0 / 6)), ("offset", .double(0))], .step(1), suffix: activation == .hardSwish ? "_gate" : "")]
            if activation == .hardSwish {
                return gate + [KerasExportStep(suffix: "", className: "Multiply", settings: [], inputs: [.input(0), .step(2)], takesList: true, outputShape: shape)]
            }
            return gate
        default:
            throw Unsupported(className: layer.kind, reason: "activation '\(activation.name)' has no \(version.rawValue) equivalent")
        }
    }

    // MARK: - Padding and pooling

    private static func zeroPadding(_ top: Int, _ bottom: Int, _ left: Int, _ right: Int, shape: [Int], suffix: String) -> KerasExportStep {
        KerasExportStep(suffix: suffix, className: "ZeroPadding2D",
                        settings: [("padding", sides(.init(top: top, bottom: bottom, left: left, right: right))), ("data_format", .string("channels_last"))],
                        inputs: [.input(0)], outputShape: [shape[0] + top + bottom, shape[1] + left + right] + shape.dropFirst(2))
    }

    /// Keras' padding name for a pooling and the pads [top, bottom, left, right] to add before
    /// a `valid` pooling (PyTorch's explicit pads, grown at the bottom/right by `ceil_mode`).
    /// Nil when the window does not fit.
    private static func poolingPadding(_ s: LayerConfig.PoolingSettings, shape: [Int]) -> (String, [Int])? {
        guard shape.count == 3 else { return nil }
        var before = [0, 0], after = [0, 0]
        switch s.padding {
        case .same: return ("same", [0, 0, 0, 0])
        case .valid: break
        case let .explicit(top, bottom, left, right): (before, after) = ([top, left], [bottom, right])
        }
        let strides = s.strides ?? s.poolSize
        var pads: [Int] = []
        for axis in 0..<2 {
            let (input, kernel, stride) = (shape[axis], s.poolSize[axis], strides[axis])
            let span = input + before[axis] + after[axis] - kernel
            guard span >= 0 else { return nil }
            var output = span / stride + 1
            if s.ceilMode, span % stride != 0 {
                output += 1
                if (output - 1) * stride >= input + before[axis] { output -= 1 }  // PyTorch: the last window starts inside
            }
            let needed = (output - 1) * stride + kernel - input - before[axis]
            pads += [before[axis], max(after[axis], needed)]
        }
        return ("valid", pads)
    }

    private static func pooling(_ s: LayerConfig.PoolingSettings, padding: String) -> [(key: String, value: JSONValue)] {
        [("pool_size", ints(s.poolSize)), ("strides", ints(s.strides ?? s.poolSize)), ("padding", .string(padding)),
         ("data_format", .string("channels_last"))]
    }

    /// Pads [top, bottom, left, right] by repeating the edge rows, then columns: `Cropping2D`
    /// keeps one edge row (column), `Concatenate` stacks it the needed number of times. Every
    /// PyTorch pooling window holds an input cell next to each padded one it covers, so the
    /// repeated values never change a maximum.
    private static func edgePadding(_ pads: [Int], shape: [Int]) -> [KerasExportStep] {
        var steps: [KerasExportStep] = []
        var current: KerasExportStep.Source = .input(0)
        var size = shape
        for (axis, name) in [(0, "rows"), (1, "columns")] where pads[2 * axis] + pads[2 * axis + 1] > 0 {
            let (first, last) = (pads[2 * axis], pads[2 * axis + 1])
            let n = size[axis]
            var edge = size
            edge[axis] = 1
            func crop(_ keepFirst: Bool, _ suffix: String) -> KerasExportStep {
                let cut = LayerConfig.Sides(top: axis == 0 && !keepFirst ? n - 1 : 0, bottom: axis == 0 && keepFirst ? n - 1 : 0,
                                            left: axis == 1 && !keepFirst ? n - 1 : 0, right: axis == 1 && keepFirst ? n - 1 : 0)
                return KerasExportStep(suffix: suffix, className: "Cropping2D", settings: [("cropping", sides(cut)), ("data_format", .string("channels_last"))],
                                       inputs: [current], outputShape: edge)
            }
            var parts: [KerasExportStep.Source] = []
            if first > 0 {
                steps.append(crop(true, "_\(name)_first"))
                parts += Array(repeating: .step(steps.count - 1), count: first)
            }
            parts.append(current)
            if last > 0 {
                steps.append(crop(false, "_\(name)_last"))
                parts += Array(repeating: .step(steps.count - 1), count: last)
            }
            size[axis] += first + last
            steps.append(KerasExportStep(suffix: "_pad_\(name)", className: "Concatenate", settings: [("axis", .integer(axis + 1))],
                                         inputs: parts, takesList: true, outputShape: size))
            current = .step(steps.count - 1)
        }
        return steps
    }

    // MARK: - JSON

    static func ints(_ values: [Int]) -> JSONValue { .array(values.map { .integer($0) }) }

    /// One number, or a list when there are several.
    static func floats(_ values: [Float]) -> JSONValue {
        values.count == 1 ? float(values[0]) : .array(values.map(float))
    }

    /// A float32 setting as its shortest decimal (`1e-05`, not `9.99999974738e-06`).
    static func float(_ value: Float) -> JSONValue { .double(Double("\(value)") ?? Double(value)) }

    static func sides(_ s: LayerConfig.Sides) -> JSONValue { .array([ints([s.top, s.bottom]), ints([s.left, s.right])]) }
}
