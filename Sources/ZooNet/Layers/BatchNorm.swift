import CZooKernels

/// Batch normalization over the last axis (Keras `BatchNormalization(axis=-1)`).
///
/// Input `[..., C]` viewed as `[N, C]` rows (N = batch · spatial positions). Variables in Keras
/// order: `<name>/gamma`, `<name>/beta` (trainable), `<name>/moving_mean`,
/// `<name>/moving_variance` (not trainable).
///
/// Training: μ = mean(x), σ² = mean((x − μ)²) (biased, as Keras' `ops.moments`),
/// x̂ = (x − μ)/√(σ² + ε), y = γx̂ + β, and
/// `moving = moving · momentum + batch · (1 − momentum)` for mean and (the same biased) variance.
/// Inference uses the moving statistics. A frozen layer (all of γ, β frozen) always runs in
/// inference mode, as in Keras.
///
/// Backward (training): dβ = Σdy, dγ = Σdy·x̂, dx = γ/(N√(σ²+ε)) · (N·dy − dβ − x̂·dγ).
/// Backward (inference): dx = dy · γ/√(moving σ² + ε).
///
/// Cost per step: forward two passes over x (moments in one shifted pass, then y = x·a + d),
/// backward two (the column sums, then dx = a·dy + x·e + f with per-feature a, e, f); x̂ is
/// never stored, backward uses the layer's input.
public final class BatchNorm: Layer {
    public var name: String
    public var kind: String { "batch_normalization" }
    /// C, the size of the last axis (known once built).
    public private(set) var featureCount: Int?
    /// The moving averages' decay, in [0, 1].
    public let momentum: Float
    /// ε > 0, added to the variance.
    public let epsilon: Float
    /// Whether β exists (adds the learned offset).
    public let center: Bool
    /// Whether γ exists (multiplies by the learned scale).
    public let scale: Bool

    /// γ `[C]`, `<name>/gamma` (with `scale`).
    public private(set) var gamma: Variable?
    /// β `[C]`, `<name>/beta` (with `center`).
    public private(set) var beta: Variable?
    /// The moving mean `[C]`, `<name>/moving_mean` (never trainable).
    public private(set) var movingMean: Variable?
    /// The moving variance `[C]`, `<name>/moving_variance` (never trainable).
    public private(set) var movingVariance: Variable?
    public var variables: [Variable] { [gamma, beta, movingMean, movingVariance].compactMap { $0 } }

    // Scratch of the passes (internal: BatchNorm+RowBlocks.swift shares them).
    /// Per-feature coefficients of the fused passes (4 × C): forward y = x·a + d (a at 0, d at C,
    /// kept through backward, which recomputes a clamp's mask from them), dx = a·dy + x·e + f
    /// (e at 2C, f at 3C).
    var coefficients = FloatBuffer(count: 0)
    var inverseStd = FloatBuffer(count: 0)
    var mean = FloatBuffer(count: 0)
    var sumDy = FloatBuffer(count: 0)
    var sumDyXhat = FloatBuffer(count: 0)
    /// Per-row-block partial sums (2 × `maximumRowBlocks` × C).
    var rowBlockSums = FloatBuffer(count: 0)
    var ones = FloatBuffer(count: 0)
    var zeros = FloatBuffer(count: 0)
    var usedBatchStatistics = false
    var rowsPerSample = 1

    /// A batch-normalization layer with Keras' defaults.
    /// - Parameters:
    ///   - featureCount: C, if known (checked against the input when built).
    ///   - momentum: the moving averages' decay, in [0, 1].
    ///   - epsilon: ε > 0.
    ///   - center: create β.
    ///   - scale: create γ.
    ///   - name: the scope name; empty: `batch_normalization`, `batch_normalization_1`, ….
    public init(featureCount: Int? = nil, momentum: Float = 0.99, epsilon: Float = 1e-3,
                center: Bool = true, scale: Bool = true, name: String = "") {
        self.featureCount = featureCount
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.name = name
    }

    /// True when every trainable-kind variable is frozen (then the layer runs in inference mode).
    public var isFrozen: Bool {
        guard gamma != nil || beta != nil else { return false }
        return (gamma?.isFrozen ?? true) && (beta?.isFrozen ?? true)
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard let c = inputShape.last, c > 0 else {
            throw ZooNetError.invalidArgument("\(name): BatchNorm needs a non-empty input shape")
        }
        if let featureCount, featureCount != c {
            throw ZooNetError.shapeMismatch(expected: [featureCount], actual: [c], context: name)
        }
        guard momentum >= 0, momentum <= 1, epsilon > 0 else {
            throw ZooNetError.invalidArgument("\(name): momentum must be in [0, 1] and epsilon > 0")
        }
        featureCount = c
        rowsPerSample = inputShape.dropLast().reduce(1, *)
        let one = [Float](repeating: 1, count: c), zero = [Float](repeating: 0, count: c)
        if scale { gamma = Variable(name: "\(name)/gamma", shape: [c], trainable: true, initialValues: one) }
        if center { beta = Variable(name: "\(name)/beta", shape: [c], trainable: true, initialValues: zero) }
        movingMean = Variable(name: "\(name)/moving_mean", shape: [c], trainable: false, initialValues: zero)
        movingVariance = Variable(name: "\(name)/moving_variance", shape: [c], trainable: false, initialValues: one)
        for buffer in [inverseStd, mean, sumDy, sumDyXhat] { buffer.reserve(c) }
        coefficients.reserve(4 * c)
        rowBlockSums.reserve(2 * BatchNorm.maximumRowBlocks * c)
        ones = FloatBuffer(one)
        zeros = FloatBuffer(zero)
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        forward(x, into: y, batch: batch, training: training, activation: .linear)
    }

    public func backward(
        input x: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        backward(input: x, activationOutput: output, outputGradient: dy, activation: .linear, inputGradient: dx, batch: batch)
    }

    /// Column strips for one region: each part owns features `partRange(part, of: parts, count: c)`
    /// for every row (statistics, coefficients and outputs), so nothing is reduced across threads.
    private func stripParts(rows: Int, features c: Int) -> Int {
        WorkerPool.shared.parts(work: rows * c, grain: WorkerPool.elementGrain, most: Swift.max(1, c / 32))
    }

    /// The batch statistics μ and 1/σ of the features in `range`, and the moving averages
    /// updated with them, from the sums of `d = x − x₀` (`sum`) and `d²` (`squares`) over
    /// `rows` rows, `first` = x₀ (all indexed by feature).
    func finishStatistics(sum: UnsafePointer<Float>, squares: UnsafePointer<Float>, first x: UnsafePointer<Float>,
                          rows: Int, features range: Range<Int>) {
        guard let movingMean, let movingVariance else { return }
        let mu = mean.pointer, inv = inverseStd.pointer
        let mm = movingMean.value.pointer, mv = movingVariance.value.pointer
        let scaleN = 1 / Float(rows)
        for j in range {
            let shiftedMean = sum[j] * scaleN
            let v = Swift.max(squares[j] * scaleN - shiftedMean * shiftedMean, 0)
            mu[j] = x[j] + shiftedMean
            inv[j] = 1 / (v + epsilon).squareRoot()
            mm[j] = mm[j] * momentum + mu[j] * (1 - momentum)
            mv[j] = mv[j] * momentum + v * (1 - momentum)
        }
    }

    /// The inference statistics of the features in `range`: μ = moving mean, 1/σ from the moving variance.
    func inferenceStatistics(features range: Range<Int>) {
        guard let movingMean, let movingVariance else { return }
        let mu = mean.pointer, inv = inverseStd.pointer
        let mm = movingMean.value.pointer, mv = movingVariance.value.pointer
        for j in range {
            mu[j] = mm[j]
            inv[j] = 1 / (mv[j] + epsilon).squareRoot()
        }
    }

    /// y = γ(x − μ)/σ + β = x·a + d with per-feature a = γ/σ, d = β − μ·a, for the features in
    /// `range` (a in `coefficients[0..<C]`, d in `coefficients[C..<2C]`). x̂ is not stored:
    /// backward recomputes it from the layer's input.
    func forwardCoefficients(features range: Range<Int>) {
        guard let c = featureCount else { return }
        let mu = mean.pointer, inv = inverseStd.pointer
        let a = coefficients.pointer, d = coefficients.pointer + c
        let g = UnsafePointer(gamma?.value.pointer ?? ones.pointer)
        let b = UnsafePointer(beta?.value.pointer ?? zeros.pointer)
        for j in range { a[j] = g[j] * inv[j]; d[j] = b[j] - mu[j] * a[j] }
    }

    /// Forward fused with a following activation layer: `y = f(BN(x))`, f applied to each row
    /// while it is in L1 (a network runs BN → `ActivationLayer` this way; the BN-only output
    /// is then never materialized).
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                 activation: Activation) {
        guard let c = featureCount else { return }
        let rows = batch * rowsPerSample
        usedBatchStatistics = training && !isFrozen
        if let blocks = rowBlocks(rows: rows, features: c) {
            return forwardInRowBlocks(x, into: y, rows: rows, blocks: blocks, activation: activation)
        }
        let parts = stripParts(rows: rows, features: c)
        WorkerPool.shared.parallel(parts, ForwardStrips(layer: self, x: x, y: y, rows: rows, features: c,
                                                        activation: activation, parts: parts))
    }

    /// The forward pass for the features in `strip` (all rows).
    fileprivate func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int,
                             features strip: Range<Int>, activation: Activation) {
        guard featureCount != nil, movingMean != nil, !strip.isEmpty else { return }
        if usedBatchStatistics {
            // One pass over x: sums of d = x − x₀ and d² (shifted by the first row, so the
            // difference of moments does not cancel catastrophically when |μ| ≫ σ).
            let sum = sumDyXhat.pointer, squares = sumDy.pointer  // scratch until backward
            (sum + strip.lowerBound).update(repeating: 0, count: strip.count)
            (squares + strip.lowerBound).update(repeating: 0, count: strip.count)
            momentRows(1..<Swift.max(rows, 1), features: strip, x: x,
                       sum: sum + strip.lowerBound, squares: squares + strip.lowerBound)
            finishStatistics(sum: sum, squares: squares, first: x, rows: rows, features: strip)
        } else {
            inferenceStatistics(features: strip)
        }
        forwardCoefficients(features: strip)
        normalizeRows(0..<rows, features: strip, x: x, y: y, activation: activation)
    }

    // MARK: Row kernels (a range of rows × a range of features)

    /// Adds d = x − x₀ and d² of `rows` × `features` to `sum` and `squares` (indexed from the
    /// range's first feature), x₀ = the first row.
    func momentRows(_ rows: Range<Int>, features: Range<Int>, x: UnsafePointer<Float>,
                    sum: UnsafeMutablePointer<Float>, squares: UnsafeMutablePointer<Float>) {
        guard let c = featureCount else { return }
        let lower = features.lowerBound
        zoo_moments_rows(x + rows.lowerBound * c + lower, c, rows.count, x + lower, sum, squares, features.count)
    }

    /// y = f(x·a + d) for `rows` × `features`, a and d from `coefficients`.
    func normalizeRows(_ rows: Range<Int>, features: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                       activation: Activation) {
        guard let c = featureCount else { return }
        let lower = features.lowerBound, width = features.count
        let a = coefficients.pointer + lower, d = coefficients.pointer + c + lower
        let first = rows.lowerBound * c + lower
        if let bounds = activation.clampBounds {
            zoo_scale_shift_clamp_rows(x + first, y + first, c, rows.count, a, d, bounds.lower, bounds.upper, width)
        } else if activation == .linear {
            zoo_scale_shift_rows(x + first, y + first, c, rows.count, a, d, width)
        } else {
            for r in rows {
                let yr = y + r * c + lower
                zoo_scale_shift_rows(x + r * c + lower, yr, c, 1, a, d, width)
                activation.forward(yr, rows: 1, width: width)
            }
        }
    }

    /// The activation's gradient and, with `sums`, Σdy and Σdy·(x − μ) of the masked dy added to
    /// them (indexed from the range's first feature), for `rows` × `features`. With batch
    /// statistics and a clamp activation (ReLU, ReLU6) dy is left as it is: the clamp's mask is
    /// recomputed from x and the forward coefficients (lo < x·a + d < hi) here and again in
    /// `inputGradientRows`, which saves writing dy and reading y. Otherwise dy ← dy ⊙ f'(y) in place.
    func gradientRows(_ rows: Range<Int>, features: Range<Int>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                      dy: UnsafeMutablePointer<Float>, activation: Activation,
                      sums: (g: UnsafeMutablePointer<Float>, gx: UnsafeMutablePointer<Float>)?) {
        guard let c = featureCount else { return }
        let lower = features.lowerBound, width = features.count
        let mu = mean.pointer + lower, first = rows.lowerBound * c + lower
        let a = coefficients.pointer + lower, d = coefficients.pointer + c + lower
        switch (sums, activation.clampBounds) {
        case let (sums?, bounds?) where usedBatchStatistics:
            zoo_clamped_gradient_sums_rows(dy + first, x + first, c, rows.count, a, d, bounds.lower, bounds.upper, mu,
                                           sums.g, sums.gx, width)
        case let (sums?, nil) where activation == .linear:
            zoo_gradient_sums_rows(dy + first, x + first, c, rows.count, mu, sums.g, sums.gx, width)
        case let (sums?, bounds):
            for r in rows {
                let gr = dy + r * c + lower, yr = y + r * c + lower
                if let bounds {
                    zoo_clamp_gradient_rows(gr, yr, bounds.lower, bounds.upper, c, 1, width)
                } else {
                    activation.backward(gr, output: yr, rows: 1, width: width)
                }
                zoo_gradient_sums_rows(gr, x + r * c + lower, c, 1, mu, sums.g, sums.gx, width)
            }
        case let (nil, bounds?):
            zoo_clamp_gradient_rows(dy + first, y + first, bounds.lower, bounds.upper, c, rows.count, width)
        case (nil, nil):
            guard activation != .linear else { return }
            for r in rows { activation.backward(dy + r * c + lower, output: y + r * c + lower, rows: 1, width: width) }
        }
    }

    /// dx = a·dy + x·e + f (batch statistics; dy masked by a clamp activation's recomputed mask,
    /// see `gradientRows`) or a·dy (inference) for `rows` × `features`, a, d, e, f from
    /// `coefficients`.
    func inputGradientRows(_ rows: Range<Int>, features: Range<Int>, x: UnsafePointer<Float>,
                           dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, activation: Activation) {
        guard let c = featureCount else { return }
        let lower = features.lowerBound, width = features.count
        let a = coefficients.pointer + lower, d = coefficients.pointer + c + lower
        let e = coefficients.pointer + 2 * c + lower, f = coefficients.pointer + 3 * c + lower
        if usedBatchStatistics {
            let first = rows.lowerBound * c + lower
            if let bounds = activation.clampBounds {
                zoo_bn_clamped_input_gradient_rows(dy + first, x + first, dx + first, c, rows.count, a, d, bounds.lower,
                                                   bounds.upper, e, f, width)
            } else {
                zoo_bn_input_gradient_rows(dy + first, x + first, dx + first, c, rows.count, a, e, f, width)
            }
        } else {
            for r in rows {
                let gr = dy + r * c + lower, dr = dx + r * c + lower
                for j in 0..<width { dr[j] = gr[j] * a[j] }
            }
        }
    }

    /// Backward fused with a following activation layer: `dy` is dL/d f(BN(x)) (scratch
    /// afterwards: it may be overwritten with dL/dBN(x) = dy ⊙ f'(y), see `gradientRows`), `y`
    /// the activation output.
    func backward(
        input x: UnsafePointer<Float>, activationOutput y: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, activation: Activation,
        inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        guard let c = featureCount else { return }
        let rows = batch * rowsPerSample
        if let blocks = rowBlocks(rows: rows, features: c) {
            return backwardInRowBlocks(input: x, activationOutput: y, outputGradient: dy, activation: activation,
                                       inputGradient: dx, rows: rows, blocks: blocks)
        }
        let parts = stripParts(rows: rows, features: c)
        WorkerPool.shared.parallel(parts, BackwardStrips(layer: self, x: x, y: y, dy: dy, dx: dx, rows: rows, features: c,
                                                         activation: activation, parts: parts))
    }

    /// The backward pass for the features in `strip` (all rows).
    fileprivate func backward(
        input x: UnsafePointer<Float>, activationOutput y: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, activation: Activation,
        inputGradient dx: UnsafeMutablePointer<Float>?, rows: Int, features strip: Range<Int>
    ) {
        guard featureCount != nil, !strip.isEmpty else { return }
        let lower = strip.lowerBound, width = strip.count
        let sdy = sumDy.pointer + lower, sdyx = sumDyXhat.pointer + lower
        // Column sums feed dγ, dβ and the batch-statistics dx; a frozen layer needs none.
        // Σdy·x̂ = (Σdy·x − μ·Σdy)/σ, so x̂ is not recomputed per element.
        if needsGradientSums {
            sdy.update(repeating: 0, count: width)
            sdyx.update(repeating: 0, count: width)
            gradientRows(0..<rows, features: strip, x: x, y: y, dy: dy, activation: activation, sums: (sdy, sdyx))
            finishGradientSums(features: strip)
        } else {
            gradientRows(0..<rows, features: strip, x: x, y: y, dy: dy, activation: activation, sums: nil)
        }
        guard let dx else { return }
        inputGradientCoefficients(rows: rows, features: strip)
        inputGradientRows(0..<rows, features: strip, x: x, dy: dy, dx: dx, activation: activation)
    }

    /// Whether backward needs Σdy and Σdy·x̂: for dγ, dβ or the batch-statistics dx.
    var needsGradientSums: Bool {
        usedBatchStatistics || (gamma?.isTrainable ?? false) || (beta?.isTrainable ?? false)
    }

    /// Σdy·(x − μ) → Σdy·x̂ (times 1/σ) for the features in `range`, and dγ = Σdy·x̂, dβ = Σdy
    /// for the trainable ones.
    func finishGradientSums(features range: Range<Int>) {
        let inv = inverseStd.pointer, sdy = sumDy.pointer, sdyx = sumDyXhat.pointer
        for j in range { sdyx[j] *= inv[j] }
        if let gamma, gamma.isTrainable { (gamma.gradient.pointer + range.lowerBound).update(from: sdyx + range.lowerBound, count: range.count) }
        if let beta, beta.isTrainable { (beta.gradient.pointer + range.lowerBound).update(from: sdy + range.lowerBound, count: range.count) }
    }

    /// The per-feature coefficients of dx for the features in `range`, from the sums Σdy
    /// (`sumDy`) and Σdy·x̂ (`sumDyXhat`) over `rows` rows: with batch statistics
    /// dx = γ/(Nσ)·(N·dy − Σdy − x̂·Σdy·x̂) = a·dy + x·e + f with a = γ/σ,
    /// e = −a·Σdy·x̂/(Nσ), f = −a·Σdy/N − μ·e (in `coefficients` at 0, 2C, 3C); in inference
    /// mode dx = a·dy.
    func inputGradientCoefficients(rows: Int, features range: Range<Int>) {
        guard let c = featureCount else { return }
        let g = UnsafePointer(gamma?.value.pointer ?? ones.pointer)
        let a = coefficients.pointer, e = coefficients.pointer + 2 * c, f = coefficients.pointer + 3 * c
        let mu = mean.pointer, inv = inverseStd.pointer, sdy = sumDy.pointer, sdyx = sumDyXhat.pointer
        guard usedBatchStatistics else {
            for j in range { a[j] = g[j] * inv[j] }
            return
        }
        let scaleN = 1 / Float(rows)
        for j in range {
            a[j] = g[j] * inv[j]
            e[j] = -a[j] * inv[j] * sdyx[j] * scaleN
            f[j] = -a[j] * sdy[j] * scaleN - mu[j] * e[j]
        }
    }
}

/// The strip jobs of `BatchNorm`'s two passes (a part = a range of features, all rows).
private struct ForwardStrips: ParallelJob {
    unowned(unsafe) let layer: BatchNorm
    let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    let rows: Int, features: Int
    let activation: Activation
    let parts: Int

    func run(_ part: Int) {
        layer.forward(x, into: y, rows: rows, features: partRange(part, of: parts, count: features), activation: activation)
    }
}

private struct BackwardStrips: ParallelJob {
    unowned(unsafe) let layer: BatchNorm
    let x: UnsafePointer<Float>, y: UnsafePointer<Float>
    let dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?
    let rows: Int, features: Int
    let activation: Activation
    let parts: Int

    func run(_ part: Int) {
        layer.backward(input: x, activationOutput: y, outputGradient: dy, activation: activation, inputGradient: dx,
                       rows: rows, features: partRange(part, of: parts, count: features))
    }
}
