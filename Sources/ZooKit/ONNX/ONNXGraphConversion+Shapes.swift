import ZooFormat
import ZooNet

/// The ONNX operators that change a computed tensor's shape: `Flatten`, `Reshape`, `Squeeze`,
/// `Unsqueeze` (the engine reshapes in ONNX order, so a map is permuted to NCHW first when
/// its H, W > 1) and `Transpose` (a change of the recorded layout only).
extension ONNXGraphConversion {
    /// `Flatten(axis = 1)`: `[N, …]` → `[N, ∏…]` in ONNX (C, H, W) order.
    func flatten(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let given = Int(node.attribute("axis")?.int ?? 1)
        guard let axis = given.normalizedAxis(rank: x.rank + 1), axis == 1 || x.shape[1..<max(axis, 1)].allSatisfy({ $0 == 1 }) else {
            throw ONNXImportUnsupported("axis \(given) merges the batch with other axes")
        }
        if axis == 0 { throw ONNXImportUnsupported("axis 0 merges the batch with other axes") }
        return try reshaped(x, to: [x.shape[0], x.shape.dropFirst().reduce(1, *)], node: node)
    }

    /// `Reshape` to a constant shape (0 copies the input's size unless `allowzero`, −1 is inferred)
    /// that keeps the batch as axis 0.
    func reshape(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let target = try requiredConstant(inputs, 1, "shape").ints()
        let allowZero = (node.attribute("allowzero")?.int ?? 0) != 0
        let perSample = x.shape.dropFirst().reduce(1, *)
        guard let first = target.first else { throw ONNXImportUnsupported("a reshape to a scalar") }
        var dims = target.enumerated().map { k, d in d == 0 && !allowZero && k < x.rank ? x.shape[k] : d }
        let rest = Array(dims.dropFirst())
        let keepsBatch = dims[0] == ONNXShapeFolding.batch || (first == staticBatch && staticBatch != nil)
            || (first == -1 && checkedElementCount(rest) == perSample)
        guard keepsBatch, !rest.contains(ONNXShapeFolding.batch) else {
            throw ONNXImportUnsupported("the target shape \(target.map { $0 == ONNXShapeFolding.batch ? "N" : String($0) }) does not keep the batch as axis 0")
        }
        dims[0] = ONNXShapeFolding.batch
        if let free = rest.firstIndex(of: -1) {
            let others = rest.enumerated().filter { $0.offset != free }.map(\.element)
            guard let known = checkedElementCount(others), known > 0, perSample % known == 0 else {
                throw ONNXImportUnsupported("the target shape \(target) does not fit \(perSample) values per sample")
            }
            dims[free + 1] = perSample / known
        }
        guard dims.dropFirst().allSatisfy({ $0 > 0 }), checkedElementCount(Array(dims.dropFirst())) == perSample else {
            throw ONNXImportUnsupported("the target shape \(target) does not fit \(perSample) values per sample")
        }
        return try reshaped(x, to: dims, node: node)
    }

    /// `x` reshaped to the ONNX shape `shape` (batch first): nothing when it already has it, else
    /// the engine's `reshape` (or `flatten`) of x in ONNX order.
    func reshaped(_ x: ONNXRuntimeValue, to shape: [Int], node: ONNXNode) throws -> ONNXRuntimeValue {
        if shape == x.shape { return x }
        // The engine's elements are already in ONNX order when only axes of size 1 are out of place.
        let nonUnit = x.order.filter { x.shape[$0] != 1 }
        let input = nonUnit == nonUnit.sorted() ? x : reorder(x, to: Array(0..<x.rank), for: engineName(node))
        let perSample = Array(shape.dropFirst())
        let layer: LayerConfig = perSample.count == 1 ? .flatten : .reshape(perSample)
        let name = emit(layer, inputs: [input.node], name: engineName(node))
        return ONNXRuntimeValue(node: name, shape: shape, order: Array(0..<shape.count))
    }

    /// `Transpose(perm)` keeping the batch first: the same engine tensor, its recorded layout
    /// changed (output axis k is input axis `perm[k]`).
    func transpose(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let perm = node.attribute("perm")?.ints?.map { Int($0) } ?? Array((0..<x.rank).reversed())
        guard perm.sorted() == Array(0..<x.rank) else { throw ONNXImportUnsupported("perm \(perm) for rank \(x.rank)") }
        guard perm[0] == 0 else { throw ONNXImportUnsupported("perm \(perm) moves the batch axis") }
        var inverse = [Int](repeating: 0, count: perm.count)
        for (k, p) in perm.enumerated() { inverse[p] = k }
        return ONNXRuntimeValue(node: x.node, shape: perm.map { x.shape[$0] }, order: x.order.map { inverse[$0] })
    }

    /// `Squeeze` (size-1 axes dropped, the recorded layout kept) and `Unsqueeze` (a reshape in
    /// ONNX order); axes from the attribute before opset 13, from input 1 from then on.
    func squeeze(_ node: ONNXNode, _ inputs: [ONNXImportValue?]) throws -> ONNXRuntimeValue {
        let x = try runtime(inputs, 0, node)
        let axes = try intsSetting(node, inputs, attribute: "axes", input: 1, since: 13)
        if node.opType == "Unsqueeze" {
            guard let axes else { throw ONNXImportUnsupported("no axes") }
            let rank = x.rank + axes.count
            let normalized = Set(axes.compactMap { $0.normalizedAxis(rank: rank) })
            guard normalized.count == axes.count, !normalized.contains(0) else { throw ONNXImportUnsupported("axes \(axes) of a rank-\(rank) output") }
            var source = x.shape.makeIterator()
            let shape = (0..<rank).map { normalized.contains($0) ? 1 : source.next()! }
            return try reshaped(x, to: shape, node: node)
        }
        let normalized = axes.map { Set($0.compactMap { $0.normalizedAxis(rank: x.rank) }) }
            ?? Set(x.shape.indices.filter { $0 > 0 && x.shape[$0] == 1 })
        guard !normalized.contains(0), normalized.allSatisfy({ x.shape[$0] == 1 }), normalized.count == (axes?.count ?? normalized.count) else {
            throw ONNXImportUnsupported("axes \(axes ?? []) of the shape \(x.shape.dropFirst()) are not all of size 1 (or include the batch)")
        }
        if normalized.isEmpty { return x }
        let kept = x.order.filter { !normalized.contains($0) }
        let renumber = { (axis: Int) in axis - normalized.filter { $0 < axis }.count }
        let output = ONNXRuntimeValue(node: x.node, shape: x.shape.indices.filter { !normalized.contains($0) }.map { x.shape[$0] },
                                      order: kept.map(renumber))
        let engine = output.engineShape
        let name = emit(engine.count == 1 ? .flatten : .reshape(engine), inputs: [x.node], name: engineName(node))
        return ONNXRuntimeValue(node: name, shape: output.shape, order: output.order)
    }
}
