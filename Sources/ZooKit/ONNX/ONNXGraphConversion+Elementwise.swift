import ZooFormat
import ZooNet

/// The element-wise ONNX operators: activations, softmax, arithmetic with constants or between
/// computed tensors (with the `x·σ(x)` → swish, `x·hard_sigmoid(x)` → hard swish and
/// `x·tanh(softplus(x))` → mish fusions), `Concat`.
extension ONNXGraphConversion {
    /// The unary activations: an `activation` node, same shape and layout.
    func activation(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        var x = try runtime(inputs, 0, node)
        let activation = try activationKind(node, inputs)
        x.node = emit(.activation(activation), inputs: [x.node], name: engineName(node))
        return x
    }

    /// The engine activation of a unary ONNX activation node.
    func activationKind(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> Activation {
        func near(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 1e-6 }
        let alpha = node.attribute("alpha")?.float
        switch node.opType {
        case "Relu": return .relu
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "Softplus": return .softplus
        case "Softsign": return .softsign
        case "HardSwish": return .hardSwish
        case "Mish": return .mish
        case "Exp": return .exponential
        case "LeakyRelu": return .leakyReLU(alpha: alpha ?? 0.01)
        case "Elu": return .elu(alpha: alpha ?? 1)
        case "Selu":
            let gamma = node.attribute("gamma")?.float ?? 1.05070102
            guard near(alpha ?? 1.67326319, 1.67326319), near(gamma, 1.05070102) else {
                throw ONNXImportUnsupported("alpha \(alpha ?? 1.67326319), gamma \(gamma): the engine's SELU has the standard constants")
            }
            return .selu
        case "HardSigmoid":
            let (a, b) = (alpha ?? 0.2, node.attribute("beta")?.float ?? 0.5)
            if near(a, 1 / 6), near(b, 0.5) { return .hardSigmoid }
            if near(a, 0.2), near(b, 0.5) { return .hardSigmoidKeras2 }
            throw ONNXImportUnsupported("alpha \(a), beta \(b): Zoo has clip(x/6 + 1/2, 0, 1) and clip(0.2x + 1/2, 0, 1)")
        case "Gelu":
            let approximate = node.attribute("approximate")?.string ?? "none"
            guard approximate == "none" || approximate == "tanh" else { throw ONNXImportUnsupported("approximate '\(approximate)'") }
            return .gelu(approximate: approximate == "tanh")
        case "Clip":
            let (low, high): (Double?, Double?) = opset < 11
                ? (node.attribute("min")?.float.map(Double.init), node.attribute("max")?.float.map(Double.init))
                : (try constant(inputs, 1, "min")?.scalar(), try constant(inputs, 2, "max")?.scalar())
            if low == 0, high == 6 { return .relu6 }
            if low == 0, high == nil || high! >= 3.4e38 { return .relu }
            throw ONNXImportUnsupported("clip to [\(low.map { "\($0)" } ?? "-inf"), \(high.map { "\($0)" } ?? "inf")]; Zoo has [0, 6] (relu6) and [0, inf) (relu)")
        default:
            throw ONNXImportUnsupported("no engine layer computes it")
        }
    }

    /// `Softmax` / `LogSoftmax` along `axis` (default −1 from opset 13, 1 before, where the
    /// axes after it are flattened into it: the same when they are of size 1): the engine's
    /// softmax over its last axis, the axis moved there first when it is not.
    func softmax(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let given = Int(node.attribute("axis")?.int ?? (opset < 13 ? 1 : -1))
        guard var axis = given.normalizedAxis(rank: x.rank), axis > 0 else { throw ONNXImportUnsupported("axis \(given) of a rank-\(x.rank) input") }
        if opset < 13, axis < x.rank - 1 {
            guard x.shape[(axis + 1)...].allSatisfy({ $0 == 1 }) else {
                throw ONNXImportUnsupported("axis \(axis) before opset 13 (a softmax over the flattened axes \(axis)…)")
            }
        }
        if opset < 13 { axis = x.shape.indices.last { x.shape[$0] != 1 && $0 >= axis } ?? axis }
        var input = x
        if x.order.last != axis { input = reorder(x, to: x.order.filter { $0 != axis } + [axis], for: engineName(node)) }
        input.node = emit(.activation(node.opType == "Softmax" ? .softmax : .logSoftmax), inputs: [input.node], name: engineName(node))
        return input
    }

    /// `Add`, `Sub`, `Mul`, `Div` with a constant: a `rescaling` (x·scale + offset, the constant a
    /// scalar or one value per channel of the engine's last axis); between computed tensors
    /// (and `Sum`, `Mean`, `Max`, `Min`): the merge layers, with NumPy broadcasting of size-1 axes.
    func elementwise(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let present = inputs.compactMap { $0 }
        let computed = present.compactMap { value -> ONNXRuntimeValue? in if case .runtime(let v) = value { v } else { nil } }
        if computed.count == present.count { return try merge(node, computed) }
        guard present.count == 2, computed.count == 1 else { throw ONNXImportUnsupported("\(present.count - computed.count) constant inputs with \(computed.count) computed ones") }
        let x = computed[0]
        let constantFirst: Bool
        let c: ONNXConstant
        if case .constant(let first) = present[0] { (c, constantFirst) = (first, true) } else if case .constant(let second) = present[1] {
            (c, constantFirst) = (second, false)
        } else { throw ONNXImportUnsupported("unexpected inputs") }
        guard c.shape.count <= x.rank else { throw ONNXImportUnsupported("a constant of rank \(c.shape.count) broadcast to rank \(x.rank)") }
        let full = [Int](repeating: 1, count: x.rank - c.shape.count) + c.shape
        let varying = full.indices.filter { full[$0] != 1 }
        guard varying.allSatisfy({ $0 > 0 && full[$0] == x.shape[$0] }), varying.count <= 1 else {
            throw ONNXImportUnsupported("a constant of shape \(c.shape) with a [\(x.shape.dropFirst().map(String.init).joined(separator: ", "))] tensor; Zoo takes a scalar or one value per channel")
        }
        var input = x
        if let axis = varying.first, x.order.last != axis { input = reorder(x, to: x.order.filter { $0 != axis } + [axis], for: engineName(node)) }
        let values = try c.values().map(Float.init)
        let scale: [Float], offset: [Float]
        switch (node.opType, constantFirst) {
        case ("Add", _): (scale, offset) = ([1], values)
        case ("Sub", false): (scale, offset) = ([1], values.map { -$0 })
        case ("Sub", true): (scale, offset) = ([-1], values)
        case ("Mul", _): (scale, offset) = (values, [0])
        case ("Div", false):
            guard !values.contains(0) else { throw ONNXImportUnsupported("a division by zero") }
            (scale, offset) = (values.map { 1 / $0 }, [0])
        default: throw ONNXImportUnsupported("\(node.opType) of a constant by a computed tensor")
        }
        input.node = emit(.rescaling(scale: scale, offset: offset), inputs: [input.node], name: engineName(node))
        return input
    }

    /// The merge layers between computed tensors of one rank, in the first one's layout.
    func merge(_ node: ONNXNode, _ operands: [ONNXRuntimeValue]) throws -> ONNXRuntimeValue {
        guard let first = operands.first else { throw ONNXImportUnsupported("no input") }
        if operands.count == 1 { return first }
        guard operands.allSatisfy({ $0.rank == first.rank }) else {
            throw ONNXImportUnsupported("inputs of ranks \(operands.map(\.rank)); Zoo broadcasts tensors of one rank")
        }
        var shape = first.shape
        for operand in operands.dropFirst() {
            for axis in 1..<shape.count {
                let (a, b) = (shape[axis], operand.shape[axis])
                guard a == b || a == 1 || b == 1 else { throw ONNXImportUnsupported("shapes \(operands.map { Array($0.shape.dropFirst()) }) do not broadcast") }
                shape[axis] = max(a, b)
            }
        }
        if node.opType == "Mul", operands.count == 2,
           let (x, activation) = fusedGating(operands[0], operands[1]) ?? fusedGating(operands[1], operands[0])
            ?? fusedMish(operands[0], operands[1]) ?? fusedMish(operands[1], operands[0]) {
            var output = x
            output.node = emit(.activation(activation), inputs: [x.node], name: engineName(node))
            return output
        }
        let operation: ElementwiseMerge.Operation
        switch node.opType {
        case "Add", "Sum": operation = .add
        case "Mean": operation = .average
        case "Sub": operation = .subtract
        case "Mul": operation = .multiply
        case "Max": operation = .maximum
        case "Min": operation = .minimum
        default: throw ONNXImportUnsupported("\(node.opType) of two computed tensors")
        }
        let aligned = operands.map { reorder($0, to: first.order, for: engineName(node)) }
        let name = emit(.merge(operation), inputs: aligned.map(\.node), name: engineName(node))
        return ONNXRuntimeValue(node: name, shape: shape, order: first.order)
    }

    /// `gate · x` where `gate` is `sigmoid(x)` or `hard_sigmoid(x)` (the engine node on `x` itself):
    /// x (`b`) and the activation (swish or hard swish) the product `a · b` is, when `a` gates `b`.
    func fusedGating(_ a: ONNXRuntimeValue, _ b: ONNXRuntimeValue) -> (x: ONNXRuntimeValue, activation: Activation)? {
        guard let index = nodeIndex[a.node], nodes[index].inputs == [b.node], a.order == b.order, a.shape == b.shape,
              case .activation(let kind) = nodes[index].layer else { return nil }
        switch kind {
        case .sigmoid: return (b, .swish)
        case .hardSigmoid: return (b, .hardSwish)
        default: return nil
        }
    }

    /// `tanh(softplus(x)) · x` (how exporters write Mish before opset 18): mish of x, when `a` is that gate of `b`.
    func fusedMish(_ a: ONNXRuntimeValue, _ b: ONNXRuntimeValue) -> (x: ONNXRuntimeValue, activation: Activation)? {
        guard let outer = nodeIndex[a.node], case .activation(.tanh) = nodes[outer].layer, let inner = nodes[outer].inputs.first,
              let index = nodeIndex[inner], case .activation(.softplus) = nodes[index].layer, nodes[index].inputs == [b.node],
              a.order == b.order, a.shape == b.shape else { return nil }
        return (b, .mish)
    }

    /// `Concat` of computed tensors along `axis` (not the batch): `concatenate` along the engine
    /// axis holding it, every input in the first one's layout.
    func concat(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let operands = try inputs.compactMap { value -> ONNXRuntimeValue? in
            switch value {
            case .runtime(let v)?: return v
            case nil: return nil
            default: throw ONNXImportUnsupported("a concatenation of constants with computed tensors")
            }
        }
        guard let first = operands.first else { throw ONNXImportUnsupported("no input") }
        let given = Int(node.attribute("axis")?.int ?? 1)
        guard let axis = given.normalizedAxis(rank: first.rank), axis > 0 else { throw ONNXImportUnsupported("axis \(given) (the batch)") }
        guard operands.allSatisfy({ $0.rank == first.rank }) else { throw ONNXImportUnsupported("inputs of ranks \(operands.map(\.rank))") }
        if operands.count == 1 { return first }
        let aligned = operands.map { reorder($0, to: first.order, for: engineName(node)) }
        var shape = first.shape
        shape[axis] = operands.reduce(0) { $0 + $1.shape[axis] }
        let name = emit(.concatenate(axis: first.engineAxis(of: axis)), inputs: aligned.map(\.node), name: engineName(node))
        return ONNXRuntimeValue(node: name, shape: shape, order: first.order)
    }
}
