import ZooFormat
import ZooNet

/// A value of the ONNX graph being written: its name and the engine's per-sample shape.
///
/// Layout rule: a value whose per-sample shape has rank 3 (an `[h, w, c]` map) is held as
/// NCHW `[N, c, h, w]` inside the graph (ONNX's convolutions and poolings take only that);
/// every other value keeps the engine's layout with the batch in front.
struct ONNXValue {
    /// The ONNX value name.
    var name: String
    /// The engine's per-sample shape (NHWC for maps).
    var shape: [Int]

    /// Whether the value is a map, held NCHW.
    var isMap: Bool { shape.count == 3 }
    /// The ONNX axis of the engine's per-sample axis `axis` (0-based, batch excluded):
    /// h, w, c of a map are 2, 3, 1; other values shift by the batch.
    func onnxAxis(_ axis: Int) -> Int { isMap ? [2, 3, 1][axis] : axis + 1 }
    /// The axis softmax-like activations run over: the channels.
    var channelAxis: Int { isMap ? 1 : -1 }
    /// The shape of a per-channel constant that broadcasts over this value: `[c, 1, 1]` for maps, `[c]` else.
    func channelShape(_ count: Int) -> [Int] { isMap ? [count, 1, 1] : [count] }
}

/// NCHW → NHWC and back, as `Transpose` permutations.
enum ONNXLayout {
    /// `[N, c, h, w]` → `[N, h, w, c]`.
    static let toNHWC = [0, 2, 3, 1]
    /// `[N, h, w, c]` → `[N, c, h, w]`.
    static let toNCHW = [0, 3, 1, 2]
}

/// Why one node has no ONNX form (collected for `ZooKitError.notONNXExpressible`).
struct ONNXUnsupported: Error {
    var reason: String
}

extension ONNXGraphBuilder {
    /// Appends the operators computing node `node` (`layer` is its engine layer, holding the
    /// variables) on `inputs` and returns its result's name, NCHW when the result is a map.
    /// - Throws: `ONNXUnsupported` for settings ONNX (or this writer) cannot express.
    mutating func emit(_ node: NetworkDescription.NodeDescription, inputs: [ONNXValue], outputShape: [Int],
                       layer: AnyObject?) throws -> String {
        let name = node.name
        let variables = (layer as? any Layer)?.variables ?? []
        func variable(_ leaf: String) -> Variable? {
            variables.first { $0.name.split(separator: "/").last.map(String.init) == leaf }
        }
        func required(_ leaf: String) throws -> Variable {
            guard let v = variable(leaf) else { throw ONNXUnsupported(reason: "its variable '\(leaf)' is missing (the layer is not built)") }
            return v
        }
        func map(_ k: Int = 0) throws -> ONNXValue {
            guard inputs[k].isMap else { throw ONNXUnsupported(reason: "expects an [h, w, c] map, got \(inputs[k].shape)") }
            return inputs[k]
        }
        let x = inputs.first ?? ONNXValue(name: "", shape: [])
        let output = ONNXValue(name: name, shape: outputShape)

        switch node.layer {
        case .conv2d(let s):
            let m = try map()
            let (kh, kw) = Self.pair(s.kernelSize), groups = max(s.groups, 1)
            let kernel = try required("kernel")  // [kh, kw, cin/g, f]
            let weight = try permutedInitializer(kernel, [3, 2, 0, 1], name: kernel.name)
            var convInputs = [m.name, weight]
            if let bias = variable("bias") { convInputs.append(try floats(bias.name, shape: bias.shape, bias.values)) }
            let y = add("Conv", convInputs, output: name + "/conv",
                        try convolutionAttributes(s, input: m.shape, kernel: (kh, kw), groups: groups))
            return try activation(s.activation, of: y, channelAxis: 1, name: name)

        case .depthwiseConv2d(let s):
            let m = try map()
            let kernel = try required("depthwise_kernel")  // [kh, kw, c, mult]
            let weight = try depthwiseInitializer(kernel)
            var convInputs = [m.name, weight]
            if let bias = variable("bias") { convInputs.append(try floats(bias.name, shape: bias.shape, bias.values)) }
            let y = add("Conv", convInputs, output: name + "/conv",
                        try convolutionAttributes(s, input: m.shape, kernel: Self.pair(s.kernelSize), groups: m.shape[2]))
            return try activation(s.activation, of: y, channelAxis: 1, name: name)

        case .separableConv2d(let s):
            let m = try map()
            let depthwise = try depthwiseInitializer(try required("depthwise_kernel"))
            let d = add("Conv", [m.name, depthwise], output: name + "/depthwise",
                        try convolutionAttributes(s, input: m.shape, kernel: Self.pair(s.kernelSize), groups: m.shape[2]))
            let pointwise = try required("pointwise_kernel")  // [1, 1, c·m, f]
            var pointInputs = [d, try permutedInitializer(pointwise, [3, 2, 0, 1], name: pointwise.name)]
            if let bias = variable("bias") { pointInputs.append(try floats(bias.name, shape: bias.shape, bias.values)) }
            let y = add("Conv", pointInputs, output: name + "/pointwise", [.ints("kernel_shape", [1, 1])])
            return try activation(s.activation, of: y, channelAxis: 1, name: name)

        case .conv2dTranspose(let s):
            let m = try map()
            let (kh, kw) = Self.pair(s.kernelSize), (sh, sw) = Self.pair(s.strides), (dh, dw) = Self.pair(s.dilation)
            let op = s.outputPadding.map(Self.pair)
            guard let h = ONNXWindowPads.transposed(s.padding, input: m.shape[0], kernel: kh, stride: sh, dilation: dh, outputPadding: op?.0, axis: 0),
                  let w = ONNXWindowPads.transposed(s.padding, input: m.shape[1], kernel: kw, stride: sw, dilation: dw, outputPadding: op?.1, axis: 1)
            else { throw ONNXUnsupported(reason: "its padding gives negative pads") }
            let kernel = try required("kernel")  // [kh, kw, f, cin] → [cin, f, kh, kw]
            var convInputs = [m.name, try permutedInitializer(kernel, [3, 2, 0, 1], name: kernel.name)]
            if let bias = variable("bias") { convInputs.append(try floats(bias.name, shape: bias.shape, bias.values)) }
            let y = add("ConvTranspose", convInputs, output: name + "/conv_transpose", [
                .ints("dilations", [dh, dw]), .ints("kernel_shape", [kh, kw]), .ints("pads", [h.before, w.before, h.after, w.after]),
                .ints("strides", [sh, sw]),
            ])
            return try activation(s.activation, of: y, channelAxis: 1, name: name)

        case let .dense(_, activationFunction, _):
            let kernel = try required("kernel")  // [in, out]
            let weight = try floats(kernel.name, shape: kernel.shape, kernel.values)
            let bias = try variable("bias").map { try floats($0.name, shape: $0.shape, $0.values) }
            let y: String
            if x.shape.count == 1 {
                y = add("Gemm", [x.name, weight] + (bias.map { [$0] } ?? []), output: name + "/gemm")
            } else {
                let source = x.isMap ? transpose(x.name, ONNXLayout.toNHWC, output: name + "/nhwc") : x.name
                var product = add("MatMul", [source, weight], output: name + "/matmul")
                if let bias { product = add("Add", [product, bias], output: name + "/bias_add") }
                y = x.isMap ? transpose(product, ONNXLayout.toNCHW, output: name + "/nchw") : product
            }
            return try activation(activationFunction, of: y, channelAxis: output.channelAxis, name: name)

        case let .batchNormalization(_, epsilon, _, _):
            let mean = try required("moving_mean"), variance = try required("moving_variance")
            let c = mean.count
            let gamma = variable("gamma")?.values ?? [Float](repeating: 1, count: c)
            let beta = variable("beta")?.values ?? [Float](repeating: 0, count: c)
            if x.shape.count == 1 || x.isMap {
                return add("BatchNormalization", [
                    x.name, try floats(variable("gamma")?.name ?? name + "/gamma", shape: [c], gamma),
                    try floats(variable("beta")?.name ?? name + "/beta", shape: [c], beta),
                    try floats(mean.name, shape: [c], mean.values), try floats(variance.name, shape: [c], variance.values),
                ], output: name, [.float("epsilon", epsilon)])
            }
            // Channels last of a sequence: y = x·scale + shift, scale = γ/√(σ² + ε), shift = β − μ·scale.
            let scale = (0..<c).map { gamma[$0] / (variance.values[$0] + epsilon).squareRoot() }
            let shift = (0..<c).map { beta[$0] - mean.values[$0] * scale[$0] }
            let scaled = add("Mul", [x.name, try floats(name + "/scale", shape: [c], scale)], output: name + "/scaled")
            return add("Add", [scaled, try floats(name + "/shift", shape: [c], shift)], output: name)

        case let .layerNormalization(axes, epsilon, _, _):
            return try layerNormalization(x, axes: axes.count, epsilon: epsilon, gamma: variable("gamma"), beta: variable("beta"), name: name)

        case .normalization:
            let (mean, variance): ([Float], [Float])
            if let m = variable("mean"), let v = variable("variance") {
                (mean, variance) = (m.values, v.values)
            } else if let norm = layer as? Normalization, let m = norm.constantMean, let v = norm.constantVariance {
                let c = x.shape.last ?? 1
                (mean, variance) = (m.count == 1 ? Array(repeating: m[0], count: c) : m, v.count == 1 ? Array(repeating: v[0], count: c) : v)
            } else { throw ONNXUnsupported(reason: "its statistics are missing") }
            let inverse = variance.map { 1 / max($0.squareRoot(), 1e-7) }
            let centered = add("Sub", [x.name, try floats(name + "/mean", shape: x.channelShape(mean.count), mean)], output: name + "/centered")
            return add("Mul", [centered, try floats(name + "/inverse_std", shape: x.channelShape(inverse.count), inverse)], output: name)

        case let .rescaling(scale, offset):
            let shape = { (values: [Float]) in values.count == 1 ? [] : x.channelShape(values.count) }
            var y = x.name
            if scale != [1] { y = add("Mul", [y, try floats(name + "/scale", shape: shape(scale), scale)], output: name + "/scaled") }
            if offset.contains(where: { $0 != 0 }) { y = add("Add", [y, try floats(name + "/offset", shape: shape(offset), offset)], output: name) }
            return y

        case .activation(let function):
            return try activation(function, of: x.name, channelAxis: x.channelAxis, name: name)

        case .prelu:
            let alpha = try required("alpha")  // the input's shape with 1 on shared axes
            let slope = x.isMap ? try permutedInitializer(alpha, [2, 0, 1], name: alpha.name) : try floats(alpha.name, shape: alpha.shape, alpha.values)
            return add("PRelu", [x.name, slope], output: name)

        case .dropout, .spatialDropout2d:
            return x.name  // inference: the identity

        case .flatten:
            let source = x.isMap ? transpose(x.name, ONNXLayout.toNHWC, output: name + "/nhwc") : x.name
            return add("Flatten", [source], output: name, [.int("axis", 1)])

        case .reshape:
            let source = x.isMap ? transpose(x.name, ONNXLayout.toNHWC, output: name + "/nhwc") : x.name
            let reshaped = add("Reshape", [source, try int64s(name + "/shape", [-1] + outputShape)], output: name + "/reshape")
            return output.isMap ? transpose(reshaped, ONNXLayout.toNCHW, output: name + "/nchw") : reshaped

        case .permute(let dims):
            // In the engine's layout: [0] + dims; around it the map conversions, composed into one Transpose.
            var permutation = x.isMap ? ONNXLayout.toNHWC : Array(0...x.shape.count)
            let engine = [0] + dims
            permutation = engine.map { permutation[$0] }
            if output.isMap { permutation = ONNXLayout.toNCHW.map { permutation[$0] } }
            return add("Transpose", [x.name], output: name, [.ints("perm", permutation)])

        case .zeroPadding2d(let p):
            _ = try map()
            let pads = try int64s(name + "/pads", [0, 0, p.top, p.left, 0, 0, p.bottom, p.right])
            return add("Pad", [x.name, pads], output: name, [.string("mode", "constant")])

        case .cropping2d(let c):
            let m = try map()
            return add("Slice", [
                m.name, try int64s(name + "/starts", [c.top, c.left]),
                try int64s(name + "/ends", [m.shape[0] - c.bottom, m.shape[1] - c.right]), try int64s(name + "/axes", [2, 3]),
            ], output: name)

        case let .upSampling2d(size, interpolation):
            _ = try map()
            let (sh, sw) = Self.pair(size)
            let scales = try floats(name + "/scales", shape: [4], [1, 1, Float(sh), Float(sw)])
            let attributes: [ONNXAttribute] = interpolation == .nearest
                ? [.string("coordinate_transformation_mode", "asymmetric"), .string("mode", "nearest"), .string("nearest_mode", "floor")]
                : [.string("coordinate_transformation_mode", "half_pixel"), .string("mode", "linear")]
            return add("Resize", [x.name, "", scales], output: name, attributes)

        case .maxPooling2d(let s):
            let m = try map()
            let (pads, kernel, strides) = try poolingGeometry(s, input: m.shape)
            return add("MaxPool", [m.name], output: name, [
                .ints("kernel_shape", kernel), .ints("pads", pads), .ints("strides", strides),
            ])

        case .averagePooling2d(let s):
            let m = try map()
            var (pads, kernel, strides) = try poolingGeometry(s, input: m.shape)
            var source = m.name
            if s.countIncludePad {
                // PyTorch divides by the window clipped to the declared pads: pad those with zeros
                // first, then average over cells inside that (the ceil-mode extension not counted).
                let (ph, pw) = Self.pair(s.poolSize), (sh, sw) = Self.pair(s.strides ?? s.poolSize)
                guard let h = ONNXWindowPads.declared(s.padding, input: m.shape[0], kernel: ph, stride: sh, axis: 0),
                      let w = ONNXWindowPads.declared(s.padding, input: m.shape[1], kernel: pw, stride: sw, axis: 1) else {
                    throw ONNXUnsupported(reason: "its window does not fit the input \(m.shape)")
                }
                if h != (0, 0) || w != (0, 0) {
                    let padsName = try int64s(name + "/zero_pads", [0, 0, h.before, w.before, 0, 0, h.after, w.after])
                    source = add("Pad", [m.name, padsName], output: name + "/padded", [.string("mode", "constant")])
                    pads = [0, 0, pads[2] - h.after, pads[3] - w.after]
                }
            }
            return add("AveragePool", [source], output: name, [
                .int("count_include_pad", 0), .ints("kernel_shape", kernel), .ints("pads", pads), .ints("strides", strides),
            ])

        case .globalAveragePooling2d(let keepDims), .globalMaxPooling2d(let keepDims):
            let m = try map()
            let isAverage = if case .globalAveragePooling2d = node.layer { true } else { false }
            let pooled = add(isAverage ? "GlobalAveragePool" : "GlobalMaxPool", [m.name], output: keepDims ? name : name + "/pool")
            return keepDims ? pooled : add("Flatten", [pooled], output: name, [.int("axis", 1)])

        case .adaptiveAveragePooling2d(let size):
            let m = try map()
            let (oh, ow) = Self.pair(size), (h, w) = (m.shape[0], m.shape[1])
            if oh == 1 && ow == 1 { return add("GlobalAveragePool", [m.name], output: name) }
            if h % oh == 0 && w % ow == 0 {
                return add("AveragePool", [m.name], output: name, [.ints("kernel_shape", [h / oh, w / ow]), .ints("strides", [h / oh, w / ow])])
            }
            // Overlapping or repeated bins: y = P_h · x · P_wᵀ, P[i, p] = 1/|bin i| on rows ⌊i·h/oh⌋ ..< ⌈(i+1)·h/oh⌉.
            let columns = try floats(name + "/columns", shape: [w, ow], Self.adaptiveMatrix(input: w, output: ow, transposed: true))
            let rows = try floats(name + "/rows", shape: [oh, h], Self.adaptiveMatrix(input: h, output: oh, transposed: false))
            let pooledColumns = add("MatMul", [m.name, columns], output: name + "/pool_columns")
            return add("MatMul", [rows, pooledColumns], output: name)

        case .merge(let operation):
            let names = inputs.map(\.name)
            guard names.count > 1 else { return add("Identity", names, output: name) }
            switch operation {
            case .add: return add(names.count == 2 ? "Add" : "Sum", names, output: name)
            case .subtract: return add("Sub", names, output: name)
            case .multiply:
                var product = names[0]
                for (k, factor) in names.dropFirst().enumerated() {
                    product = add("Mul", [product, factor], output: k == names.count - 2 ? name : name + "/product")
                }
                return product
            case .average: return add("Mean", names, output: name)
            case .maximum: return add("Max", names, output: name)
            case .minimum: return add("Min", names, output: name)
            }

        case .concatenate(let axis):
            let rank = x.shape.count
            let perSample = axis < 0 ? rank + axis : axis - 1
            return add("Concat", inputs.map(\.name), output: name, [.int("axis", x.onnxAxis(perSample))])
        }
    }

    // MARK: - Pieces

    /// (kh, kw) from one or two numbers.
    static func pair(_ values: [Int]) -> (Int, Int) { (values[0], values.count > 1 ? values[1] : values[0]) }

    /// `dilations`, `group`, `kernel_shape`, `pads`, `strides` of a convolution on an `[h, w, c]` input.
    func convolutionAttributes(_ s: LayerConfig.ConvolutionSettings, input: [Int], kernel: (Int, Int), groups: Int) throws -> [ONNXAttribute] {
        let (sh, sw) = Self.pair(s.strides), (dh, dw) = Self.pair(s.dilation)
        guard let h = ONNXWindowPads.axis(s.padding, input: input[0], kernel: kernel.0, stride: sh, dilation: dh, axis: 0),
              let w = ONNXWindowPads.axis(s.padding, input: input[1], kernel: kernel.1, stride: sw, dilation: dw, axis: 1) else {
            throw ONNXUnsupported(reason: "its window does not fit the input \(input)")
        }
        return [.ints("dilations", [dh, dw]), .int("group", groups), .ints("kernel_shape", [kernel.0, kernel.1]),
                .ints("pads", [h.before, w.before, h.after, w.after]), .ints("strides", [sh, sw])]
    }

    /// (pads `[top, left, bottom, right]`, kernel, strides) of a pooling, ceil mode folded into the after pads.
    func poolingGeometry(_ s: LayerConfig.PoolingSettings, input: [Int]) throws -> ([Int], [Int], [Int]) {
        let (ph, pw) = Self.pair(s.poolSize), (sh, sw) = Self.pair(s.strides ?? s.poolSize)
        guard let h = ONNXWindowPads.axis(s.padding, input: input[0], kernel: ph, stride: sh, axis: 0, ceilMode: s.ceilMode),
              let w = ONNXWindowPads.axis(s.padding, input: input[1], kernel: pw, stride: sw, axis: 1, ceilMode: s.ceilMode) else {
            throw ONNXUnsupported(reason: "its window does not fit the input \(input)")
        }
        return ([h.before, w.before, h.after, w.after], [ph, pw], [sh, sw])
    }

    /// An initializer of `variable`'s values transposed by `permutation` (output axis i = axis `permutation[i]`).
    mutating func permutedInitializer(_ variable: Variable, _ permutation: [Int], name: String) throws -> String {
        let (values, shape) = TorchParameterLayout.permuted(variable.values, shape: variable.shape, to: permutation)
        return try floats(name, shape: shape, values)
    }

    /// A depthwise kernel `[kh, kw, c, m]` as ONNX's grouped weight `[c·m, 1, kh, kw]` (output channel c·m + j).
    mutating func depthwiseInitializer(_ kernel: Variable) throws -> String {
        let (values, shape) = TorchParameterLayout.permuted(kernel.values, shape: kernel.shape, to: [2, 3, 0, 1])
        return try floats(kernel.name, shape: [shape[0] * shape[1], 1, shape[2], shape[3]], values)
    }

    /// The adaptive-average matrix `[output, input]` (or its transpose `[input, output]`):
    /// row i holds 1/|bin| on the bin ⌊i·in/out⌋ ..< ⌈(i+1)·in/out⌉.
    static func adaptiveMatrix(input: Int, output: Int, transposed: Bool) -> [Float] {
        var matrix = [Float](repeating: 0, count: input * output)
        for i in 0..<output {
            let bin = (i * input / output)..<(((i + 1) * input + output - 1) / output)
            for p in bin { matrix[transposed ? p * output + i : i * input + p] = 1 / Float(bin.count) }
        }
        return matrix
    }

    /// Layer normalization over the last `count` engine axes of `x`: ONNX `LayerNormalization`
    /// from opset 17, before it `(x − μ)/√(σ² + ε)·γ + β` with `ReduceMean`. A map normalized
    /// over all of `[h, w, c]` stays NCHW (γ, β transposed to `[c, h, w]`); over fewer of its
    /// axes it is normalized in NHWC between two transposes.
    mutating func layerNormalization(_ x: ONNXValue, axes count: Int, epsilon: Float, gamma: Variable?, beta: Variable?,
                                     name: String) throws -> String {
        let groupShape = Array(x.shape.suffix(count))
        let allOfMap = x.isMap && count == 3
        let viaNHWC = x.isMap && !allOfMap
        let source = viaNHWC ? transpose(x.name, ONNXLayout.toNHWC, output: name + "/nhwc") : x.name
        let storedShape = allOfMap ? [groupShape[2], groupShape[0], groupShape[1]] : groupShape
        func parameter(_ v: Variable?, _ fill: Float, _ suffix: String) throws -> String {
            guard let v else { return try floats(name + "/" + suffix, shape: storedShape, [Float](repeating: fill, count: groupShape.reduce(1, *))) }
            return allOfMap ? try permutedInitializer(v, [2, 0, 1], name: v.name) : try floats(v.name, shape: storedShape, v.values)
        }
        let rank = x.shape.count + 1
        let y: String
        if opset >= 17 {
            var inputs = [source, try parameter(gamma, 1, "gamma")]
            if beta != nil { inputs.append(try parameter(beta, 0, "beta")) }
            y = add("LayerNormalization", inputs, output: viaNHWC ? name + "/normalized" : name,
                    [.int("axis", rank - count), .float("epsilon", epsilon)])
        } else {
            let axes = Array((rank - count)..<rank)
            let mean = try reduceMean(source, axes: axes, output: name + "/mean")
            let centered = add("Sub", [source, mean], output: name + "/centered")
            let variance = try reduceMean(add("Mul", [centered, centered], output: name + "/squared"), axes: axes, output: name + "/variance")
            let std = add("Sqrt", [add("Add", [variance, try scalar(name + "/epsilon", epsilon)], output: name + "/variance_eps")], output: name + "/std")
            var normalized = add("Div", [centered, std], output: name + "/standardized")
            if gamma != nil { normalized = add("Mul", [normalized, try parameter(gamma, 1, "gamma")], output: name + "/scaled") }
            if beta != nil { normalized = add("Add", [normalized, try parameter(beta, 0, "beta")], output: name + "/shifted") }
            y = normalized
        }
        return viaNHWC ? transpose(y, ONNXLayout.toNCHW, output: name + "/nchw") : y
    }
}
