import ZooFormat

/// Evaluates an ONNX node whose inputs are all constants: the shape computations exporters
/// emit (`torch.onnx.export` turns `x.view(x.size(0), -1)` into
/// `Shape → Gather → Unsqueeze → Concat → Reshape`) and constant arithmetic. The batch size
/// appears as `ONNXShapeFolding.batch` and survives `Gather`, `Concat`, `Unsqueeze`, `Cast` and `Slice`.
///
/// Results are bounded (`maximumElements`), so a malicious `ConstantOfShape` or `Range` cannot
/// allocate without limit.
struct ONNXConstantFolding {
    let node: ONNXNode
    let opset: Int
    /// The name given to the first result.
    let name: String

    /// The operators folded.
    static let ops = [
        "Constant", "Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape", "Flatten", "Cast", "Slice",
        "Identity", "Dropout", "Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Floor", "Ceil", "Abs", "Reciprocal", "Equal", "Where",
        "ConstantOfShape", "Range", "Transpose", "Min", "Max", "Expand",
    ]

    /// The largest constant folding makes.
    static let maximumElements = 1 << 24

    /// The node's outputs.
    func fold(_ inputs: [ONNXConstant?]) throws -> [ONNXConstant] {
        func input(_ k: Int) throws -> ONNXConstant {
            guard let value = inputs[safe: k] ?? nil else { throw ONNXImportUnsupported("input \(k) is missing") }
            return value
        }
        func make(_ shape: [Int], _ values: [Double], type: ONNXDataType) throws -> ONNXConstant {
            guard values.count <= ONNXConstantFolding.maximumElements else {
                throw ONNXImportUnsupported("a constant of \(values.count) elements (Zoo folds at most \(ONNXConstantFolding.maximumElements))")
            }
            return ONNXConstant(shape: shape, type: type, values: values, source: name)
        }
        switch node.opType {
        case "Constant": return [try constantAttribute()]
        case "Identity", "Dropout": return [try input(0)]
        case "Shape":
            let x = try input(0)
            let rank = x.shape.count
            let start = Int(node.attribute("start")?.int ?? 0), end = Int(node.attribute("end")?.int ?? Int64(rank))
            let (s, e) = (clamp(start < 0 ? start + rank : start, rank), clamp(end < 0 ? end + rank : end, rank))
            let dims = s < e ? Array(x.shape[s..<e]) : []
            return [try make([dims.count], dims.map(Double.init), type: .int64)]
        case "Size": return [try make([], [Double(try input(0).count)], type: .int64)]
        case "Cast":
            let x = try input(0)
            guard let to = ONNXDataType(rawValue: Int32(node.attribute("to")?.int ?? 1)) else { throw ONNXImportUnsupported("cast to an unknown type") }
            let values = try x.values()
            let converted: [Double]
            switch to {
            case .float, .double, .float16, .bfloat16: converted = values
            case .bool: converted = values.map { $0 != 0 ? 1 : 0 }
            default: converted = values.map { $0.rounded(.towardZero) }
            }
            return [try make(x.shape, converted, type: to)]
        case "Reshape", "Flatten":
            let x = try input(0)
            let shape: [Int]
            if node.opType == "Flatten" {
                let axis = Int(node.attribute("axis")?.int ?? 1)
                guard let a = axis.normalizedAxis(rank: x.shape.count + 1) else { throw ONNXImportUnsupported("axis \(axis)") }
                shape = [x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)]
            } else {
                shape = try reshapeTarget(try input(1).ints(), of: x.shape)
            }
            return [try make(shape, try x.values(), type: x.type)]
        case "Unsqueeze", "Squeeze":
            let x = try input(0)
            let axes = opset < 13 ? node.attribute("axes")?.ints?.map { Int($0) } : try inputs[safe: 1].flatMap { $0 }?.ints()
            var shape = x.shape
            if node.opType == "Unsqueeze" {
                guard let axes else { throw ONNXImportUnsupported("no axes") }
                let rank = shape.count + axes.count
                for axis in axes.compactMap({ $0.normalizedAxis(rank: rank) }).sorted() { shape.insert(1, at: min(axis, shape.count)) }
            } else {
                let drop = axes.map { Set($0.compactMap { $0.normalizedAxis(rank: shape.count) }) } ?? Set(shape.indices.filter { shape[$0] == 1 })
                shape = shape.indices.filter { !drop.contains($0) }.map { shape[$0] }
            }
            return [try make(shape, try x.values(), type: x.type)]
        case "Concat":
            let parts = inputs.compactMap { $0 }
            guard let first = parts.first else { throw ONNXImportUnsupported("no inputs") }
            let given = Int(node.attribute("axis")?.int ?? 0)
            guard let axis = given.normalizedAxis(rank: first.shape.count),
                  parts.allSatisfy({ $0.shape.count == first.shape.count }) else { throw ONNXImportUnsupported("axis \(given)") }
            let outer = first.shape[..<axis].reduce(1, *)
            var values: [Double] = [], shape = first.shape
            shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
            let all = try parts.map { try $0.values() }
            for o in 0..<outer {
                for (part, data) in zip(parts, all) {
                    let inner = part.shape[axis...].reduce(1, *)
                    values += data[(o * inner)..<((o + 1) * inner)]
                }
            }
            return [try make(shape, values, type: first.type)]
        case "Gather":
            let data = try input(0), indices = try input(1)
            let given = Int(node.attribute("axis")?.int ?? 0)
            guard let axis = given.normalizedAxis(rank: data.shape.count) else { throw ONNXImportUnsupported("axis \(given)") }
            let picks = try indices.ints().map { $0 < 0 ? $0 + data.shape[axis] : $0 }
            guard picks.allSatisfy({ (0..<data.shape[axis]).contains($0) }) else { throw ONNXImportUnsupported("indices out of range") }
            let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
            let source = try data.values()
            var values: [Double] = []
            for o in 0..<outer { for p in picks { values += source[((o * data.shape[axis] + p) * inner)..<((o * data.shape[axis] + p + 1) * inner)] } }
            return [try make(Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...]), values, type: data.type)]
        case "Slice":
            return [try slice(inputs, make: make)]
        case "Transpose":
            let x = try input(0)
            let perm = node.attribute("perm")?.ints?.map { Int($0) } ?? Array((0..<x.shape.count).reversed())
            guard perm.sorted() == Array(0..<x.shape.count) else { throw ONNXImportUnsupported("perm \(perm)") }
            return [try make(perm.map { x.shape[$0] }, select(try x.values(), shape: x.shape, perm: perm), type: x.type)]
        case "ConstantOfShape":
            let shape = try input(0).ints()
            guard shape.allSatisfy({ $0 >= 0 }), let count = checkedElementCount(shape), count <= ONNXConstantFolding.maximumElements else {
                throw ONNXImportUnsupported("shape \(shape)")
            }
            let value = try node.attribute("value")?.tensor.map { try ONNXConstant($0).values().first ?? 0 } ?? 0
            let type = node.attribute("value")?.tensor?.dataType ?? .float
            return [try make(shape, [Double](repeating: value, count: count), type: type)]
        case "Range":
            let (start, limit, delta) = (try input(0).scalar() ?? 0, try input(1).scalar() ?? 0, try input(2).scalar() ?? 1)
            guard delta != 0 else { throw ONNXImportUnsupported("delta 0") }
            let count = max(Int(((limit - start) / delta).rounded(.up)), 0)
            guard count <= ONNXConstantFolding.maximumElements else { throw ONNXImportUnsupported("\(count) elements") }
            return [try make([count], (0..<count).map { start + Double($0) * delta }, type: try input(0).type)]
        case "Expand":
            let x = try input(0), target = try input(1).ints()
            let shape = try broadcastShape(x.shape, target)
            return [try make(shape, try broadcast(try x.values(), from: x.shape, to: shape), type: x.type)]
        case "Where":
            let condition = try input(0), a = try input(1), b = try input(2)
            let shape = try broadcastShape(try broadcastShape(condition.shape, a.shape), b.shape)
            let (c, x, y) = (try broadcast(try condition.values(), from: condition.shape, to: shape),
                             try broadcast(try a.values(), from: a.shape, to: shape), try broadcast(try b.values(), from: b.shape, to: shape))
            return [try make(shape, (0..<c.count).map { c[$0] != 0 ? x[$0] : y[$0] }, type: a.type)]
        case "Neg", "Sqrt", "Floor", "Ceil", "Abs", "Reciprocal":
            let x = try input(0)
            let f: (Double) -> Double = switch node.opType {
            case "Neg": { -$0 }
            case "Sqrt": { $0.squareRoot() }
            case "Floor": { $0.rounded(.down) }
            case "Ceil": { $0.rounded(.up) }
            case "Abs": { abs($0) }
            default: { 1 / $0 }
            }
            return [try make(x.shape, try x.values().map(f), type: x.type)]
        default:
            return [try binary(inputs.compactMap { $0 }, make: make)]
        }
    }

    /// `Constant`'s value: `value` (a tensor), `value_float(s)`, `value_int(s)`.
    func constantAttribute() throws -> ONNXConstant {
        for attribute in node.attributes {
            switch (attribute.name, attribute.value) {
            case ("value", .tensor(let tensor)):
                var c = ONNXConstant(tensor)
                c.source = name
                return c
            case ("value_float", .float(let v)): return ONNXConstant(shape: [], type: .float, values: [Double(v)], source: name)
            case ("value_floats", .floats(let v)): return ONNXConstant(shape: [v.count], type: .float, values: v.map(Double.init), source: name)
            case ("value_int", .int(let v)): return ONNXConstant(shape: [], type: .int64, values: [Double(v)], source: name)
            case ("value_ints", .ints(let v)): return ONNXConstant(shape: [v.count], type: .int64, values: v.map(Double.init), source: name)
            default: continue
            }
        }
        throw ONNXImportUnsupported("a Constant without a value Zoo reads (value, value_float(s), value_int(s))")
    }

    /// A `Reshape` target resolved against `shape` (0 copies, −1 inferred).
    func reshapeTarget(_ target: [Int], of shape: [Int]) throws -> [Int] {
        let allowZero = (node.attribute("allowzero")?.int ?? 0) != 0
        var dims = target.enumerated().map { k, d in d == 0 && !allowZero && k < shape.count ? shape[k] : d }
        let count = shape.reduce(1, *)
        if let free = dims.firstIndex(of: -1) {
            let others = dims.enumerated().filter { $0.offset != free }.map(\.element)
            guard let known = checkedElementCount(others), known > 0, count % known == 0 else { throw ONNXImportUnsupported("target \(target) for \(count) values") }
            dims[free] = count / known
        }
        guard checkedElementCount(dims) == count else { throw ONNXImportUnsupported("target \(target) for \(count) values") }
        return dims
    }

    /// `Slice` (starts, ends, axes, steps: inputs from opset 10, attributes before), clamped as ONNX says.
    func slice(_ inputs: [ONNXConstant?], make: ([Int], [Double], ONNXDataType) throws -> ONNXConstant) throws -> ONNXConstant {
        guard let x = inputs.first ?? nil else { throw ONNXImportUnsupported("no data") }
        let rank = x.shape.count
        let starts: [Int], ends: [Int], axes: [Int], steps: [Int]
        if opset < 10 {
            starts = node.attribute("starts")?.ints?.map { Int($0) } ?? []
            ends = node.attribute("ends")?.ints?.map { Int($0) } ?? []
            axes = node.attribute("axes")?.ints?.map { Int($0) } ?? Array(0..<starts.count)
            steps = [Int](repeating: 1, count: starts.count)
        } else {
            starts = try inputs[safe: 1]??.ints() ?? []
            ends = try inputs[safe: 2]??.ints() ?? []
            axes = try inputs[safe: 3]??.ints() ?? Array(0..<starts.count)
            steps = try inputs[safe: 4]??.ints() ?? [Int](repeating: 1, count: starts.count)
        }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else { throw ONNXImportUnsupported("starts, ends, axes and steps of different lengths") }
        var picks = x.shape.map { Array(0..<$0) }
        for (k, given) in axes.enumerated() {
            guard let axis = given.normalizedAxis(rank: rank), steps[k] != 0 else { throw ONNXImportUnsupported("axis \(given), step \(steps[k])") }
            let size = x.shape[axis], step = steps[k]
            func resolve(_ v: Int, _ low: Int, _ high: Int) -> Int { min(max(v < 0 ? v + size : v, low), high) }
            let (start, end) = step > 0 ? (resolve(starts[k], 0, size), resolve(ends[k], 0, size)) : (resolve(starts[k], 0, size - 1), resolve(ends[k], -1, size - 1))
            picks[axis] = Array(stride(from: start, to: end, by: step))
        }
        let values = try x.values()
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * x.shape[d + 1] }
        var offsets = [0]
        for d in 0..<rank { offsets = offsets.flatMap { base in picks[d].map { base + $0 * strides[d] } } }
        return try make(picks.map(\.count), offsets.map { values[$0] }, x.type)
    }

    /// Element-wise binary arithmetic with NumPy broadcasting (`Add`, `Sub`, `Mul`, `Div`, `Equal`,
    /// `Min`, `Max`); integer division truncates.
    func binary(_ operands: [ONNXConstant], make: ([Int], [Double], ONNXDataType) throws -> ONNXConstant) throws -> ONNXConstant {
        guard let first = operands.first, operands.count >= 2 || ["Min", "Max"].contains(node.opType) else { throw ONNXImportUnsupported("inputs missing") }
        var shape = first.shape
        for operand in operands.dropFirst() { shape = try broadcastShape(shape, operand.shape) }
        var result = try broadcast(try first.values(), from: first.shape, to: shape)
        let integer = first.isInteger
        for operand in operands.dropFirst() {
            let other = try broadcast(try operand.values(), from: operand.shape, to: shape)
            let f: (Double, Double) -> Double = switch node.opType {
            case "Add": { $0 + $1 }
            case "Sub": { $0 - $1 }
            case "Mul": { $0 * $1 }
            case "Div": integer ? { $1 == 0 ? 0 : ($0 / $1).rounded(.towardZero) } : { $0 / $1 }
            case "Equal": { $0 == $1 ? 1 : 0 }
            case "Min": { min($0, $1) }
            default: { max($0, $1) }
            }
            result = zip(result, other).map(f)
        }
        return try make(shape, result, node.opType == "Equal" ? .bool : first.type)
    }

    /// The NumPy broadcast of two shapes.
    func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let rank = max(a.count, b.count)
        let (pa, pb) = ([Int](repeating: 1, count: rank - a.count) + a, [Int](repeating: 1, count: rank - b.count) + b)
        return try (0..<rank).map { d in
            guard pa[d] == pb[d] || pa[d] == 1 || pb[d] == 1 else { throw ONNXImportUnsupported("shapes \(a) and \(b) do not broadcast") }
            return pa[d] == 1 ? pb[d] : pa[d]
        }
    }

    /// `values` of `shape` repeated to `target` (NumPy broadcasting).
    func broadcast(_ values: [Double], from shape: [Int], to target: [Int]) throws -> [Double] {
        if shape == target { return values }
        guard let count = checkedElementCount(target), count <= ONNXConstantFolding.maximumElements else { throw ONNXImportUnsupported("a constant of shape \(target)") }
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: target.count), step = 1
        for d in stride(from: target.count - 1, through: 0, by: -1) {
            strides[d] = padded[d] == 1 ? 0 : step
            step *= padded[d]
        }
        var offsets = [0]
        for d in 0..<target.count { offsets = offsets.flatMap { base in (0..<target[d]).map { base + $0 * strides[d] } } }
        return offsets.map { values[$0] }
    }

    /// `values` of `shape` transposed: output axis i is input axis `perm[i]`.
    func select(_ values: [Double], shape: [Int], perm: [Int]) -> [Double] {
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        var offsets = [0]
        for axis in perm { offsets = offsets.flatMap { base in (0..<shape[axis]).map { base + $0 * strides[axis] } } }
        return offsets.map { values[$0] }
    }

    private func clamp(_ v: Int, _ rank: Int) -> Int { min(max(v, 0), rank) }
}
