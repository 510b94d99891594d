/// Keras `Adagrad`: acc ← acc + g²; w ← w − lr·g / √(acc + ε); acc starts at
/// `initialAccumulatorValue` (0.1), ε = 1e-7.
public final class AdaGrad: Optimizer {
    /// The accumulator's starting value (Keras: 0.1).
    public let initialAccumulatorValue: Float
    /// ε in the denominator √(acc + ε).
    public let epsilon: Float

    /// AdaGrad with Keras' defaults.
    /// - Parameters:
    ///   - learningRate: lr ≥ 0 (used when `schedule` is nil).
    ///   - initialAccumulatorValue: acc's start, ≥ 0.
    ///   - epsilon: ε ≥ 0.
    ///   - schedule: a learning rate per step, instead of `learningRate`.
    ///   - clipValue: clip each gradient element to ±clipValue.
    ///   - clipNorm: clip each variable's gradient norm.
    ///   - globalClipNorm: clip the global norm of all gradients (at most one of the three clips).
    ///   - weightDecay: decoupled weight decay.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` for a negative rate, accumulator or ε, more than one clip, or a non-positive clip.
    public init(learningRate: Float = 0.001, initialAccumulatorValue: Float = 0.1, epsilon: Float = 1e-7,
                schedule: (any LearningRateSchedule)? = nil, clipValue: Float? = nil, clipNorm: Float? = nil,
                globalClipNorm: Float? = nil, weightDecay: Float? = nil) throws {
        guard initialAccumulatorValue >= 0, epsilon >= 0 else {
            throw ZooNetError.invalidArgument("initialAccumulatorValue and epsilon must be >= 0")
        }
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        try super.init(learningRate: learningRate, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm,
                       globalClipNorm: globalClipNorm, weightDecay: weightDecay)
    }

    override var slotCount: Int { 1 }

    override func update(_ variable: Variable, gradient g: UnsafeMutablePointer<Float>, learningRate lr: Float) {
        let w = variable.value.pointer
        let acc = slots(variable, count: 1, initial: initialAccumulatorValue)[0].pointer
        for i in 0..<variable.count {
            acc[i] += g[i] * g[i]
            w[i] -= lr * g[i] / (acc[i] + epsilon).squareRoot()
        }
    }
}
