import ZooNet

/// The optimizer and its hyperparameters, with Keras' names and defaults.
public struct OptimizerSettings: Sendable, Codable, Equatable {
    /// The optimizers `make(totalSteps:)` builds (raw values: the CLI's and JSON's names).
    public enum Name: String, Sendable, Codable, CaseIterable {
        /// Plain stochastic gradient descent: w ← w − lr·g.
        case sgd
        /// SGD with momentum: v ← m·v − lr·g, w ← w + v.
        case momentum
        /// SGD with Nesterov momentum: w ← w + m·v − lr·g.
        case nesterov
        /// AdaGrad: per-variable rates lr / √(Σg² + ε).
        case adagrad
        /// RMSProp: lr / √(E[g²] + ε) with E[g²] decayed by `rho`.
        case rmsprop
        /// Adam (Kingma & Ba, 2014) with `beta1`, `beta2`, `epsilon`.
        case adam
        /// AdamW: Adam with decoupled weight decay `weightDecay`.
        case adamw
        /// Nadam: Adam with Nesterov momentum.
        case nadam
    }

    /// Learning-rate schedules: `exponential` decays by `decayRate` every `decaySteps`, `power`
    /// is inverse-time decay, `oneCycle` (`1cycle`) spans the whole training.
    public enum Schedule: String, Sendable, Codable, CaseIterable {
        /// The learning rate stays `learningRate`.
        case constant
        /// lr(t) = learningRate · decayRate^(t / decaySteps).
        case exponential
        /// lr(t) = learningRate / (1 + decayRate · t / decaySteps).
        case power
        /// Smith's 1cycle: up to `learningRate` and back down over all the training steps.
        case oneCycle = "1cycle"
    }

    /// Which optimizer.
    public var name = Name.adam
    /// The (initial) learning rate, finite and ≥ 0.
    public var learningRate: Float = 0.001
    /// Momentum of `momentum` and `nesterov`, in [0, 1].
    public var momentum: Float = 0.9
    /// Adam's, AdamW's and Nadam's decay of the first moment.
    public var beta1: Float = 0.9
    /// Adam's, AdamW's and Nadam's decay of the second moment.
    public var beta2: Float = 0.999
    /// RMSProp's decay of the squared-gradient average.
    public var rho: Float = 0.9
    /// The small constant added to denominators.
    public var epsilon: Float = 1e-7
    /// AdamW's decoupled weight decay.
    public var weightDecay: Float = 0.004
    /// The learning-rate schedule.
    public var schedule = Schedule.constant
    /// Steps per decay of the exponential and power schedules (≥ 1).
    public var decaySteps = 1000
    /// Decay rate of the exponential (> 0) and power (≥ 0) schedules.
    public var decayRate: Float = 0.1
    /// Clip each gradient element to ±clipValue (> 0).
    public var clipValue: Float?
    /// Rescale each gradient whose L2 norm exceeds clipNorm (> 0).
    public var clipNorm: Float?
    /// Rescale all gradients together when their global L2 norm exceeds this (> 0).
    public var globalClipNorm: Float?

    /// Keras' Adam: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7, no schedule, no clipping.
    public init() {}

    /// Checks every hyperparameter, before an optimizer is built.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` naming the first one out of range.
    public func validate() throws {
        func check(_ setting: ZooKitError.Setting, _ value: Float, _ valid: Bool, _ range: String) throws {
            guard valid else { throw ZooKitError.invalidSetting(setting, problem: "must be \(range), not \(value)") }
        }
        try check(.learningRate, learningRate, learningRate >= 0 && learningRate.isFinite, "a finite number ≥ 0")
        if name == .momentum || name == .nesterov { try check(.momentum, momentum, momentum >= 0 && momentum <= 1, "in [0, 1]") }
        switch schedule {
        case .exponential, .power:
            guard decaySteps > 0 else { throw ZooKitError.invalidSetting(.decaySteps, problem: "must be positive, not \(decaySteps)") }
            let positive = schedule == .exponential
            try check(.decayRate, decayRate, decayRate.isFinite && (positive ? decayRate > 0 : decayRate >= 0), positive ? "a finite number > 0" : "a finite number ≥ 0")
        case .constant, .oneCycle: break
        }
        for (setting, value) in [(ZooKitError.Setting.clipValue, clipValue), (.clipNorm, clipNorm), (.globalClipNorm, globalClipNorm)] {
            if let value { try check(setting, value, value > 0 && value.isFinite, "a finite number > 0") }
        }
    }

    /// A fresh optimizer.
    /// - Parameter totalSteps: the optimizer steps of the whole training (sizes the 1cycle schedule).
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` for a hyperparameter out of range.
    public func make(totalSteps: Int) throws -> Optimizer {
        try validate()
        do {
            var schedule: (any LearningRateSchedule)?
            switch self.schedule {
            case .constant: schedule = nil
            case .exponential: schedule = try ExponentialDecay(initialLearningRate: learningRate, decaySteps: decaySteps, decayRate: decayRate)
            case .power: schedule = try PowerDecay(initialLearningRate: learningRate, decaySteps: Double(decaySteps), decayRate: Double(decayRate))
            case .oneCycle: schedule = try OneCycle(totalSteps: max(totalSteps, 2), maxLearningRate: learningRate)
            }
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
            throw ZooKitError.invalidSetting(.optimizer, problem: "\(name.rawValue): \(error)")
        }
    }
}
