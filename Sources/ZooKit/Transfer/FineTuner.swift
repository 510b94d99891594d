import Foundation
import ZooFormat
import ZooNet

/// The training half of transfer learning: phases of `fit`, optional caching of frozen outputs,
/// per-epoch checkpoints, resuming, early stopping, TensorBoard logs.
public enum FineTuner {
    /// Trains `transfer.network` on `training` (validated on `validation` after every epoch).
    ///
    /// The first phase trains what `transfer` leaves trainable; with
    /// ``FineTuneOptions/unfreezeAfter`` a second phase unfreezes more and trains on with a new
    /// optimizer. The frozen, deterministic bottom of the network runs once per sample when
    /// ``FineTuneOptions/cacheFrozenOutputs`` is on; a softmax head trains on logits through the
    /// fused softmax cross-entropy, ℓ = logΣⱼe^{zⱼ} − z_y. With a checkpoint, every epoch is saved
    /// (weights, optimizer moments, epoch) and a resumed run computes what the uninterrupted run would.
    /// - Parameters:
    ///   - transfer: the network to train, from ``TransferNetwork/build(from:options:)``.
    ///   - training: the training samples, labels in 0..<classes.
    ///   - validation: the validation samples, for early stopping and the logged validation metrics.
    ///   - options: the optimizer, epochs, phases, checkpoint and logs.
    ///   - progress: per-epoch (and, on a terminal, per-batch) progress lines.
    ///
    /// With `options.checkpoint`, each epoch's checkpoint records the run's ``RunFingerprint``
    /// (every training setting, the starting network, the data); `options.resume` continues only
    /// a checkpoint with the same fingerprint.
    /// - Returns: the metrics of every epoch and what the run did.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` and friends for invalid options (see
    ///   ``FineTuneOptions/validate()``), ``ZooKitError/invalidRequest(_:)`` for data that does not
    ///   fit, ``ZooKitError/checkpointOfAnotherRun(path:differences:)`` (naming the settings that
    ///   differ), `FormatError` when a checkpoint or log cannot be read or written.
    public static func run(
        _ transfer: TransferNetwork, training: LabeledData, validation: LabeledData?, options: FineTuneOptions,
        progress: ProgressReporter? = nil
    ) throws -> FineTuneResult {
        try options.validate()
        let fingerprint = RunFingerprint(transfer: transfer, training: training, validation: validation, options: options)
        let network = transfer.network
        let classes = network.outputShape.last ?? 0
        for data in [training] + (validation.map { [$0] } ?? []) { try data.checkLabels(forHeadOf: classes) }
        let trainSet = try training.reshaped(to: network.inputShape)
        let validationSet = try validation?.reshaped(to: network.inputShape)
        var result = FineTuneResult()
        var startEpoch = 0
        var resumed: Checkpoint.Resumed?
        if options.resume, let checkpoint = options.checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
            let restored = try Checkpoint.restore(checkpoint, into: network, fingerprint: fingerprint)
            startEpoch = restored.epoch + 1
            result.resumedFromEpoch = restored.epoch
            resumed = restored
        }
        var logs: (logger: TensorBoardLogger, runName: String)?
        if let tensorBoard = options.tensorBoard {
            let runName = tensorBoard.runName ?? resumed?.tensorBoardRun ?? TensorBoardOptions.runName(model: transfer.baseModel)
            let run = try TensorBoardRun(directory: tensorBoard.directory + "/" + runName, resumingAfter: resumed?.epoch)
            logs = (TensorBoardLogger(run: run, histograms: tensorBoard.histograms), runName)
            result.tensorBoardRun = run.directory
        }
        let firstPhaseEpochs = min(options.unfreezeAfter ?? options.epochs, options.epochs)
        let clock = ContinuousClock()
        let started = clock.now
        var phases: [(phase: Int, epochs: Range<Int>)] = [(1, 0..<firstPhaseEpochs)]
        if firstPhaseEpochs < options.epochs { phases.append((2, firstPhaseEpochs..<options.epochs)) }
        for (phase, range) in phases {
            if phase == 2 { try unfreezeForSecondPhase(transfer, pattern: options.unfreeze) }
            let remaining = min(max(range.lowerBound, startEpoch), range.upperBound)..<range.upperBound
            result.trainable.append(transfer.trainableNames)
            guard !remaining.isEmpty else { continue }
            // The optimizer continues from the checkpoint only inside the phase it was saved in
            // (a new phase starts a new optimizer, as an uninterrupted run does).
            let optimizerState = resumed?.phase == phase && remaining.lowerBound > range.lowerBound ? resumed?.optimizer : nil
            let history = try runPhase(
                transfer, training: trainSet, validation: validationSet, phaseEpochs: range, from: remaining.lowerBound,
                phase: phase, optimizerState: optimizerState, options: options, progress: progress, logs: logs,
                fingerprint: fingerprint, cached: &result.cachedLayers, restored: &result.restoredEpochs)
            result.epochs += history
        }
        let elapsed = clock.now - started
        result.trainingSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return result
    }

    /// The seed's advice: unfreeze the topmost frozen hidden layer (or what `pattern` names).
    static func unfreezeForSecondPhase(_ transfer: TransferNetwork, pattern: String?) throws {
        let network = transfer.network
        var names = transfer.trainableNames
        if let pattern {
            let matched = try NamePattern.compile(pattern, for: .unfreeze).filter(network.variables.map(\.name))
            if matched.isEmpty { transfer.warn(.matchesNothing(.unfreeze, pattern: pattern)) }
            names += matched
        } else if let layer = network.layers.last(where: { layer in !layer.variables.isEmpty && layer.variables.allSatisfy { !$0.isTrainable } && !(layer is BatchNorm) }) {
            names += layer.variables.map(\.name)
        }
        try transfer.setTrainable(names)
    }

    /// Trains epochs `start..<phaseEpochs.upperBound` of a phase spanning `phaseEpochs`; the
    /// shuffles, the schedule's length and the epoch numbers are those of the whole phase, and
    /// `optimizerState` (from a checkpoint of this phase) continues the optimizer, so a resumed
    /// run computes what an uninterrupted one does.
    static func runPhase(
        _ transfer: TransferNetwork, training: LabeledData, validation: LabeledData?, phaseEpochs: Range<Int>, from start: Int,
        phase: Int, optimizerState: OptimizerState?, options: FineTuneOptions, progress: ProgressReporter?,
        logs: (logger: TensorBoardLogger, runName: String)?, fingerprint: RunFingerprint, cached: inout [Int], restored: inout [Int?]
    ) throws -> [FineTuneResult.Epoch] {
        let network = transfer.network
        // The bottom layers that are frozen and deterministic (no dropout) can run once.
        let boundary = options.cacheFrozenOutputs ? cacheBoundary(network) : 0
        cached.append(boundary)
        // The trainee ends in logits (a softmax head trains through the engine's fused
        // softmax cross-entropy, as Keras does); its values are copied back afterwards.
        let prefix = boundary > 0
            ? try TransferNetwork.makeNetwork(Array(transfer.specs[..<boundary]), inputShape: transfer.inputShape, options: transfer.options, head: transfer.head)
            : nil
        if let prefix { try copyVariables(from: network, to: prefix) }
        let trainee = try TransferNetwork.makeNetwork(
            Array(transfer.specs[boundary...]).withoutFinalActivation, inputShape: prefix?.outputShape ?? transfer.inputShape,
            options: transfer.options, head: transfer.head)
        try copyVariables(from: network, to: trainee)
        trainee.freeze(trainable: .exactly(transfer.trainableNames))
        var trainData = try training.dataset()
        var validationData = try validation?.dataset()
        if let prefix {
            trainData = try Dataset(inputs: prefix.predict(try training.inputTensor()), labels: .classes(training.labels))
            if let validation {
                validationData = try Dataset(inputs: prefix.predict(try validation.inputTensor()), labels: .classes(validation.labels))
            }
        }
        let steps = (training.count + options.batchSize - 1) / options.batchSize * phaseEpochs.count
        var settings = options.optimizer
        if phase == 2, let rate = options.unfreezeLearningRate { settings.learningRate = rate }
        let optimizer = try settings.make(totalSteps: steps)
        if let optimizerState {
            do { try optimizer.restore(optimizerState, for: trainee.trainableVariables) } catch let error as ZooNetError {
                throw ZooKitError.invalidRequest("checkpoint: the optimizer state does not fit: \(error)")
            }
        }
        var callbacks: [any Callback] = []
        var stopping: EarlyStopping?
        if let patience = options.patience, validationData != nil {
            let callback = EarlyStopping(monitor: .validationLoss, patience: patience, restoreBestWeights: true)
            callbacks.append(callback)
            stopping = callback
        }
        // The logs before the checkpoint: a run killed between the two has logged an epoch its
        // checkpoint lacks, which the resumed run cuts off and logs again (never a gap).
        if let logger = logs?.logger {
            logger.stepOffset = phaseEpochs.lowerBound
            logger.phase = phase
            // Histograms of the whole network: the trainee's values, the cached prefix's (frozen) for the rest.
            logger.histogramSource = {
                network.variables.map { variable in
                    ((try? trainee.variable(named: variable.name)) ?? variable).snapshot
                }
            }
            callbacks.insert(logger, at: 0)  // first: it logs the epoch's weights, before early stopping restores the best
        }
        if let checkpoint = options.checkpoint {
            let trainable = trainee.trainableVariables
            let runName = logs?.runName
            callbacks.append(ModelCheckpoint(save: { epoch, variables in
                try Checkpoint.save(full: network, overrides: variables, epoch: phaseEpochs.lowerBound + epoch, phase: phase,
                                    optimizer: optimizer.state(of: trainable), to: checkpoint, fingerprint: fingerprint,
                                    tensorBoardRun: runName)
            }))
        }
        let history: [EpochMetrics]
        do {
            history = try trainee.fit(
                trainData, validation: validationData, loss: .softmaxCrossEntropy,
                optimizer: optimizer, epochs: phaseEpochs.count, initialEpoch: start - phaseEpochs.lowerBound,
                batchSize: options.batchSize,
                shuffleSeed: SplitMix64.derive(options.seed, UInt64(phase * 1000 + phaseEpochs.lowerBound)),
                callbacks: callbacks, progress: progress)
        } catch let error as ZooNetError {
            throw ZooKitError.invalidRequest("training: \(error)")
        }
        try copyVariables(from: trainee, to: network)
        restored.append(stopping?.bestEpoch.map { phaseEpochs.lowerBound + $0 })
        return history.map {
            .init(phase: phase, epoch: phaseEpochs.lowerBound + $0.epoch, loss: $0.loss, accuracy: $0.accuracy,
                  validationLoss: $0.validationLoss, validationAccuracy: $0.validationAccuracy, seconds: $0.seconds)
        }
    }

    /// How many bottom layers have only frozen variables and behave the same in training and inference.
    static func cacheBoundary(_ network: Sequential) -> Int {
        var boundary = 0
        for layer in network.layers {
            if layer is Dropout || layer.variables.contains(where: \.isTrainable) { break }
            boundary += 1
        }
        return boundary == network.layers.count ? 0 : boundary
    }

    /// Copies the values of same-named, same-shaped variables.
    static func copyVariables(from source: Network, to target: Network) throws {
        for variable in target.variables {
            guard let match = try? source.variable(named: variable.name), match.shape == variable.shape else { continue }
            try variable.assign(match.values)
        }
    }
}
