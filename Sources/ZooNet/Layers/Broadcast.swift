/// NumPy-style broadcasting of per-sample shapes of the same rank: each dimension equal to
/// the output's or 1 (then repeated). Walks the output in rows of its last dimension, giving
/// for each row the offset of the matching row of every input (an input whose last dimension
/// is broadcast contributes one value per row).
struct Broadcast {
    let outputShape: [Int]
    let inputShapes: [[Int]]
    /// Per input, the element stride of each output dimension (0 where broadcast).
    private let strides: [[Int]]
    let rowLength: Int
    let rowsPerSample: Int

    /// - Throws: `ZooNetError.invalidArgument` when the shapes cannot be broadcast together.
    init(_ shapes: [[Int]]) throws {
        guard let rank = shapes.first?.count, shapes.allSatisfy({ $0.count == rank }) else {
            throw ZooNetError.invalidArgument("inputs must have the same rank, got \(shapes)")
        }
        var output = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            let sizes = Set(shapes.map { $0[d] }).subtracting([1])
            guard sizes.count <= 1 else {
                throw ZooNetError.invalidArgument("shapes \(shapes) do not broadcast (axis \(d + 1): \(sizes.sorted()))")
            }
            output[d] = sizes.first ?? 1
        }
        outputShape = output
        inputShapes = shapes
        strides = shapes.map { shape in
            var result = [Int](repeating: 0, count: rank), step = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                result[d] = shape[d] == 1 && output[d] != 1 ? 0 : step
                step *= shape[d]
            }
            return result
        }
        rowLength = output.last ?? 1
        rowsPerSample = output.dropLast().reduce(1, *)
    }

    /// Elements per sample of input `k` and of the output.
    func inputCount(_ k: Int) -> Int { inputShapes[k].reduce(1, *) }
    var outputCount: Int { outputShape.reduce(1, *) }

    /// Whether input `k` repeats one value along the row (its last dimension is broadcast).
    func isScalarRow(_ k: Int) -> Bool { (strides[k].last ?? 1) == 0 && rowLength > 1 }

    /// Offset within a sample of input `k`'s row for output row `row` (row-major over all but
    /// the last output dimension).
    @inline(__always)
    func inputOffset(_ k: Int, row: Int) -> Int {
        var remaining = row, offset = 0
        let s = strides[k]
        for d in stride(from: outputShape.count - 2, through: 0, by: -1) {
            let size = outputShape[d]
            offset += (remaining % size) * s[d]
            remaining /= size
        }
        return offset
    }

    /// Whether input `k` is one row per sample, the same for every output row: all its
    /// dimensions but the last are 1 and the last is the output's (`[1, 1, C]` against
    /// `[H, W, C]`, a squeeze-and-excitation gate).
    func isSampleRow(_ k: Int) -> Bool {
        inputShapes[k].dropLast().allSatisfy { $0 == 1 } && inputShapes[k].last == outputShape.last
    }

    /// Whether every input already has the output's shape.
    var isTrivial: Bool { inputShapes.allSatisfy { $0 == outputShape } }

    /// For every element of one output sample (row-major), the index of the element of input
    /// `k` it reads (`[1, 1, c]` against `[h, w, c]`: `i ↦ i mod c`).
    func elementIndices(ofInput k: Int) -> [Int] {
        let step = strides[k].last ?? 1
        var result: [Int] = []
        result.reserveCapacity(outputCount)
        for row in 0..<rowsPerSample {
            let offset = inputOffset(k, row: row)
            for j in 0..<rowLength { result.append(offset + j * step) }
        }
        return result
    }
}
