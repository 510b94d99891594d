import ZooNet

/// The optimizer and its hyperparameters, with Keras' names and defaults.
public struct OptimizerSettings: Sendable, Codable, Equatable {
    /// The optimizers `make(totalSteps:)` builds (raw values: the CLI's and JSON's names).
    public enum Name: String, Sendable, Codable, CaseIterable {
        case sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw, nadam
    }

    /// Learning-rate schedules: `exponential` decays by `decayRate` every `decaySteps`, `power`
    /// is inverse-time decay, `oneCycle` (`1cycle`) spans the whole training.
    public enum Schedule: String, Sendable, Codable, CaseIterable {
        case constant, exponential, power
        case oneCycle = "1cycle"
    }

    public var name = Name.adam
    public var learningRate: Float = 0.001
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var rho: Float = 0.9
    public var epsilon: Float = 1e-7
    public var weightDecay: Float = 0.004
    public var schedule = Schedule.constant
    public var decaySteps = 1000
    public var decayRate: Float = 0.1
    public var clipValue: Float?
    public var clipNorm: Float?
    public var globalClipNorm: Float?

    public init() {}

    /// A fresh optimizer; `totalSteps` sizes the 1cycle schedule.
    public func make(totalSteps: Int) throws -> Optimizer {
        var schedule: (any LearningRateSchedule)?
        switch self.schedule {
        case .constant: schedule = nil
        case .exponential: schedule = try ExponentialDecay(initialLearningRate: learningRate, decaySteps: decaySteps, decayRate: decayRate)
        case .power: schedule = try PowerDecay(initialLearningRate: learningRate, decaySteps: Double(decaySteps), decayRate: Double(decayRate))
        case .oneCycle: schedule = try OneCycle(totalSteps: max(totalSteps, 2), maxLearningRate: learningRate)
        }
        do {
            switch name {
            case .sgd: return try SGD(learningRate: learningRate, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            case .momentum: return try SGD(learningRate: learningRate, momentum: momentum, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            case .nesterov: return try SGD(learningRate: learningRate, momentum: momentum, nesterov: true, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            case .adagrad: return try AdaGrad(learningRate: learningRate, epsilon: epsilon, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            case .rmsprop: return try RMSProp(learningRate: learningRate, rho: rho, epsilon: epsilon, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            case .adam: return try Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            case .adamw: return try AdamW(learningRate: learningRate, weightDecay: weightDecay, beta1: beta1, beta2: beta2, epsilon: epsilon, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            case .nadam: return try Nadam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, schedule: schedule, clipValue: clipValue, clipNorm: clipNorm, globalClipNorm: globalClipNorm)
            }
        } catch let error as ZooNetError {
            throw ZooKitError.invalidRequest("optimizer \(name.rawValue): \(error)")
        }
    }
}
