import ZooFormat
import ZooNet

/// Keras' `TensorBoard` callback for `Sequential/fit(_:validation:loss:optimizer:epochs:initialEpoch:batchSize:shuffleSeed:callbacks:progress:)`:
/// after every epoch it logs, at step = epoch,
///
/// - in `RUN/train`: `epoch_loss`, `epoch_accuracy`, `epoch_learning_rate` (and `epoch_phase`
///   when `phase` is set: 1 frozen, 2 unfrozen), and with `histograms` a histogram of every
///   variable under `<variable>/histogram` (Keras 3's tag, 30 equal-width buckets);
/// - in `RUN/validation`: `epoch_loss`, `epoch_accuracy` (the same tags, so TensorBoard draws
///   training and validation curves on one chart).
///
/// Each epoch's events are synced to disk before training goes on.
///
///     let logger = try TensorBoardLogger(run: TensorBoardRun(directory: "logs/my-run"))
///     try network.fit(data, validation: validation, loss: .softmaxCrossEntropy, optimizer: Adam(),
///                     epochs: 10, callbacks: [logger])
///     // tensorboard --logdir logs
public final class TensorBoardLogger: Callback {
    /// Where the events go.
    public let run: TensorBoardRun
    /// Whether to log a histogram of every variable each epoch.
    public var histograms: Bool
    /// Added to `fit`'s epoch numbers to give the step (a second training phase continues the
    /// steps of the first).
    public var stepOffset = 0
    /// The training phase, logged as `epoch_phase` when set.
    public var phase: Int?
    /// The variables to draw histograms of (default: the trained network's); ``FineTuner`` passes
    /// the whole network's when it trains only its top on cached outputs.
    public var histogramSource: (() -> [VariableSnapshot])?

    /// A logger writing into `run`.
    /// - Parameters:
    ///   - run: the run's folders and files.
    ///   - histograms: also log a histogram of every variable each epoch.
    public init(run: TensorBoardRun, histograms: Bool = false) {
        self.run = run
        self.histograms = histograms
    }

    /// Logs the epoch's metrics (and histograms), then syncs the files.
    /// - Throws: `FormatError` when the event files cannot be written.
    public func epochDidEnd(_ metrics: EpochMetrics, context: TrainingContext) throws -> CallbackAction {
        let step = stepOffset + metrics.epoch
        var values: [SummaryValue] = [.scalar("epoch_loss", Float(metrics.loss))]
        if let accuracy = metrics.accuracy { values.append(.scalar("epoch_accuracy", Float(accuracy))) }
        values.append(.scalar("epoch_learning_rate", metrics.learningRate))
        if let phase { values.append(.scalar("epoch_phase", Float(phase))) }
        if histograms {
            let variables = histogramSource?() ?? context.network.snapshots
            values += variables.map { SummaryValue(tag: $0.name + "/histogram", value: .histogram(Histogram(values: $0.values))) }
        }
        try run.logTraining(values, step: step)
        var validation: [SummaryValue] = []
        if let loss = metrics.validationLoss { validation.append(.scalar("epoch_loss", Float(loss))) }
        if let accuracy = metrics.validationAccuracy { validation.append(.scalar("epoch_accuracy", Float(accuracy))) }
        try run.logValidation(validation, step: step)
        try run.sync()
        return .proceed
    }
}
