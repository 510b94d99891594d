/// Keras `Adagrad`: acc ← acc + g²; w ← w − lr·g / √(acc + ε); acc starts at
/// `initialAccumulatorValue` (0.1), ε = 1e-7.
public final class AdaGrad: Optimizer {
    public let initialAccumulatorValue: Float
    public let epsilon: Float

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
