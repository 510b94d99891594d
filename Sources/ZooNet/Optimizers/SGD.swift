/// Stochastic gradient descent with optional (Nesterov) momentum (Keras `SGD`).
///
/// - momentum = 0: w ← w − lr·g
/// - momentum μ > 0: m ← μ·m − lr·g; then w ← w + m, or with `nesterov`
///   w ← w + μ·m − lr·g (m starts at 0).
public final class SGD: Optimizer {
    /// μ in [0, 1]; 0 for plain SGD.
    public let momentum: Float
    /// Whether the update looks ahead (Nesterov momentum).
    public let nesterov: Bool

    /// SGD with Keras' defaults (lr 0.01, no momentum).
    /// - Parameters:
    ///   - learningRate: lr ≥ 0 (used when `schedule` is nil).
    ///   - momentum: μ in [0, 1].
    ///   - nesterov: Nesterov momentum.
    ///   - schedule: a learning rate per step, instead of `learningRate`.
    ///   - clipValue: clip each gradient element to ±clipValue.
    ///   - clipNorm: clip each variable's gradient norm.
    ///   - globalClipNorm: clip the global norm of all gradients (at most one of the three clips).
    ///   - weightDecay: decoupled weight decay.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` for μ outside [0, 1], a negative rate, or invalid clipping.
    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false,
                schedule: (any LearningRateSchedule)? = nil, clipValue: Float? = nil, clipNorm: Float? = nil,
                globalClipNorm: Float? = nil, weightDecay: Float? = nil) throws {
        guard momentum >= 0, momentum <= 1 else { throw ZooNetError.invalidArgument("momentum must be in [0, 1]") }
        self.momentum = momentum
        self.nesterov = nesterov
        try super.init(learningRate: learningRate, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm,
                       globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    override var slotCount: Int { 1 }

    override func update(_ variable: Variable, gradient g: UnsafeMutablePointer<Float>, learningRate lr: Float) {
        let w = variable.value.pointer, n = variable.count
        guard momentum != 0 else {
            for i in 0..<n { w[i] -= g[i] * lr }
            return
        }
        let m = slots(variable, count: 1)[0].pointer, mu = momentum
        for i in 0..<n {
            m[i] = m[i] * mu - g[i] * lr
            w[i] += nesterov ? m[i] * mu - g[i] * lr : m[i]
        }
    }
}
