/// Keras `RMSprop`: v ← ρv + (1 − ρ)g²; (centered: a ← ρa + (1 − ρ)g, denominator v − a²);
/// Δ = lr·g / √(denominator + ε); with momentum μ: m ← μm + Δ, w ← w − m; else w ← w − Δ.
public final class RMSProp: Optimizer {
    /// ρ, the decay of the mean square, in [0, 1).
    public let rho: Float
    /// μ ≥ 0; 0 for no momentum.
    public let momentum: Float
    /// ε in √(denominator + ε).
    public let epsilon: Float
    /// Whether the denominator is the variance v − a² (centered) instead of v.
    public let centered: Bool

    /// RMSProp with Keras' defaults.
    /// - Parameters:
    ///   - learningRate: lr ≥ 0 (used when `schedule` is nil).
    ///   - rho: ρ in [0, 1).
    ///   - momentum: μ ≥ 0.
    ///   - epsilon: ε ≥ 0.
    ///   - centered: divide by the centered second moment.
    ///   - schedule: a learning rate per step, instead of `learningRate`.
    ///   - clipValue: clip each gradient element to ±clipValue.
    ///   - clipNorm: clip each variable's gradient norm.
    ///   - globalClipNorm: clip the global norm of all gradients (at most one of the three clips).
    ///   - weightDecay: decoupled weight decay.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` for ρ outside [0, 1), a negative μ, rate or ε, or invalid clipping.
    public init(learningRate: Float = 0.001, rho: Float = 0.9, momentum: Float = 0, epsilon: Float = 1e-7,
                centered: Bool = false, schedule: (any LearningRateSchedule)? = nil, clipValue: Float? = nil,
                clipNorm: Float? = nil, globalClipNorm: Float? = nil, weightDecay: Float? = nil) throws {
        guard rho >= 0, rho < 1, momentum >= 0, epsilon >= 0 else {
            throw ZooNetError.invalidArgument("rho must be in [0, 1), momentum and epsilon >= 0")
        }
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        try super.init(learningRate: learningRate, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm,
                       globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    override var slotCount: Int { 3 }

    override func update(_ variable: Variable, gradient g: UnsafeMutablePointer<Float>, learningRate lr: Float) {
        let w = variable.value.pointer
        let s = slots(variable, count: 3)
        let v = s[0].pointer, m = s[1].pointer, a = s[2].pointer
        for i in 0..<variable.count {
            v[i] = rho * v[i] + (1 - rho) * g[i] * g[i]
            var denominator = v[i]
            if centered {
                a[i] = rho * a[i] + (1 - rho) * g[i]
                denominator -= a[i] * a[i]
            }
            let increment = lr * g[i] / (denominator + epsilon).squareRoot()
            if momentum > 0 {
                m[i] = momentum * m[i] + increment
                w[i] -= m[i]
            } else {
                w[i] -= increment
            }
        }
    }
}
