/// A learning rate as a function of the optimizer step (0-based `iterations`).
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for the optimizer's update number `step` (0-based).
    func learningRate(at step: Int) -> Float
}

/// Keras `ExponentialDecay`: lr₀ · rate^(step/decaySteps) (exponent floored if `staircase`).
public struct ExponentialDecay: LearningRateSchedule {
    /// lr₀, the rate at step 0.
    public let initialLearningRate: Float
    /// Steps per factor of `decayRate`.
    public let decaySteps: Int
    /// The factor per `decaySteps` steps.
    public let decayRate: Float
    /// Decay in whole steps of `decaySteps` (the exponent floored).
    public let staircase: Bool

    /// An exponential decay.
    /// - Parameters:
    ///   - initialLearningRate: lr₀.
    ///   - decaySteps: steps per factor of `decayRate`, > 0.
    ///   - decayRate: the factor.
    ///   - staircase: floor the exponent.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` when `decaySteps` is not positive.
    public init(initialLearningRate: Float, decaySteps: Int, decayRate: Float, staircase: Bool = false) throws {
        guard decaySteps > 0 else { throw ZooNetError.invalidArgument("decaySteps must be positive") }
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.decayRate = decayRate
        self.staircase = staircase
    }

    public func learningRate(at step: Int) -> Float {
        var p = Double(step) / Double(decaySteps)
        if staircase { p = _floor(p) }
        return initialLearningRate * Float(_pow(Double(decayRate), p))
    }
}

/// Keras `PiecewiseConstantDecay`: `values[0]` while step ≤ boundaries[0], `values[i+1]` while
/// boundaries[i] < step ≤ boundaries[i+1], `values.last` after the last boundary.
public struct PiecewiseConstantDecay: LearningRateSchedule {
    /// The steps where the rate changes, increasing.
    public let boundaries: [Int]
    /// The rates: one more than the boundaries.
    public let values: [Float]

    /// A piecewise constant schedule.
    /// - Parameters:
    ///   - boundaries: increasing steps.
    ///   - values: `boundaries.count + 1` rates.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` for boundaries that do not increase or a wrong count of values.
    public init(boundaries: [Int], values: [Float]) throws {
        guard values.count == boundaries.count + 1, zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ZooNetError.invalidArgument("need increasing boundaries and values.count == boundaries.count + 1")
        }
        self.boundaries = boundaries
        self.values = values
    }

    public func learningRate(at step: Int) -> Float {
        values[boundaries.firstIndex { step <= $0 } ?? boundaries.count]
    }
}

/// Power scheduling: lr₀ / (1 + rate·p)^power with p = step/decaySteps (floored if
/// `staircase`). With rate 1 this is Géron's lr₀/(1 + t/s)^c; with power 1 it is Keras'
/// `InverseTimeDecay(lr₀, decay_steps, decay_rate, staircase)` (see `inverseTime`).
public struct PowerDecay: LearningRateSchedule {
    /// lr₀, the rate at step 0.
    public let initialLearningRate: Float
    /// s in p = step/s.
    public let decaySteps: Double
    /// The rate in 1 + rate·p.
    public let decayRate: Double
    /// c, the exponent.
    public let power: Double
    /// Floor p.
    public let staircase: Bool

    /// A power decay lr₀ / (1 + rate·p)^power.
    /// - Parameters:
    ///   - initialLearningRate: lr₀.
    ///   - decaySteps: s > 0.
    ///   - decayRate: the rate.
    ///   - power: c.
    ///   - staircase: floor p.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` when `decaySteps` is not positive.
    public init(initialLearningRate: Float, decaySteps: Double, decayRate: Double = 1, power: Double = 1,
                staircase: Bool = false) throws {
        guard decaySteps > 0 else { throw ZooNetError.invalidArgument("decaySteps must be positive") }
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.decayRate = decayRate
        self.power = power
        self.staircase = staircase
    }

    /// Keras `InverseTimeDecay(initial, decay_steps, decay_rate, staircase)`.
    public static func inverseTime(initialLearningRate: Float, decaySteps: Int, decayRate: Double,
                                   staircase: Bool = false) throws -> PowerDecay {
        try PowerDecay(initialLearningRate: initialLearningRate, decaySteps: Double(decaySteps),
                       decayRate: decayRate, power: 1, staircase: staircase)
    }

    public func learningRate(at step: Int) -> Float {
        var p = Double(step) / decaySteps
        if staircase { p = _floor(p) }
        return initialLearningRate / Float(_pow(1 + decayRate * p, power))
    }
}

/// 1cycle (Smith 2018, as in Géron's `OneCycleScheduler`) over `totalSteps` steps:
/// with h = (total − last)/2, lr rises linearly start → max over h steps, falls max → start over
/// the next h, then start → lastRate over the remaining `last` steps; constant afterwards.
/// Defaults: start = max/10, last = total/10 + 1 steps, lastRate = start/1000.
public struct OneCycle: LearningRateSchedule {
    /// The steps of the whole cycle.
    public let totalSteps: Int
    /// The peak rate, reached at the end of the rise.
    public let maxLearningRate: Float
    /// The rate at step 0 and at the end of the fall.
    public let startLearningRate: Float
    /// The final steps that anneal from `startLearningRate` to `lastLearningRate`.
    public let lastSteps: Int
    /// The rate after the cycle.
    public let lastLearningRate: Float

    /// A 1cycle schedule.
    /// - Parameters:
    ///   - totalSteps: the cycle's steps, > `lastSteps`.
    ///   - maxLearningRate: the peak.
    ///   - startLearningRate: default max/10.
    ///   - lastSteps: default total/10 + 1.
    ///   - lastLearningRate: default start/1000.
    /// - Throws: ``ZooNetError/invalidArgument(_:)`` unless totalSteps > lastSteps ≥ 0.
    public init(totalSteps: Int, maxLearningRate: Float, startLearningRate: Float? = nil,
                lastSteps: Int? = nil, lastLearningRate: Float? = nil) throws {
        let start = startLearningRate ?? maxLearningRate / 10
        let last = lastSteps ?? totalSteps / 10 + 1
        guard totalSteps > 0, last >= 0, last < totalSteps else {
            throw ZooNetError.invalidArgument("need totalSteps > lastSteps >= 0")
        }
        self.totalSteps = totalSteps
        self.maxLearningRate = maxLearningRate
        self.startLearningRate = start
        self.lastSteps = last
        self.lastLearningRate = lastLearningRate ?? start / 1000
    }

    public func learningRate(at step: Int) -> Float {
        let half = (totalSteps - lastSteps) / 2
        func interpolate(_ from: Int, _ to: Int, _ a: Float, _ b: Float) -> Float {
            to == from ? b : a + (b - a) * Float(step - from) / Float(to - from)
        }
        if step < half { return interpolate(0, half, startLearningRate, maxLearningRate) }
        if step < 2 * half { return interpolate(half, 2 * half, maxLearningRate, startLearningRate) }
        if step < totalSteps { return interpolate(2 * half, totalSteps, startLearningRate, lastLearningRate) }
        return lastLearningRate
    }
}
