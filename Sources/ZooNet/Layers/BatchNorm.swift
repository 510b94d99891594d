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
    public private(set) var featureCount: Int?
    public let momentum: Float
    public let epsilon: Float
    public let center: Bool
    public let scale: Bool

    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?
    public private(set) var movingMean: Variable?
    public private(set) var movingVariance: Variable?
    public var variables: [Variable] { [gamma, beta, movingMean, movingVariance].compactMap { $0 } }

    /// Per-feature coefficients of the fused forward / backward passes (3 × C).
    private var coefficients = FloatBuffer(count: 0)
    private var inverseStd = FloatBuffer(count: 0)
    private var mean = FloatBuffer(count: 0)
    private var sumDy = FloatBuffer(count: 0)
    private var sumDyXhat = FloatBuffer(count: 0)
    private var ones = FloatBuffer(count: 0)
    private var zeros = FloatBuffer(count: 0)
    private var usedBatchStatistics = false
    private var rowsPerSample = 1

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
        coefficients.reserve(3 * c)
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

    /// Forward fused with a following activation layer: `y = f(BN(x))`, f applied to each row
    /// while it is in L1 (a network runs BN → `ActivationLayer` this way; the BN-only output
    /// is then never materialized).
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool,
                 activation: Activation) {
        guard let c = featureCount else { return }
        let rows = batch * rowsPerSample
        usedBatchStatistics = training && !isFrozen
        let parts = stripParts(rows: rows, features: c)
        WorkerPool.shared.parallel(parts, ForwardStrips(layer: self, x: x, y: y, rows: rows, features: c,
                                                        activation: activation, parts: parts))
    }

    /// The forward pass for the features in `strip` (all rows).
    fileprivate func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int,
                         features strip: Range<Int>, activation: Activation) {
        guard let c = featureCount, let movingMean, let movingVariance, !strip.isEmpty else { return }
        let mu = mean.pointer, inv = inverseStd.pointer
        let mm = movingMean.value.pointer, mv = movingVariance.value.pointer
        let lower = strip.lowerBound, width = strip.count
        if usedBatchStatistics {
            // One pass over x: sums of d = x − x₀ and d² (shifted by the first row, so the
            // difference of moments does not cancel catastrophically when |μ| ≫ σ).
            let variance = sumDy.pointer + lower, sum = sumDyXhat.pointer + lower  // scratch
            let first = x + lower
            sum.update(repeating: 0, count: width)
            variance.update(repeating: 0, count: width)
            for r in 1..<Swift.max(rows, 1) {
                zoo_moments_row(x + r * c + lower, first, sum, variance, width)
            }
            let scaleN = 1 / Float(rows)
            for j in strip {
                let shiftedMean = sum[j - lower] * scaleN
                let v = Swift.max(variance[j - lower] * scaleN - shiftedMean * shiftedMean, 0)
                mu[j] = x[j] + shiftedMean
                inv[j] = 1 / (v + epsilon).squareRoot()
                mm[j] = mm[j] * momentum + mu[j] * (1 - momentum)
                mv[j] = mv[j] * momentum + v * (1 - momentum)
            }
        } else {
            for j in strip {
                mu[j] = mm[j]
                inv[j] = 1 / (mv[j] + epsilon).squareRoot()
            }
        }
        // y = γ(x − μ)/σ + β = x·a + d with per-feature a = γ/σ, d = β − μ·a. x̂ is not stored:
        // backward recomputes it from the layer's input.
        let a = coefficients.pointer, d = coefficients.pointer + c
        let g = UnsafePointer(gamma?.value.pointer ?? ones.pointer)
        let b = UnsafePointer(beta?.value.pointer ?? zeros.pointer)
        for j in strip { a[j] = g[j] * inv[j]; d[j] = b[j] - mu[j] * a[j] }
        let ar = a + lower, dr = d + lower
        for r in 0..<rows {
            let yr = y + r * c + lower
            zoo_scale_shift_row(x + r * c + lower, yr, ar, dr, width)
            if activation != .linear { activation.forward(yr, rows: 1, width: width) }
        }
    }

    /// Backward fused with a following activation layer: `dy` is dL/d f(BN(x)) (overwritten
    /// with dL/dBN(x) = dy ⊙ f'(y), row by row inside the column-sum pass), `y` the activation
    /// output.
    func backward(
        input x: UnsafePointer<Float>, activationOutput y: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, activation: Activation,
        inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int
    ) {
        guard let c = featureCount else { return }
        let rows = batch * rowsPerSample
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
        guard let c = featureCount, !strip.isEmpty else { return }
        let lower = strip.lowerBound, width = strip.count
        let mu = mean.pointer + lower, inv = inverseStd.pointer + lower
        let sdy = sumDy.pointer + lower, sdyx = sumDyXhat.pointer + lower
        let gammaTrainable = gamma?.isTrainable ?? false, betaTrainable = beta?.isTrainable ?? false
        // Column sums feed dγ, dβ and the batch-statistics dx; a frozen layer needs none.
        // Σdy·x̂ = (Σdy·x − μ·Σdy)/σ, so x̂ is not recomputed per element.
        if usedBatchStatistics || gammaTrainable || betaTrainable {
            sdy.update(repeating: 0, count: width)
            sdyx.update(repeating: 0, count: width)
            for r in 0..<rows {
                let gr = dy + r * c + lower
                if activation != .linear { activation.backward(gr, output: y + r * c + lower, rows: 1, width: width) }
                zoo_gradient_sums_row(gr, x + r * c + lower, mu, sdy, sdyx, width)
            }
            for j in 0..<width { sdyx[j] *= inv[j] }
        } else if activation != .linear {
            for r in 0..<rows {
                activation.backward(dy + r * c + lower, output: y + r * c + lower, rows: 1, width: width)
            }
        }
        if let gamma, gammaTrainable { (gamma.gradient.pointer + lower).update(from: sdyx, count: width) }
        if let beta, betaTrainable { (beta.gradient.pointer + lower).update(from: sdy, count: width) }
        guard let dx else { return }
        let g = UnsafePointer(gamma?.value.pointer ?? ones.pointer) + lower
        let a = coefficients.pointer + lower, e = coefficients.pointer + c + lower, f = coefficients.pointer + 2 * c + lower
        if usedBatchStatistics {
            // dx = γ/(Nσ)·(N·dy − Σdy − x̂·Σdy·x̂) = a·dy + (x − μ)·e + f per feature.
            let scaleN = 1 / Float(rows)
            for j in 0..<width {
                a[j] = g[j] * inv[j]
                e[j] = -a[j] * inv[j] * sdyx[j] * scaleN
                f[j] = -a[j] * sdy[j] * scaleN - mu[j] * e[j]
            }
            for r in 0..<rows {
                zoo_bn_input_gradient_row(dy + r * c + lower, x + r * c + lower, dx + r * c + lower, a, e, f, width)
            }
        } else {
            for j in 0..<width { a[j] = g[j] * inv[j] }
            for r in 0..<rows {
                let gr = dy + r * c + lower, dr = dx + r * c + lower
                for j in 0..<width { dr[j] = gr[j] * a[j] }
            }
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
