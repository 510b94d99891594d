/// Keras 3 `Nadam`, t = iterations + 1, decay 0.96:
/// uₜ = β₁(1 − ½·0.96ᵗ), uₜ₊₁ = β₁(1 − ½·0.96ᵗ⁺¹), Πₜ = Π_{i≤t} uᵢ;
/// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
/// m̂ = uₜ₊₁m/(1 − Πₜuₜ₊₁) + (1 − uₜ)g/(1 − Πₜ); v̂ = v/(1 − β₂ᵗ); w ← w − lr·m̂/(√v̂ + ε).
public final class Nadam: Optimizer {
    /// β₁, the decay of the first moment, in [0, 1).
    public let beta1: Float
    /// β₂, the decay of the second moment, in [0, 1).
    public let beta2: Float
    /// ε, added to √v̂.
    public let epsilon: Float
    private var uProduct: Float = 1

    /// Nadam with Keras 3's defaults.
    /// - Parameters:
    ///   - learningRate: lr ≥ 0 (used when `schedule` is nil).
    ///   - beta1: β₁ in [0, 1).
    ///   - beta2: β₂ in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - schedule: a learning rate per step, instead of `learningRate`.
    ///   - clipValue: clip each gradient element to ±clipValue.
    ///   - clipNorm: clip each variable's gradient norm.
    ///   - globalClipNorm: clip the global norm of all gradients (at most one of the three clips).
    ///   - weightDecay: decoupled weight decay.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` for a β outside [0, 1), a negative rate or ε, or invalid clipping.
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                schedule: (any LearningRateSchedule)? = nil, clipValue: Float? = nil, clipNorm: Float? = nil,
                globalClipNorm: Float? = nil, weightDecay: Float? = nil) throws {
        guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1, epsilon >= 0 else {
            throw ZooNetError.invalidArgument("betas must be in [0, 1) and epsilon >= 0")
        }
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        try super.init(learningRate: learningRate, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm,
                       globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    override var slotCount: Int { 2 }

    override var scalarState: [String: Float] { ["u_product": uProduct] }

    override func restoreScalars(_ scalars: [String: Float]) throws {
        for (name, value) in scalars {
            guard name == "u_product" else {
                throw ZooNetError.invalidArgument("optimizer state: unknown scalar '\(name)' for Nadam")
            }
            uProduct = value
        }
    }

    override func prepareStep() {
        uProduct *= beta1 * (1 - 0.5 * _powf(0.96, Float(iterations + 1)))
    }

    override func update(_ variable: Variable, gradient g: UnsafeMutablePointer<Float>, learningRate lr: Float) {
        let w = variable.value.pointer
        let s = slots(variable, count: 2)
        let m = s[0].pointer, v = s[1].pointer
        let t = Float(iterations + 1)
        let uT = beta1 * (1 - 0.5 * _powf(0.96, t)), uNext = beta1 * (1 - 0.5 * _powf(0.96, t + 1))
        let productNext = uProduct * uNext, beta2Power = _powf(beta2, t)
        for i in 0..<variable.count {
            m[i] += (g[i] - m[i]) * (1 - beta1)
            v[i] += (g[i] * g[i] - v[i]) * (1 - beta2)
            let mHat = uNext * m[i] / (1 - productNext) + (1 - uT) * g[i] / (1 - uProduct)
            let vHat = v[i] / (1 - beta2Power)
            w[i] -= mHat * lr / (vHat.squareRoot() + epsilon)
        }
    }
}
