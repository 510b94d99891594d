import ZooFormat
import ZooNet

/// The ONNX operators with weights or windows: convolutions, dense layers, batch normalization,
/// PReLU, pooling, padding and resizing.
extension ONNXGraphConversion {
    /// `Conv` (2-D): `conv2d`, `depthwise_conv2d` (group = C_in) or a grouped `conv2d`.
    /// Output `[N, O, ⌊(H + pads − (kh − 1)·dh − 1) / sh⌋ + 1, …]`.
    func convolution(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let w = try requiredConstant(inputs, 1, "weight")
        let b = try constant(inputs, 2, "bias")
        guard x.rank == 4, w.shape.count == 4 else { throw ONNXImportUnsupported("a \(max(x.rank - 2, 0))-D convolution; the engine's are 2-D") }
        let group = Int(node.attribute("group")?.int ?? 1)
        let (o, i, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let channels = x.shape[1]
        guard group >= 1, group <= channels, i * group == channels, o % group == 0 else {
            throw ONNXImportUnsupported("weight \(w.shape) with group \(group) does not fit \(channels) input channels")
        }
        if let b, b.count != o { throw ONNXImportUnsupported("bias of \(b.count) values for \(o) filters") }
        if let kernel = node.attribute("kernel_shape")?.ints, kernel.map({ Int($0) }) != [kh, kw] {
            throw ONNXImportUnsupported("kernel_shape \(kernel) differs from the weight's \([kh, kw])")
        }
        let (strides, dilations) = try windowSteps(node)
        let padding = try windowPadding(node, input: [x.shape[2], x.shape[3]], kernel: [kh, kw], strides: strides, dilations: dilations)
        var settings = LayerConfig.ConvolutionSettings()
        settings.filters = o
        settings.kernelSize = [kh, kw]
        settings.strides = strides
        settings.dilation = dilations
        settings.padding = padding.config
        settings.useBias = b != nil
        let name: String
        if group > 1, group == channels {
            settings.depthMultiplier = o / channels
            name = emit(.depthwiseConv2d(settings), inputs: [reorder(x, to: [0, 2, 3, 1], for: engineName(node)).node], name: engineName(node, weight: w))
            addWeight(name, "depthwise_kernel", from: w, shape: [kh, kw, channels, o / channels]) {
                TorchParameterLayout.permuted($0, shape: [o, 1, kh, kw], to: [2, 3, 0, 1]).0
            }
        } else {
            settings.groups = group
            name = emit(.conv2d(settings), inputs: [reorder(x, to: [0, 2, 3, 1], for: engineName(node)).node], name: engineName(node, weight: w))
            addWeight(name, "kernel", from: w, shape: [kh, kw, i, o]) {
                TorchParameterLayout.permuted($0, shape: [o, i, kh, kw], to: [2, 3, 1, 0]).0
            }
        }
        if let b { addWeight(name, "bias", from: b, shape: [o]) { $0 } }
        return ONNXRuntimeValue(node: name, shape: [x.shape[0], o, padding.output[0], padding.output[1]], order: [0, 2, 3, 1])
    }

    /// `strides` and `dilations` (default 1).
    func windowSteps(_ node: ONNXNode) throws -> (strides: [Int], dilations: [Int]) {
        let strides = node.attribute("strides")?.ints?.map { Int($0) } ?? [1, 1]
        let dilations = node.attribute("dilations")?.ints?.map { Int($0) } ?? [1, 1]
        guard strides.count == 2, dilations.count == 2, (strides + dilations).allSatisfy({ (1...ONNXShapeFolding.largestStep).contains($0) }) else {
            throw ONNXImportUnsupported("strides \(strides), dilations \(dilations): expected two values in 1…\(ONNXShapeFolding.largestStep) each")
        }
        return (strides, dilations)
    }

    /// `pads` `[top, left, bottom, right]` (default zeros) as (before, after) per spatial axis.
    func declaredPads(_ node: ONNXNode) throws -> (before: [Int], after: [Int]) {
        let pads = node.attribute("pads")?.ints?.map { Int($0) } ?? [0, 0, 0, 0]
        guard pads.count == 4, pads.allSatisfy({ (0...ONNXShapeFolding.largestStep).contains($0) }) else {
            throw ONNXImportUnsupported("pads \(pads): expected four values in 0…\(ONNXShapeFolding.largestStep)")
        }
        return ([pads[0], pads[1]], [pads[2], pads[3]])
    }

    /// The engine padding of `pads` / `auto_pad` over an `input` (H, W) map, and the output (H, W).
    func windowPadding(_ node: ONNXNode, input: [Int], kernel: [Int], strides: [Int], dilations: [Int], ceilMode: Bool = false) throws
        -> (config: Padding, output: [Int]) {
        let autoPad = node.attribute("auto_pad")?.string ?? "NOTSET"
        var before = [0, 0], after = [0, 0]
        switch autoPad {
        case "NOTSET":
            (before, after) = try declaredPads(node)
        case "VALID":
            break
        case "SAME_UPPER", "SAME_LOWER":
            for axis in 0..<2 {
                let output = (input[axis] + strides[axis] - 1) / strides[axis]
                let total = max((output - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - input[axis], 0)
                let small = total / 2
                (before[axis], after[axis]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            }
        default:
            throw ONNXImportUnsupported("auto_pad '\(autoPad)'")
        }
        var output = [0, 0]
        for axis in 0..<2 {
            let extent = (kernel[axis] - 1) * dilations[axis] + 1
            let span = input[axis] + before[axis] + after[axis] - extent
            guard span >= 0 else { throw ONNXImportUnsupported("a \(kernel) window does not fit the padded \(input) map") }
            var size = (ceilMode ? (span + strides[axis] - 1) / strides[axis] : span / strides[axis]) + 1
            // Ceil mode: the last window must start inside the input or the left padding.
            if ceilMode, (size - 1) * strides[axis] >= input[axis] + before[axis] { size -= 1 }
            output[axis] = size
        }
        let config: Padding = before == [0, 0] && after == [0, 0]
            ? .valid : .explicit(top: before[0], bottom: after[0], left: before[1], right: after[1])
        return (config, output)
    }

    /// `Gemm`: Y = α·A·B′ + β·C with A computed `[N, K]` (transA = 0), B′ = Bᵀ when transB = 1,
    /// B and C constants: a `dense` layer, kernel α·B′ `[K, units]`, bias β·C.
    func gemm(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let a = try runtime(inputs, 0, node)
        let b = try requiredConstant(inputs, 1, "B")
        let c = try constant(inputs, 2, "C")
        guard (node.attribute("transA")?.int ?? 0) == 0 else { throw ONNXImportUnsupported("transA = 1 transposes the batch axis") }
        guard a.rank == 2, b.shape.count == 2 else { throw ONNXImportUnsupported("A of rank \(a.rank), B of rank \(b.shape.count); expected 2 and 2") }
        let transB = (node.attribute("transB")?.int ?? 0) != 0
        let alpha = node.attribute("alpha")?.float ?? 1, beta = node.attribute("beta")?.float ?? 1
        let (k, units) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == a.shape[1] else { throw ONNXImportUnsupported("B \(b.shape) does not fit A's \(a.shape[1]) features") }
        if let c, c.count != 1, c.count != units || c.shape.dropLast().contains(where: { $0 != 1 }) {
            throw ONNXImportUnsupported("C of shape \(c.shape) is not one bias per output")
        }
        let name = emit(.dense(units: units, activation: .linear, useBias: c != nil), inputs: [a.node], name: engineName(node, weight: b))
        let shape = b.shape
        addWeight(name, "kernel", from: b, shape: [k, units]) { values in
            let kernel = transB ? TorchParameterLayout.permuted(values, shape: shape, to: [1, 0]).0 : values
            return alpha == 1 ? kernel : kernel.map { $0 * alpha }
        }
        if let c {
            addWeight(name, "bias", from: c, shape: [units]) { values in
                (values.count == 1 ? [Float](repeating: values[0], count: units) : values).map { $0 * beta }
            }
        }
        return ONNXRuntimeValue(node: name, shape: [a.shape[0], units], order: [0, 1])
    }

    /// `MatMul` of a computed A `[..., K]` by a constant B `[K, N]`: a `dense` layer without bias
    /// over the last axis (a following `Add` of a constant becomes a `rescaling`).
    func matMul(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        guard case .constant(let b)? = inputs[safe: 1] ?? nil else { throw ONNXImportUnsupported("the product of two computed tensors (B must be a constant)") }
        let x = try runtime(inputs, 0, node)
        let a = reorder(x, to: Array(0..<x.rank), for: engineName(node))
        guard a.rank >= 2, b.shape.count == 2, b.shape[0] == a.shape.last else {
            throw ONNXImportUnsupported("A \(a.shape.dropFirst()) times B \(b.shape): expected B [K, N] with K A's last axis")
        }
        let name = emit(.dense(units: b.shape[1], activation: .linear, useBias: false), inputs: [a.node], name: engineName(node, weight: b))
        addWeight(name, "kernel", from: b, shape: b.shape) { $0 }
        return ONNXRuntimeValue(node: name, shape: a.shape.dropLast() + [b.shape[1]], order: Array(0..<a.rank))
    }

    /// `BatchNormalization` (inference): `batch_normalization` over the channel axis (ONNX axis 1).
    func batchNormalization(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        guard (node.attribute("training_mode")?.int ?? 0) == 0 else { throw ONNXImportUnsupported("training_mode = 1 (batch statistics)") }
        guard x.rank >= 2 else { throw ONNXImportUnsupported("an input of rank \(x.rank)") }
        let parts = try ["scale", "B", "mean", "var"].enumerated().map { try requiredConstant(inputs, $0.offset + 1, $0.element) }
        let channels = x.shape[1]
        guard parts.allSatisfy({ $0.count == channels }) else { throw ONNXImportUnsupported("parameters of sizes \(parts.map(\.count)) for \(channels) channels") }
        let epsilon = node.attribute("epsilon")?.float ?? 1e-5
        let momentum = node.attribute("momentum")?.float ?? 0.9
        let input = channelsLast(x, for: engineName(node))
        let name = emit(.batchNormalization(momentum: momentum, epsilon: epsilon, center: true, scale: true), inputs: [input.node],
                        name: engineName(node, weight: parts[0]))
        for (variable, part) in zip(["gamma", "beta", "moving_mean", "moving_variance"], parts) {
            addWeight(name, variable, from: part, shape: [channels]) { $0 }
        }
        var output = input
        output.node = name
        return output
    }

    /// `PRelu`: `prelu` with the slope's size-1 axes shared; α laid out in the engine's order.
    func prelu(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let slope = try requiredConstant(inputs, 1, "slope")
        guard slope.shape.count <= x.rank else { throw ONNXImportUnsupported("a slope of rank \(slope.shape.count) for an input of rank \(x.rank)") }
        let full = [Int](repeating: 1, count: x.rank - slope.shape.count) + slope.shape
        guard full[0] == 1, zip(full, x.shape).dropFirst().allSatisfy({ $0 == 1 || $0 == $1 }) else {
            throw ONNXImportUnsupported("a slope of shape \(slope.shape) does not broadcast to \(x.shape.dropFirst())")
        }
        let engineSlope = x.order.dropFirst().map { full[$0] }
        let shared = x.order.dropFirst().enumerated().filter { full[$0.element] == 1 }.map { $0.offset + 1 }
        let name = emit(.prelu(sharedAxes: shared), inputs: [x.node], name: engineName(node, weight: slope))
        let perSample = Array(full.dropFirst()), permutation = x.order.dropFirst().map { $0 - 1 }
        addWeight(name, "alpha", from: slope, shape: engineSlope) { TorchParameterLayout.permuted($0, shape: perSample, to: permutation).0 }
        var output = x
        output.node = name
        return output
    }

    /// `MaxPool`, `AveragePool` (2-D, dilations 1): `max_pooling2d`, `average_pooling2d` with
    /// the pads, `ceil_mode` and `count_include_pad`.
    func pooling(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        guard x.rank == 4 else { throw ONNXImportUnsupported("\(max(x.rank - 2, 0))-D pooling; the engine's is 2-D") }
        guard let kernel = node.attribute("kernel_shape")?.ints?.map({ Int(clamping: $0) }), kernel.count == 2,
              kernel.allSatisfy({ (1...ONNXShapeFolding.largestStep).contains($0) }) else {
            throw ONNXImportUnsupported("kernel_shape missing or not two values in 1…\(ONNXShapeFolding.largestStep)")
        }
        let (strides, dilations) = try windowSteps(node)
        guard dilations == [1, 1] else { throw ONNXImportUnsupported("dilations \(dilations)") }
        if (node.attribute("storage_order")?.int ?? 0) != 0, node.outputs.count > 1 { throw ONNXImportUnsupported("storage_order = 1") }
        let ceilMode = (node.attribute("ceil_mode")?.int ?? 0) != 0
        let padding = try windowPadding(node, input: [x.shape[2], x.shape[3]], kernel: kernel, strides: strides, dilations: dilations, ceilMode: ceilMode)
        var settings = LayerConfig.PoolingSettings()
        settings.poolSize = kernel
        settings.strides = strides
        settings.padding = padding.config
        settings.ceilMode = ceilMode
        settings.countIncludePad = (node.attribute("count_include_pad")?.int ?? 0) != 0
        let input = reorder(x, to: [0, 2, 3, 1], for: engineName(node))
        let layer: LayerConfig = node.opType == "MaxPool" ? .maxPooling2d(settings) : .averagePooling2d(settings)
        let name = emit(layer, inputs: [input.node], name: engineName(node))
        return ONNXRuntimeValue(node: name, shape: [x.shape[0], x.shape[1], padding.output[0], padding.output[1]], order: [0, 2, 3, 1])
    }

    /// `GlobalAveragePool`, `GlobalMaxPool`, and `ReduceMean` / `ReduceMax` over the axes 2 and 3
    /// of a 4-D map: the global poolings (`keepdims` kept).
    func globalPooling(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        guard x.rank == 4 else { throw ONNXImportUnsupported("an input of rank \(x.rank); Zoo pools 4-D maps") }
        var keepDims = true
        if node.opType.hasPrefix("Reduce") {
            let axes = try intsSetting(node, inputs, attribute: "axes", input: 1, since: node.opType == "ReduceMean" || node.opType == "ReduceMax" ? 18 : 13)
            let normalized = Set((axes ?? []).compactMap { $0.normalizedAxis(rank: 4) })
            guard normalized == [2, 3] else {
                throw ONNXImportUnsupported("a reduction over axes \(axes.map { "\($0)" } ?? "all"); Zoo reduces the spatial axes 2 and 3")
            }
            keepDims = (node.attribute("keepdims")?.int ?? 1) != 0
        }
        let input = reorder(x, to: [0, 2, 3, 1], for: engineName(node))
        let average = node.opType.contains("Average") || node.opType == "ReduceMean"
        let name = emit(average ? .globalAveragePooling2d(keepDims: keepDims) : .globalMaxPooling2d(keepDims: keepDims),
                        inputs: [input.node], name: engineName(node))
        return keepDims
            ? ONNXRuntimeValue(node: name, shape: [x.shape[0], x.shape[1], 1, 1], order: [0, 2, 3, 1])
            : ONNXRuntimeValue(node: name, shape: [x.shape[0], x.shape[1]], order: [0, 1])
    }

    /// `Pad` (mode `constant`, value 0) on the spatial axes of a 4-D map: `zero_padding2d`.
    func pad(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let mode = node.attribute("mode")?.string ?? "constant"
        guard mode == "constant" else { throw ONNXImportUnsupported("mode '\(mode)'; Zoo pads with zeros") }
        let value = opset < 11 ? Double(node.attribute("value")?.float ?? 0) : try constant(inputs, 2, "constant_value")?.scalar() ?? 0
        guard value == 0 else { throw ONNXImportUnsupported("constant_value \(value); Zoo pads with zeros") }
        guard var pads = try intsSetting(node, inputs, attribute: "pads", input: 1, since: 11) else { throw ONNXImportUnsupported("no pads") }
        if let axes = try constant(inputs, 3, "axes")?.ints() {
            var full = [Int](repeating: 0, count: 2 * x.rank)
            for (k, axis) in axes.enumerated() {
                guard let a = axis.normalizedAxis(rank: x.rank), k + axes.count < pads.count else { throw ONNXImportUnsupported("axes \(axes)") }
                (full[a], full[a + x.rank]) = (pads[k], pads[k + axes.count])
            }
            pads = full
        }
        guard x.rank == 4, pads.count == 8, pads.allSatisfy({ abs($0) <= ONNXShapeFolding.largestStep }), pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw ONNXImportUnsupported("pads \(pads); Zoo pads the spatial axes of 4-D maps")
        }
        let input = reorder(x, to: [0, 2, 3, 1], for: engineName(node))
        let sides = LayerConfig.Sides(top: pads[2], bottom: pads[6], left: pads[3], right: pads[7])
        let name = emit(.zeroPadding2d(sides), inputs: [input.node], name: engineName(node))
        let (h, w) = (x.shape[2] + pads[2] + pads[6], x.shape[3] + pads[3] + pads[7])
        guard h > 0, w > 0 else { throw ONNXImportUnsupported("pads \(pads) crop the map away") }
        return ONNXRuntimeValue(node: name, shape: [x.shape[0], x.shape[1], h, w], order: [0, 2, 3, 1])
    }

    /// `Resize` / `Upsample` of a 4-D map by integer factors on H and W: `up_sampling2d`,
    /// nearest (asymmetric coordinates with `floor`, or half-pixel ones with rounding: the same
    /// cells for integer factors) or bilinear (half-pixel coordinates, PyTorch's `align_corners=False`).
    func resize(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        guard x.rank == 4 else { throw ONNXImportUnsupported("an input of rank \(x.rank); Zoo resizes 4-D maps") }
        var factors: [Double]
        if node.opType == "Upsample" && opset < 9 {
            guard let scales = node.attribute("scales")?.floats else { throw ONNXImportUnsupported("no scales") }
            factors = scales.map(Double.init)
        } else {
            let scalesInput = node.opType == "Upsample" || opset < 11 ? 1 : 2
            if let scales = try constant(inputs, scalesInput, "scales"), scales.count > 0 {
                factors = try scales.values()
            } else if let sizes = try constant(inputs, 3, "sizes")?.ints(), sizes.count == 4 {
                factors = zip(sizes, x.shape).enumerated().map { $0.offset == 0 ? 1 : Double($0.element.0) / Double($0.element.1) }
            } else {
                throw ONNXImportUnsupported("neither scales nor sizes")
            }
        }
        guard factors.count == 4, factors[0] == 1, factors[1] == 1,
              factors.allSatisfy({ $0 >= 1 && $0 <= Double(ONNXShapeFolding.largestStep) }),
              let sh = Int(exactly: factors[2]), let sw = Int(exactly: factors[3]) else {
            throw ONNXImportUnsupported("scales \(factors); Zoo resizes H and W by integer factors")
        }
        let mode = node.attribute("mode")?.string ?? "nearest"
        let transform = node.attribute("coordinate_transformation_mode")?.string
            ?? (node.opType == "Upsample" || opset < 11 ? "asymmetric" : "half_pixel")
        let nearestMode = node.attribute("nearest_mode")?.string ?? (node.opType == "Upsample" || opset < 11 ? "floor" : "round_prefer_floor")
        let interpolation: UpSampling2D.Interpolation
        switch mode {
        case "nearest":
            let halfPixel = ["half_pixel", "pytorch_half_pixel"].contains(transform) && nearestMode.hasPrefix("round")
            let asymmetric = transform == "asymmetric" && (nearestMode == "floor" || (nearestMode == "round_prefer_floor" && sh <= 2 && sw <= 2))
            guard halfPixel || asymmetric || (sh == 1 && sw == 1) else {
                throw ONNXImportUnsupported("nearest with coordinate_transformation_mode '\(transform)' and nearest_mode '\(nearestMode)'")
            }
            interpolation = .nearest
        case "linear", "bilinear":
            guard ["half_pixel", "pytorch_half_pixel"].contains(transform) else {
                throw ONNXImportUnsupported("linear with coordinate_transformation_mode '\(transform)'; Zoo's bilinear uses half-pixel centres")
            }
            if (node.attribute("antialias")?.int ?? 0) != 0, sh < 1 || sw < 1 { throw ONNXImportUnsupported("antialias") }
            interpolation = .bilinear
        default:
            throw ONNXImportUnsupported("mode '\(mode)'")
        }
        let input = reorder(x, to: [0, 2, 3, 1], for: engineName(node))
        let name = emit(.upSampling2d(size: [sh, sw], interpolation: interpolation), inputs: [input.node], name: engineName(node))
        return ONNXRuntimeValue(node: name, shape: [x.shape[0], x.shape[1], x.shape[2] * sh, x.shape[3] * sw], order: [0, 2, 3, 1])
    }
}
