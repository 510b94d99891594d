/// Element-wise merges of several inputs (Keras `Add`, `Subtract`, `Multiply`, `Average`,
/// `Maximum`, `Minimum`), with broadcasting of per-sample dimensions of size 1 — the
/// squeeze-and-excitation product `[1, 1, C] × [H, W, C]`.
///
/// Forward: `y = x₀ + x₁ + …`, `x₀ − x₁`, `x₀ · x₁ · …`, the mean, the element-wise max or min.
/// Backward: `dxₖ = dy` (add; subtract: `−dy` for x₁), `dy · Π_{j≠k} xⱼ` (multiply), `dy/n`
/// (average), `dy` to the first input holding the max/min, 0 elsewhere; summed over the
/// broadcast dimensions of an input.
public class ElementwiseMerge: MergeLayer {
    /// How the inputs combine (raw values: the JSON kinds).
    public enum Operation: String, Sendable {
        /// y = Σ xₖ.
        case add
        /// y = x₀ − x₁.
        case subtract
        /// y = Π xₖ.
        case multiply
        /// y = Σ xₖ / n.
        case average
        /// y = max xₖ.
        case maximum
        /// y = min xₖ.
        case minimum
    }

    public var name: String
    /// How the inputs combine.
    public let operation: Operation
    public var kind: String { operation.rawValue }
    public var variables: [Variable] { [] }
    private var broadcast: Broadcast?

    init(_ operation: Operation, name: String) {
        self.operation = operation
        self.name = name
    }

    public func build(inputShapes: [[Int]], seed: UInt64) throws -> [Int] {
        guard inputShapes.count >= 2 else {
            throw ZooNetError.invalidArgument("\(kind) needs at least two inputs, got \(inputShapes.count)")
        }
        if operation == .subtract, inputShapes.count != 2 {
            throw ZooNetError.invalidArgument("subtract takes exactly two inputs, got \(inputShapes.count)")
        }
        let plan = try Broadcast(inputShapes)
        broadcast = plan
        return plan.outputShape
    }

    public func forward(_ inputs: UnsafeBufferPointer<UnsafePointer<Float>>, into y: UnsafeMutablePointer<Float>,
                        batch: Int, training: Bool) {
        guard let plan = broadcast else { return }
        let rows = batch * plan.rowsPerSample
        let pool = WorkerPool.shared
        let parts = pool.parts(work: rows * plan.rowLength, grain: WorkerPool.elementGrain, most: rows)
        pool.parallel(parts, ForwardRows(layer: self, plan: plan, inputs: inputs, y: y, rows: rows, parts: parts))
    }

    /// Output rows `band` (over the whole batch).
    fileprivate func forward(rows band: Range<Int>, plan: Broadcast, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                             y: UnsafeMutablePointer<Float>) {
        let width = plan.rowLength, perSample = plan.rowsPerSample
        if let (whole, gate) = gatedInputs(plan, inputs) {
            return forwardGated(rows: band, whole: whole, gate: gate, width: width, perSample: perSample, y: y)
        }
        for row in band {
            let sample = row / perSample, local = row % perSample
            let out = y + row * width
            for (k, x) in inputs.enumerated() {
                let source = x + sample * plan.inputCount(k) + plan.inputOffset(k, row: local)
                let scalar = plan.isScalarRow(k)
                if k == 0 {
                    if scalar { out.update(repeating: source[0], count: width) } else { out.update(from: source, count: width) }
                    continue
                }
                switch operation {
                case .add, .average:
                    if scalar { for j in 0..<width { out[j] += source[0] } } else { for j in 0..<width { out[j] += source[j] } }
                case .subtract:
                    if scalar { for j in 0..<width { out[j] -= source[0] } } else { for j in 0..<width { out[j] -= source[j] } }
                case .multiply:
                    if scalar { for j in 0..<width { out[j] *= source[0] } } else { for j in 0..<width { out[j] *= source[j] } }
                case .maximum:
                    for j in 0..<width { out[j] = Swift.max(out[j], source[scalar ? 0 : j]) }
                case .minimum:
                    for j in 0..<width { out[j] = Swift.min(out[j], source[scalar ? 0 : j]) }
                }
            }
            if operation == .average {
                let scale = 1 / Float(inputs.count)
                for j in 0..<width { out[j] *= scale }
            }
        }
    }

    /// For a product or sum of two inputs, one with the output's shape and one a row per sample
    /// (`Broadcast.isSampleRow`: `[H, W, C] × [1, 1, C]`), the two in that order.
    private func gatedInputs(_ plan: Broadcast, _ inputs: UnsafeBufferPointer<UnsafePointer<Float>>)
        -> (UnsafePointer<Float>, UnsafePointer<Float>)? {
        gatedOrder(plan).map { (inputs[$0.whole], inputs[$0.gate]) }
    }

    /// For a product or sum of two inputs, one with the output's shape and one a row per
    /// sample: the index of each.
    private func gatedOrder(_ plan: Broadcast) -> (whole: Int, gate: Int)? {
        guard operation == .multiply || operation == .add, plan.inputShapes.count == 2, plan.rowLength > 1 else { return nil }
        if plan.inputShapes[0] == plan.outputShape && plan.isSampleRow(1) { return (0, 1) }
        if plan.inputShapes[1] == plan.outputShape && plan.isSampleRow(0) { return (1, 0) }
        return nil
    }

    /// Rows `band` of `y = whole ∘ gate` (∘: product or sum), gate one row of `width` per
    /// sample: straight loops over each sample's rows, no per-row offsets. Why: the generic walk
    /// took 360 µs for EfficientNet-B0's 112×112×32 gate at batch 1, ONNX Runtime's `Mul` 102
    /// (step profiles, 2 Zen 3 cores).
    private func forwardGated(rows band: Range<Int>, whole: UnsafePointer<Float>, gate: UnsafePointer<Float>, width: Int,
                              perSample: Int, y: UnsafeMutablePointer<Float>) {
        var row = band.lowerBound
        while row < band.upperBound {
            let sample = row / perSample
            let end = Swift.min(band.upperBound, (sample + 1) * perSample)
            let g = gate + sample * width
            var x = whole + row * width, out = y + row * width
            for _ in row..<end {
                if operation == .multiply {
                    for j in 0..<width { out[j] = x[j] * g[j] }
                } else {
                    for j in 0..<width { out[j] = x[j] + g[j] }
                }
                x += width
                out += width
            }
            row = end
        }
    }

    public func backward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>,
                         outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>, batch: Int) {
        guard let plan = broadcast else { return }
        for (k, target) in inputGradients.enumerated() {
            guard let dx = target else { continue }
            if operation == .add, plan.inputShapes[k] == plan.outputShape {
                dx.update(from: dy, count: batch * plan.inputCount(k))
                continue
            }
            // Samples own disjoint parts of dx, so they can run in parallel even when rows of
            // one sample add into the same broadcast cells.
            let pool = WorkerPool.shared
            let parts = pool.parts(work: batch * plan.outputCount, grain: WorkerPool.elementGrain, most: batch)
            if let order = gatedOrder(plan) {
                pool.parallel(parts, GatedBackwardSamples(layer: self, width: plan.rowLength, perSample: plan.rowsPerSample,
                                                          toGate: k == order.gate, whole: inputs[order.whole],
                                                          gate: inputs[order.gate], dy: dy, dx: dx, batch: batch, parts: parts))
                continue
            }
            pool.parallel(parts, BackwardSamples(layer: self, plan: plan, k: k, inputs: inputs, output: output, dy: dy,
                                                 dx: dx, batch: batch, parts: parts))
        }
    }

    /// dLoss/dxₖ of a gated product or sum (`gatedOrder`) for the samples in `samples`, in
    /// straight loops: to the whole map `dx = dy ∘ gate` (product; a sum's is `dy`, copied
    /// before), to the gate its row `dg[j] = Σ_rows dy[row, j] · whole[row, j]` (product) or
    /// `Σ_rows dy[row, j]` (sum), rows added in order. Why: the generic walk recomputed every
    /// input's offsets per row; EfficientNet-B0's SE products took 0.4–0.75 ms per image of a
    /// training step at 96 × 96 (`zoo-conv-bench profile train_efficientnet_b0_96 b32`).
    fileprivate func backwardGated(samples: Range<Int>, width: Int, perSample: Int, toGate: Bool, whole: UnsafePointer<Float>,
                                   gate: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        for sample in samples {
            let first = sample * perSample
            if toGate {
                let target = dx + sample * width
                target.update(repeating: 0, count: width)
                for row in first..<(first + perSample) {
                    let g = dy + row * width
                    if operation == .multiply {
                        let x = whole + row * width
                        for j in 0..<width { target[j] += g[j] * x[j] }
                    } else {
                        for j in 0..<width { target[j] += g[j] }
                    }
                }
            } else {
                let factor = gate + sample * width
                for row in first..<(first + perSample) {
                    let g = dy + row * width, out = dx + row * width
                    for j in 0..<width { out[j] = g[j] * factor[j] }
                }
            }
        }
    }

    /// dLoss/dxₖ for the samples in `samples`.
    fileprivate func backward(samples: Range<Int>, k: Int, plan: Broadcast, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                              output: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let width = plan.rowLength, perSample = plan.rowsPerSample, count = plan.inputCount(k)
        let direct = plan.inputShapes[k] == plan.outputShape
        let scalarTarget = plan.isScalarRow(k)
        let n = inputs.count
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: n) { rows in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { steps in
            for sample in samples {
                if !direct { (dx + sample * count).update(repeating: 0, count: count) }
                for local in 0..<perSample {
                    let row = sample * perSample + local
                    for i in 0..<n {
                        rows[i] = inputs[i] + sample * plan.inputCount(i) + plan.inputOffset(i, row: local)
                        steps[i] = plan.isScalarRow(i) ? 0 : 1
                    }
                    let g = dy + row * width, y = output + row * width
                    let target = dx + sample * count + plan.inputOffset(k, row: local)
                    for j in 0..<width {
                        var c: Float
                        switch operation {
                        case .add: c = g[j]
                        case .subtract: c = k == 0 ? g[j] : -g[j]
                        case .average: c = g[j] / Float(n)
                        case .multiply:
                            c = g[j]
                            for i in 0..<n where i != k { c *= rows[i][j * steps[i]] }
                        case .maximum, .minimum:
                            // The first input holding the extreme value takes the whole gradient.
                            var winner = 0
                            while winner < n - 1 && rows[winner][j * steps[winner]] != y[j] { winner += 1 }
                            c = winner == k ? g[j] : 0
                        }
                        if direct { target[j] = c } else if scalarTarget { target[0] += c } else { target[j] += c }
                    }
                }
            }
        } }
    }

    private struct BackwardSamples: ParallelJob {
        let layer: ElementwiseMerge, plan: Broadcast, k: Int
        let inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>
        let dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
        let batch: Int, parts: Int
        func run(_ part: Int) {
            layer.backward(samples: partRange(part, of: parts, count: batch, alignment: 1), k: k, plan: plan, inputs: inputs,
                           output: output, dy: dy, dx: dx)
        }
    }

    private struct GatedBackwardSamples: ParallelJob {
        let layer: ElementwiseMerge
        let width: Int, perSample: Int, toGate: Bool
        let whole: UnsafePointer<Float>, gate: UnsafePointer<Float>
        let dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
        let batch: Int, parts: Int
        func run(_ part: Int) {
            layer.backwardGated(samples: partRange(part, of: parts, count: batch, alignment: 1), width: width, perSample: perSample,
                                toGate: toGate, whole: whole, gate: gate, dy: dy, dx: dx)
        }
    }

    private struct ForwardRows: ParallelJob {
        let layer: ElementwiseMerge, plan: Broadcast
        let inputs: UnsafeBufferPointer<UnsafePointer<Float>>, y: UnsafeMutablePointer<Float>
        let rows: Int, parts: Int
        func run(_ part: Int) {
            layer.forward(rows: partRange(part, of: parts, count: rows, alignment: 1), plan: plan, inputs: inputs, y: y)
        }
    }
}

/// `y = x₀ + x₁ + …` (Keras `Add`; residual connections).
public final class Add: ElementwiseMerge {
    /// A merge layer; `name` is the scope name (empty: `add`, `add_1`, …).
    public init(name: String = "") { super.init(.add, name: name) }
}
/// `y = x₀ − x₁` (Keras `Subtract`).
public final class Subtract: ElementwiseMerge {
    /// A merge layer; `name` is the scope name (empty: `subtract`, `subtract_1`, …).
    public init(name: String = "") { super.init(.subtract, name: name) }
}
/// `y = x₀ · x₁ · …` (Keras `Multiply`; squeeze-and-excitation gates).
public final class Multiply: ElementwiseMerge {
    /// A merge layer; `name` is the scope name (empty: `multiply`, `multiply_1`, …).
    public init(name: String = "") { super.init(.multiply, name: name) }
}
/// `y = (x₀ + … + xₙ₋₁)/n` (Keras `Average`).
public final class Average: ElementwiseMerge {
    /// A merge layer; `name` is the scope name (empty: `average`, `average_1`, …).
    public init(name: String = "") { super.init(.average, name: name) }
}
/// `y = max(x₀, x₁, …)` (Keras `Maximum`).
public final class Maximum: ElementwiseMerge {
    /// A merge layer; `name` is the scope name (empty: `maximum`, `maximum_1`, …).
    public init(name: String = "") { super.init(.maximum, name: name) }
}
/// `y = min(x₀, x₁, …)` (Keras `Minimum`).
public final class Minimum: ElementwiseMerge {
    /// A merge layer; `name` is the scope name (empty: `minimum`, `minimum_1`, …).
    public init(name: String = "") { super.init(.minimum, name: name) }
}
