import ZooFormat
import ZooNet

/// `ConvTranspose`, `LayerNormalization` and `Slice` of a computed map: what Zoo's own exporter
/// writes for `Conv2DTranspose`, `LayerNormalization` and `Cropping2D` layers (and
/// torch.onnx.export for the same modules and for `x[:, :, a:b, c:d]`).
extension ONNXGraphConversion {
    /// `ConvTranspose(x, W[c_in, f, kh, kw], b?)` (one group) → the engine's transposed convolution,
    /// explicit padding: output `(in − 1)·s + (k − 1)·d + 1 − pad_begin − pad_end + output_padding`
    /// per axis, as both ONNX and the engine define it; `auto_pad` SAME_* splits the padding that
    /// makes the output `in·s` (the odd one at the end for SAME_UPPER).
    func convolutionTranspose(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let w = try requiredConstant(inputs, 1, "weight")
        let b = try constant(inputs, 2, "bias")
        guard x.rank == 4, w.shape.count == 4 else { throw ONNXImportUnsupported("a \(max(x.rank - 2, 0))-D transposed convolution; the engine's are 2-D") }
        guard (node.attribute("group")?.int ?? 1) == 1 else { throw ONNXImportUnsupported("group \(node.attribute("group")?.int ?? 1); the engine's transposed convolution has one") }
        guard node.attribute("output_shape") == nil else { throw ONNXImportUnsupported("an output_shape attribute (give pads instead)") }
        let (i, f, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        guard i == x.shape[1] else { throw ONNXImportUnsupported("weight \(w.shape) for \(x.shape[1]) input channels") }
        if let b, b.count != f { throw ONNXImportUnsupported("bias of \(b.count) values for \(f) filters") }
        let (strides, dilations) = try windowSteps(node)
        let extra = node.attribute("output_padding")?.ints?.map { Int($0) } ?? [0, 0]
        guard extra.count == 2, zip(extra, zip(strides, dilations)).allSatisfy({ $0 >= 0 && ($0 < $1.0 || $0 < $1.1) }) else {
            throw ONNXImportUnsupported("output_padding \(extra): expected two values below the stride or dilation")
        }
        let input = [x.shape[2], x.shape[3]]
        let extent = [(kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1]
        var before = [0, 0], after = [0, 0]
        switch node.attribute("auto_pad")?.string ?? "NOTSET" {
        case "NOTSET":
            (before, after) = try declaredPads(node)
        case "VALID":
            break
        case let mode where mode == "SAME_UPPER" || mode == "SAME_LOWER":
            for axis in 0..<2 {
                let full: Int = (input[axis] - 1) * strides[axis] + extra[axis] + extent[axis]
                let total: Int = max(full - input[axis] * strides[axis], 0)
                (before[axis], after[axis]) = mode == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
        case let mode:
            throw ONNXImportUnsupported("auto_pad '\(mode)'")
        }
        let output: [Int] = (0..<2).map { axis -> Int in
            let full: Int = (input[axis] - 1) * strides[axis] + extent[axis] + extra[axis]
            return full - before[axis] - after[axis]
        }
        guard output.allSatisfy({ $0 > 0 }) else { throw ONNXImportUnsupported("an empty output \(output)") }
        var settings = LayerConfig.ConvolutionSettings()
        settings.filters = f
        settings.kernelSize = [kh, kw]
        settings.strides = strides
        settings.dilation = dilations
        settings.padding = .explicit(top: before[0], bottom: after[0], left: before[1], right: after[1])
        settings.outputPadding = extra == [0, 0] ? nil : extra
        settings.useBias = b != nil
        let name = emit(.conv2dTranspose(settings), inputs: [reorder(x, to: [0, 2, 3, 1], for: engineName(node)).node], name: engineName(node, weight: w))
        addWeight(name, "kernel", from: w, shape: [kh, kw, f, i]) {  // [c_in, f, kh, kw] → [kh, kw, f, c_in]
            TorchParameterLayout.permuted($0, shape: [i, f, kh, kw], to: [2, 3, 1, 0]).0
        }
        if let b { addWeight(name, "bias", from: b, shape: [f]) { $0 } }
        return ONNXRuntimeValue(node: name, shape: [x.shape[0], f, output[0], output[1]], order: [0, 2, 3, 1])
    }

    /// `LayerNormalization(x, scale, bias?, axis, epsilon)` (opset 17): normalization over the
    /// ONNX axes `axis…rank−1`, moved (if the engine holds them elsewhere) to the end in ONNX order,
    /// where the engine normalizes its trailing axes; γ and β keep the ONNX shape `x.shape[axis...]`.
    func layerNormalization(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let given = Int(node.attribute("axis")?.int ?? -1)
        guard let axis = given.normalizedAxis(rank: x.rank), axis > 0 else { throw ONNXImportUnsupported("axis \(given) (the batch)") }
        let normalized = Array(axis..<x.rank)
        let groupShape = normalized.map { x.shape[$0] }
        let count = groupShape.reduce(1, *)
        let gamma = try requiredConstant(inputs, 1, "scale")
        let beta = try constant(inputs, 2, "bias")
        for (what, c) in [("scale", gamma), ("bias", beta)] {
            if let c, c.count != count { throw ONNXImportUnsupported("a \(what) of \(c.count) values for the normalized shape \(groupShape)") }
        }
        let epsilon = node.attribute("epsilon")?.float ?? 1e-5
        let order = x.order.filter { !normalized.contains($0) } + normalized
        let source = reorder(x, to: order, for: engineName(node))
        let name = emit(.layerNormalization(axes: Array(-normalized.count ... -1), epsilon: epsilon, center: beta != nil, scale: true),
                        inputs: [source.node], name: engineName(node, weight: gamma))
        addWeight(name, "gamma", from: gamma, shape: groupShape) { $0 }
        if let beta { addWeight(name, "beta", from: beta, shape: groupShape) { $0 } }
        var result = source
        result.node = name
        return result
    }

    /// `Slice(x, starts, ends, axes?, steps?)` of a computed map along its H and W axes only, step 1,
    /// with constant bounds (inputs from opset 10, attributes before): a `cropping2d` of
    /// `start` rows or columns before and `size − end` after (ONNX's clamping of negative and
    /// out-of-range bounds applied).
    func crop(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let starts: [Int], ends: [Int], axes: [Int], steps: [Int]
        if opset < 10 {
            starts = node.attribute("starts")?.ints?.map { Int(clamping: $0) } ?? []
            ends = node.attribute("ends")?.ints?.map { Int(clamping: $0) } ?? []
            axes = node.attribute("axes")?.ints?.map { Int(clamping: $0) } ?? Array(0..<starts.count)
            steps = [Int](repeating: 1, count: starts.count)
        } else {
            starts = try requiredConstant(inputs, 1, "starts").ints()
            ends = try requiredConstant(inputs, 2, "ends").ints()
            axes = try constant(inputs, 3, "axes")?.ints() ?? Array(0..<starts.count)
            steps = try constant(inputs, 4, "steps")?.ints() ?? [Int](repeating: 1, count: starts.count)
        }
        guard x.rank == 4, starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw ONNXImportUnsupported("a slice of a rank-\(x.rank) tensor with \(starts.count) starts, \(ends.count) ends, \(axes.count) axes")
        }
        var before = [0, 0], after = [0, 0]
        for (k, given) in axes.enumerated() {
            guard let axis = given.normalizedAxis(rank: 4), axis >= 2, steps[k] == 1 else {
                throw ONNXImportUnsupported("axis \(given) step \(steps[k]): Zoo crops a computed map along H and W with step 1")
            }
            let size = x.shape[axis]
            func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + size : v, 0), size) }
            let (start, end) = (clamp(starts[k]), clamp(ends[k]))
            guard start < end else { throw ONNXImportUnsupported("an empty slice \(starts[k])..<\(ends[k]) of \(size)") }
            (before[axis - 2], after[axis - 2]) = (start, size - end)
        }
        let source = reorder(x, to: [0, 2, 3, 1], for: engineName(node))
        var result = source
        result.node = emit(.cropping2d(.init(top: before[0], bottom: after[0], left: before[1], right: after[1])), inputs: [source.node], name: engineName(node))
        result.shape[2] -= before[0] + after[0]
        result.shape[3] -= before[1] + after[1]
        return result
    }
}
