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

    private var normalized = FloatBuffer(count: 0)
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
        ones = FloatBuffer(one)
        zeros = FloatBuffer(zero)
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let c = featureCount, let movingMean, let movingVariance else { return }
        let rows = batch * rowsPerSample
        normalized.reserve(rows * c)
        let mu = mean.pointer, inv = inverseStd.pointer, xhat = normalized.pointer
        usedBatchStatistics = training && !isFrozen
        if usedBatchStatistics {
            let variance = sumDy.pointer  // scratch
            mu.update(repeating: 0, count: c)
            variance.update(repeating: 0, count: c)
            for r in 0..<rows { let row = x + r * c; for j in 0..<c { mu[j] += row[j] } }
            let scaleN = 1 / Float(rows)
            for j in 0..<c { mu[j] *= scaleN }
            for r in 0..<rows {
                let row = x + r * c
                for j in 0..<c { let d = row[j] - mu[j]; variance[j] += d * d }
            }
            let mm = movingMean.value.pointer, mv = movingVariance.value.pointer
            for j in 0..<c {
                variance[j] *= scaleN
                inv[j] = 1 / (variance[j] + epsilon).squareRoot()
                mm[j] = mm[j] * momentum + mu[j] * (1 - momentum)
                mv[j] = mv[j] * momentum + variance[j] * (1 - momentum)
            }
        } else {
            let mm = movingMean.value.pointer, mv = movingVariance.value.pointer
            for j in 0..<c {
                mu[j] = mm[j]
                inv[j] = 1 / (mv[j] + epsilon).squareRoot()
            }
        }
        let g = UnsafePointer(gamma?.value.pointer ?? ones.pointer)
        let b = UnsafePointer(beta?.value.pointer ?? zeros.pointer)
        for r in 0..<rows {
            let xr = x + r * c, hr = xhat + r * c, yr = y + r * c
            for j in 0..<c {
                let h = (xr[j] - mu[j]) * inv[j]
                hr[j] = h
                yr[j] = g[j] * h + b[j]
            }
        }
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let c = featureCount else { return }
        let rows = batch * rowsPerSample
        let xhat = normalized.pointer, inv = inverseStd.pointer
        let sdy = sumDy.pointer, sdyx = sumDyXhat.pointer
        let gammaTrainable = gamma?.isTrainable ?? false, betaTrainable = beta?.isTrainable ?? false
        // Column sums feed dγ, dβ and the batch-statistics dx; a frozen layer needs none.
        if usedBatchStatistics || gammaTrainable || betaTrainable {
            sdy.update(repeating: 0, count: c)
            sdyx.update(repeating: 0, count: c)
            for r in 0..<rows {
                let gr = dy + r * c, hr = xhat + r * c
                for j in 0..<c { sdy[j] += gr[j]; sdyx[j] += gr[j] * hr[j] }
            }
        }
        if let gamma, gammaTrainable { gamma.gradient.pointer.update(from: sdyx, count: c) }
        if let beta, betaTrainable { beta.gradient.pointer.update(from: sdy, count: c) }
        guard let dx else { return }
        let g = UnsafePointer(gamma?.value.pointer ?? ones.pointer)
        if usedBatchStatistics {
            let n = Float(rows), scaleN = 1 / Float(rows)
            for r in 0..<rows {
                let gr = dy + r * c, hr = xhat + r * c, dr = dx + r * c
                for j in 0..<c {
                    dr[j] = g[j] * inv[j] * scaleN * (n * gr[j] - sdy[j] - hr[j] * sdyx[j])
                }
            }
        } else {
            for r in 0..<rows {
                let gr = dy + r * c, dr = dx + r * c
                for j in 0..<c { dr[j] = gr[j] * g[j] * inv[j] }
            }
        }
    }
}
