import ZooNet

/// How ``FineTuner`` trains a ``TransferNetwork``: the optimizer, epochs and batches, early
/// stopping, a second phase with more layers unfrozen, caching of frozen outputs, per-epoch
/// checkpoints and TensorBoard logs.
public struct FineTuneOptions: Sendable {
    /// The optimizer and its hyperparameters (Adam, learning rate 0.001 by default).
    public var optimizer = OptimizerSettings()
    /// Epochs in all phases (≥ 1).
    public var epochs = 100
    /// Mini-batch size (≥ 1); the last batch of an epoch may be smaller.
    public var batchSize = 32
    /// Early stopping on validation loss with this patience (≥ 0), restoring the best weights; nil: off.
    public var patience: Int?
    /// Compute the outputs of the frozen, deterministic bottom of the network once and train the rest on them.
    public var cacheFrozenOutputs = true
    /// After this many epochs (≥ 0), a second phase with more layers trainable.
    public var unfreezeAfter: Int?
    /// Variables made trainable in the second phase (regex at the start of names, see `NamePattern`);
    /// nil: the topmost frozen hidden layer.
    public var unfreeze: String?
    /// The second phase's learning rate (the book lowers it when unfreezing); nil: the same.
    public var unfreezeLearningRate: Float?
    /// Write a checkpoint after every epoch here (a safetensors file, written atomically).
    public var checkpoint: String?
    /// Continue from `checkpoint` if it exists and belongs to the same run.
    public var resume = false
    /// Write TensorBoard event files (one run folder per run, see ``TensorBoardRun``); nil: none.
    public var tensorBoard: TensorBoardOptions?
    /// Seeds the batch order of every epoch.
    public var seed: UInt64 = 42

    /// Adam at 0.001, 100 epochs of batches of 32, no early stopping, frozen outputs cached.
    public init() {}

    /// Checks every value and combination, before any training.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` for a value out of range or a pattern
    ///   that does not compile; ``ZooKitError/settingNeeds(_:_:)`` for `resume` without a `checkpoint`.
    public func validate() throws {
        try validateTrainingLoop(optimizer: optimizer, epochs: epochs, batchSize: batchSize, patience: patience)
        if let unfreezeAfter, unfreezeAfter < 0 {
            throw ZooKitError.invalidSetting(.unfreezeAfter, problem: "must not be negative, not \(unfreezeAfter)")
        }
        if unfreeze != nil && unfreezeAfter == nil { throw ZooKitError.settingNeeds(.unfreeze, .unfreezeAfter) }
        if unfreezeLearningRate != nil && unfreezeAfter == nil { throw ZooKitError.settingNeeds(.unfreezeLearningRate, .unfreezeAfter) }
        try validateUnfreezeLearningRate(unfreezeLearningRate)
        if let unfreeze { _ = try NamePattern.compile(unfreeze, for: .unfreeze) }
        if resume && checkpoint == nil { throw ZooKitError.settingNeeds(.resume, .checkpoint) }
        if let tensorBoard {
            if tensorBoard.directory.isEmpty { throw ZooKitError.invalidSetting(.tensorBoard, problem: "needs a folder") }
            if let name = tensorBoard.runName, name.isEmpty || name.contains("/") || name == "." || name == ".." {
                throw ZooKitError.invalidSetting(.tensorBoard, problem: "run name '\(name)' must be one folder name")
            }
        }
    }
}

/// What a fine-tuning run did.
public struct FineTuneResult: Sendable, Codable {
    /// One epoch's metrics.
    public struct Epoch: Sendable, Codable {
        /// 1 for the first phase, 2 after ``FineTuneOptions/unfreezeAfter``.
        public let phase: Int
        /// The epoch, 0-based, counted over both phases.
        public let epoch: Int
        /// Mean training loss over the epoch's batches (regularization included).
        public let loss: Double
        /// Training accuracy over the epoch's batches.
        public let accuracy: Double?
        /// Loss on the validation data after the epoch, in inference mode.
        public let validationLoss: Double?
        /// Accuracy on the validation data after the epoch.
        public let validationAccuracy: Double?
        /// Wall-clock seconds of the epoch (validation included).
        public let seconds: Double
    }

    /// Every completed epoch, in order.
    public var epochs: [Epoch] = []
    /// Wall-clock seconds of training (caching included, evaluation excluded).
    public var trainingSeconds = 0.0
    /// How many bottom layers ran once per example instead of every epoch, per phase.
    public var cachedLayers: [Int] = []
    /// The trainable variables of each phase.
    public var trainable: [[String]] = []
    /// The checkpoint's last epoch when the run continued from one.
    public var resumedFromEpoch: Int?
    /// With early stopping, the epoch whose weights were restored (the best), per phase; nil without.
    public var restoredEpochs: [Int?] = []
    /// The TensorBoard run folder the run logged to, if any.
    public var tensorBoardRun: String?
}

/// The checks both fine-tuners (``FineTuneOptions``, ``GraphFineTuneOptions``) make of their
/// training loop: the optimizer's settings, positive epochs and batch size, a patience ≥ 0.
func validateTrainingLoop(optimizer: OptimizerSettings, epochs: Int, batchSize: Int, patience: Int?) throws {
    try optimizer.validate()
    guard epochs > 0 else { throw ZooKitError.invalidSetting(.epochs, problem: "must be positive, not \(epochs)") }
    guard batchSize > 0 else { throw ZooKitError.invalidSetting(.batchSize, problem: "must be positive, not \(batchSize)") }
    if let patience, patience < 0 { throw ZooKitError.invalidSetting(.patience, problem: "must not be negative, not \(patience)") }
}

/// A second phase's learning rate, if set, is a finite number ≥ 0.
func validateUnfreezeLearningRate(_ unfreezeLearningRate: Float?) throws {
    if let unfreezeLearningRate, !(unfreezeLearningRate >= 0 && unfreezeLearningRate.isFinite) {
        throw ZooKitError.invalidSetting(.unfreezeLearningRate, problem: "must be a finite number ≥ 0, not \(unfreezeLearningRate)")
    }
}
