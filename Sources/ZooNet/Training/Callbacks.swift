/// What a callback asks of the training loop after an epoch.
public enum CallbackAction: Sendable { case proceed, stop }

/// The network and optimizer being trained, handed to callbacks.
public struct TrainingContext {
    public let network: Network
    public let optimizer: Optimizer
}

/// Hooks run by `Network.fit`. All methods have empty defaults.
public protocol Callback: AnyObject {
    func trainingWillBegin(_ context: TrainingContext) throws
    func epochDidEnd(_ metrics: EpochMetrics, context: TrainingContext) throws -> CallbackAction
    func trainingDidEnd(_ context: TrainingContext) throws
}

extension Callback {
    public func trainingWillBegin(_ context: TrainingContext) throws {}
    public func epochDidEnd(_ metrics: EpochMetrics, context: TrainingContext) throws -> CallbackAction { .proceed }
    public func trainingDidEnd(_ context: TrainingContext) throws {}
}

/// A metric watched by callbacks; accuracies are maximized, losses minimized.
public enum Monitor: Sendable {
    case loss, accuracy, validationLoss, validationAccuracy

    var maximizes: Bool { self == .accuracy || self == .validationAccuracy }

    func value(in m: EpochMetrics) -> Double? {
        switch self {
        case .loss: return m.loss
        case .accuracy: return m.accuracy
        case .validationLoss: return m.validationLoss
        case .validationAccuracy: return m.validationAccuracy
        }
    }

    /// Keras `monitor_op`: `current` improves on `best` by more than `minDelta`.
    func improves(_ current: Double, on best: Double?, minDelta: Double) -> Bool {
        guard let best else { return true }
        return maximizes ? current - minDelta > best : current + minDelta < best
    }
}

/// Keras `EarlyStopping`: stops when `monitor` has not improved by more than `minDelta` for
/// `patience` epochs; with `restoreBestWeights`, the variables of the best epoch are assigned
/// back when stopping (and at the end of training if it ran out of epochs).
public final class EarlyStopping: Callback {
    public let monitor: Monitor, minDelta: Double, patience: Int, restoreBestWeights: Bool
    public private(set) var bestEpoch: Int?
    public private(set) var stoppedEpoch: Int?
    private var best: Double?
    private var wait = 0
    private var bestWeights: [VariableSnapshot]?

    public init(monitor: Monitor = .validationLoss, minDelta: Double = 0, patience: Int = 0,
                restoreBestWeights: Bool = false) {
        self.monitor = monitor
        self.minDelta = abs(minDelta)
        self.patience = patience
        self.restoreBestWeights = restoreBestWeights
    }

    public func trainingWillBegin(_ context: TrainingContext) throws {
        best = nil; wait = 0; bestWeights = nil; bestEpoch = nil; stoppedEpoch = nil
    }

    public func epochDidEnd(_ metrics: EpochMetrics, context: TrainingContext) throws -> CallbackAction {
        guard let current = monitor.value(in: metrics) else {
            throw ZooNetError.invalidArgument("EarlyStopping: metric \(monitor) is not available")
        }
        wait += 1
        if monitor.improves(current, on: best, minDelta: minDelta) {
            best = current
            bestEpoch = metrics.epoch
            wait = 0
            if restoreBestWeights { bestWeights = context.network.snapshots }
            return .proceed
        }
        guard wait >= patience, metrics.epoch > 0 else { return .proceed }
        stoppedEpoch = metrics.epoch
        if let bestWeights { try context.network.assign(bestWeights) }
        return .stop
    }

    public func trainingDidEnd(_ context: TrainingContext) throws {
        if stoppedEpoch == nil, let bestWeights { try context.network.assign(bestWeights) }
    }
}

/// Keras `ModelCheckpoint` without files (ZooNet has no formats): after each epoch (or only when
/// `monitor` improves, with `saveBestOnly`), hands the epoch and all variable snapshots to
/// `save`, which may write them with a format module.
public final class ModelCheckpoint: Callback {
    public let monitor: Monitor, saveBestOnly: Bool
    private let save: (Int, [VariableSnapshot]) throws -> Void
    private var best: Double?

    public init(monitor: Monitor = .validationLoss, saveBestOnly: Bool = false,
                save: @escaping (_ epoch: Int, _ variables: [VariableSnapshot]) throws -> Void) {
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.save = save
    }

    public func epochDidEnd(_ metrics: EpochMetrics, context: TrainingContext) throws -> CallbackAction {
        if saveBestOnly {
            guard let current = monitor.value(in: metrics) else {
                throw ZooNetError.invalidArgument("ModelCheckpoint: metric \(monitor) is not available")
            }
            guard monitor.improves(current, on: best, minDelta: 0) else { return .proceed }
            best = current
        }
        try save(metrics.epoch, context.network.snapshots)
        return .proceed
    }
}

/// Keras `ReduceLROnPlateau`: after `patience` epochs without an improvement larger than
/// `minDelta`, lr ← max(lr·factor, minLearningRate), then waits `cooldown` epochs.
/// Acts on `optimizer.learningRate`; throws if the optimizer uses a schedule.
public final class ReduceLROnPlateau: Callback {
    public let monitor: Monitor, factor: Float, patience: Int, minDelta: Double, cooldown: Int
    public let minLearningRate: Float
    private var best: Double?
    private var wait = 0
    private var cooldownCounter = 0

    public init(monitor: Monitor = .validationLoss, factor: Float = 0.1, patience: Int = 10,
                minDelta: Double = 1e-4, cooldown: Int = 0, minLearningRate: Float = 0) throws {
        guard factor < 1, factor >= 0 else { throw ZooNetError.invalidArgument("factor must be in [0, 1)") }
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.minDelta = minDelta
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
    }

    public func trainingWillBegin(_ context: TrainingContext) throws {
        guard context.optimizer.schedule == nil else {
            throw ZooNetError.invalidArgument("ReduceLROnPlateau needs an optimizer without a schedule")
        }
        best = nil; wait = 0; cooldownCounter = 0
    }

    public func epochDidEnd(_ metrics: EpochMetrics, context: TrainingContext) throws -> CallbackAction {
        guard let current = monitor.value(in: metrics) else {
            throw ZooNetError.invalidArgument("ReduceLROnPlateau: metric \(monitor) is not available")
        }
        if cooldownCounter > 0 { cooldownCounter -= 1; wait = 0 }
        if monitor.improves(current, on: best, minDelta: minDelta) {
            best = current
            wait = 0
        } else if cooldownCounter == 0 {  // Keras re-checks `in_cooldown()` after the decrement
            wait += 1
            if wait >= patience {
                let optimizer = context.optimizer
                if optimizer.learningRate > minLearningRate {
                    optimizer.learningRate = Swift.max(optimizer.learningRate * factor, minLearningRate)
                    cooldownCounter = cooldown
                    wait = 0
                }
            }
        }
        return .proceed
    }
}
