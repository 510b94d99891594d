import CZooKernels

/// Keras 3 `Adam` (and `AdamW` via `weightDecay`), t = iterations + 1:
///
/// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
/// α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); w ← w − α·m / (√v + ε)   (ε outside the bias correction,
/// i.e. "epsilon hat"). With `amsgrad`, v̂ ← max(v̂, v) replaces v in the denominator.
public class Adam: Optimizer {
    /// β₁, the decay of the first moment m, in [0, 1).
    public let beta1: Float
    /// β₂, the decay of the second moment v, in [0, 1).
    public let beta2: Float
    /// ε, added to √v.
    public let epsilon: Float
    /// Whether the denominator uses the running maximum v̂ of v (AMSGrad).
    public let amsgrad: Bool

    /// Adam with Keras 3's defaults.
    /// - Parameters:
    ///   - learningRate: lr ≥ 0 (used when `schedule` is nil).
    ///   - beta1: β₁ in [0, 1).
    ///   - beta2: β₂ in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - amsgrad: use v̂ = max(v̂, v).
    ///   - schedule: a learning rate per step, instead of `learningRate`.
    ///   - clipValue: clip each gradient element to ±clipValue.
    ///   - clipNorm: clip each variable's gradient norm.
    ///   - globalClipNorm: clip the global norm of all gradients (at most one of the three clips).
    ///   - weightDecay: decoupled weight decay (``AdamW``).
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` for a β outside [0, 1), a negative rate or ε, or invalid clipping.
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                amsgrad: Bool = false, schedule: (any LearningRateSchedule)? = nil, clipValue: Float? = nil,
                clipNorm: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) throws {
        guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1, epsilon >= 0 else {
            throw ZooNetError.invalidArgument("betas must be in [0, 1) and epsilon >= 0")
        }
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        try super.init(learningRate: learningRate, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm,
                       globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    override var slotCount: Int { amsgrad ? 3 : 2 }

    override func update(_ variable: Variable, gradient g: UnsafeMutablePointer<Float>, learningRate lr: Float) {
        let w = variable.value.pointer
        let s = slots(variable, count: amsgrad ? 3 : 2)
        let m = s[0].pointer, v = s[1].pointer
        let t = Float(iterations + 1)
        let alpha = lr * (1 - _powf(beta2, t)).squareRoot() / (1 - _powf(beta1, t))
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2, eps = epsilon
        if amsgrad {
            let vHat = s[2].pointer
            for i in 0..<variable.count {
                m[i] += (g[i] - m[i]) * oneMinusBeta1
                v[i] += (g[i] * g[i] - v[i]) * oneMinusBeta2
                vHat[i] = Swift.max(vHat[i], v[i])
                w[i] -= m[i] * alpha / (vHat[i].squareRoot() + eps)
            }
        } else {
            let pool = WorkerPool.shared, count = variable.count
            let parts = pool.parts(work: count, grain: WorkerPool.elementGrain)
            pool.parallel(parts, AdamStep(w: w, g: g, m: m, v: v, alpha: alpha, oneMinusBeta1: oneMinusBeta1,
                                          oneMinusBeta2: oneMinusBeta2, epsilon: eps, count: count, parts: parts))
        }
    }
}

/// The (non-AMSGrad) Adam update of one variable, a contiguous range of elements per part.
struct AdamStep: ParallelJob {
    let w: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
    let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let alpha: Float, oneMinusBeta1: Float, oneMinusBeta2: Float, epsilon: Float
    let count: Int, parts: Int

    func run(_ part: Int) { apply(partRange(part, of: parts, count: count)) }

    /// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂); w ← w − α·m/(√v + ε), one pass
    /// (`zoo_adam`: 8 lanes with AVX2).
    func apply(_ range: Range<Int>) {
        let i = range.lowerBound
        zoo_adam(w + i, g + i, m + i, v + i, range.count, alpha, oneMinusBeta1, oneMinusBeta2, epsilon)
    }
}

/// Keras 3 `AdamW`: Adam with decoupled weight decay w ← w − w·wd·lr applied before the Adam
/// step (default wd = 0.004).
public final class AdamW: Adam {
    /// AdamW with Keras 3's defaults (weight decay 0.004).
    /// - Parameters:
    ///   - learningRate: lr ≥ 0 (used when `schedule` is nil).
    ///   - weightDecay: wd ≥ 0; w ← w − w·wd·lr before each Adam step.
    ///   - beta1: β₁ in [0, 1).
    ///   - beta2: β₂ in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - amsgrad: use v̂ = max(v̂, v).
    ///   - schedule: a learning rate per step, instead of `learningRate`.
    ///   - clipValue: clip each gradient element to ±clipValue.
    ///   - clipNorm: clip each variable's gradient norm.
    ///   - globalClipNorm: clip the global norm of all gradients (at most one of the three clips).
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` as ``Adam``.
    public init(learningRate: Float = 0.001, weightDecay: Float = 0.004, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-7, amsgrad: Bool = false, schedule: (any LearningRateSchedule)? = nil,
                clipValue: Float? = nil, clipNorm: Float? = nil, globalClipNorm: Float? = nil) throws {
        try super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad,
                       schedule: schedule, clipValue: clipValue, clipNorm: clipNorm,
                       globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }
}
