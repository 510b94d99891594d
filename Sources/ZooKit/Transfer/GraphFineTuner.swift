import Foundation
import ZooNet

/// How ``GraphFineTuner`` trains a ``GraphTransfer``: the optimizer, epochs, batches, early
/// stopping, and the book's second phase (the top blocks unfrozen at a lower learning rate).
public struct GraphFineTuneOptions: Sendable {
    /// The optimizer and its hyperparameters (the first phase's learning rate).
    public var optimizer = OptimizerSettings()
    /// Epochs in all phases (≥ 1).
    public var epochs = 10
    /// Mini-batch size (≥ 1).
    public var batchSize = 32
    /// Early stopping on validation loss with this patience, per phase, restoring the best weights; nil: off.
    public var patience: Int?
    /// After this many epochs (0…`epochs`), a second phase trains the variables `unfreeze` names as well.
    public var unfreezeAfter: Int?
    /// The second phase's base variables: a regex matched at the start of any scope of a name
    /// (``GraphTransfer/trainableNames(unfreezing:)``), e.g. `_blocks\.15\.|_conv_head`.
    public var unfreeze: String?
    /// The second phase's learning rate (the book lowers it); nil: the first phase's.
    public var unfreezeLearningRate: Float?
    /// Compute the outputs of the frozen, deterministic part below what trains once per sample
    /// (per phase, at ``GraphFineTuner/cacheBoundary(of:trainable:)``) and train the rest on them.
    public var cacheFrozenOutputs = true
    /// Seeds the batch order (the first phase's shuffles use it as is, the second's a derived seed).
    public var seed: UInt64 = 42

    /// Adam at 0.001, 10 epochs of 32, one phase, frozen outputs cached.
    public init() {}

    /// Checks every value and combination, before anything trains.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` for a value out of range,
    ///   ``ZooKitError/settingRequired(_:reason:)`` for a second phase without `unfreeze`,
    ///   ``ZooKitError/settingNeeds(_:_:)`` for `unfreeze` or its rate without `unfreezeAfter`.
    public func validate() throws {
        try validateTrainingLoop(optimizer: optimizer, epochs: epochs, batchSize: batchSize, patience: patience)
        if let unfreezeAfter {
            guard unfreezeAfter >= 0 && unfreezeAfter <= epochs else {
                throw ZooKitError.invalidSetting(.unfreezeAfter, problem: "must be in 0…\(epochs) (the epochs of both phases), not \(unfreezeAfter)")
            }
            guard unfreeze != nil else {
                throw ZooKitError.settingRequired(.unfreeze, reason: "a graph model's second phase trains the blocks a pattern names (e.g. '_blocks\\.15\\.|_conv_head')")
            }
        } else {
            if unfreeze != nil { throw ZooKitError.settingNeeds(.unfreeze, .unfreezeAfter) }
            if unfreezeLearningRate != nil { throw ZooKitError.settingNeeds(.unfreezeLearningRate, .unfreezeAfter) }
        }
        try validateUnfreezeLearningRate(unfreezeLearningRate)
    }
}

/// What a ``GraphFineTuner`` run did.
public struct GraphFineTuneResult: Sendable, Codable {
    /// Every completed epoch (phase 1, then phase 2), numbered over both phases.
    public var epochs: [FineTuneResult.Epoch] = []
    /// Wall-clock seconds of training, the cached outputs' computation included.
    public var trainingSeconds = 0.0
    /// The phases run (1, 2; only 2 when ``GraphFineTuneOptions/unfreezeAfter`` is 0).
    public var phases: [Int] = []
    /// Per phase run, the node whose outputs were computed once (nil: trained from the input).
    public var cachedAt: [String?] = []
    /// Per phase run, the trainable variables.
    public var trainable: [[String]] = []
    /// Per phase run, with early stopping, the epoch whose weights were restored.
    public var restoredEpochs: [Int?] = []
}

/// Trains a ``GraphTransfer`` in the book's two phases (the second edition's transfer recipe):
///
/// 1. the base frozen, only the new head trains (learning rate ``OptimizerSettings/learningRate``);
/// 2. after ``GraphFineTuneOptions/unfreezeAfter`` epochs, the top blocks that
///    ``GraphFineTuneOptions/unfreeze`` names train too, with a new optimizer at
///    ``GraphFineTuneOptions/unfreezeLearningRate``. Batch normalization stays in inference mode
///    (its γ, β frozen, moving statistics used and kept), as Keras' recipe does
///    (``GraphTransfer/Options/keepBatchNormFrozen``).
///
/// In each phase the part of the network below what trains is frozen and deterministic: its
/// output at the phase's ``cacheBoundary(of:trainable:)`` is computed once per sample (both
/// phases' boundaries in one inference pass before training) and the phase trains the network
/// above it on those outputs: the head alone on pooled features, then the top blocks on the
/// feature maps that enter them.
public enum GraphFineTuner {
    /// Trains `transfer.network` on `training`, validated on `validation` after every epoch.
    /// - Parameters:
    ///   - transfer: the network to train (its head and what it left trainable train in phase 1).
    ///   - training: samples of the network's input shape, labels in 0..<classes.
    ///   - validation: validation samples (early stopping, metrics), or nil.
    ///   - options: optimizer, epochs, phases.
    ///   - progress: per-epoch progress lines.
    /// - Returns: the epochs, the time, what was cached and trained per phase.
    /// - Throws: ``ZooKitError`` for invalid options (``GraphFineTuneOptions/validate()``), an
    ///   `unfreeze` pattern that matches nothing, labels out of range, data that does not fit.
    public static func run(
        _ transfer: GraphTransfer, training: LabeledData, validation: LabeledData?, options: GraphFineTuneOptions,
        progress: ProgressReporter? = nil
    ) throws -> GraphFineTuneResult {
        try options.validate()
        let network = transfer.network
        let classes = network.outputShape.last ?? 0
        for data in [training] + (validation.map { [$0] } ?? []) { try data.checkLabels(forHeadOf: classes) }
        struct Phase { let number: Int; let names: [String]; let epochs: Range<Int>; let learningRate: Float }
        let first = options.unfreezeAfter ?? options.epochs
        var phases = [Phase(number: 1, names: transfer.trainableNames, epochs: 0..<first, learningRate: options.optimizer.learningRate)]
        if options.unfreezeAfter != nil, let pattern = options.unfreeze {
            phases.append(Phase(number: 2, names: try transfer.trainableNames(unfreezing: pattern), epochs: first..<options.epochs,
                                learningRate: options.unfreezeLearningRate ?? options.optimizer.learningRate))
        }
        phases.removeAll { $0.epochs.isEmpty }

        let clock = ContinuousClock()
        let started = clock.now
        let trainInputs = try training.reshaped(to: network.inputShape).inputTensor()
        let validationInputs = try validation.map { try $0.reshaped(to: network.inputShape).inputTensor() }
        let boundaries = try phases.map { options.cacheFrozenOutputs ? try cacheBoundary(of: network, trainable: Set($0.names)) : nil }
        var cachedNames: [String] = []
        for case let name? in boundaries where !cachedNames.contains(name) { cachedNames.append(name) }
        var trainCache: [String: Tensor] = [:], validationCache: [String: Tensor] = [:]
        do {
            if !cachedNames.isEmpty {
                for (name, tensor) in zip(cachedNames, try network.predict([trainInputs], outputs: cachedNames, batchSize: 32)) { trainCache[name] = tensor }
                if let validationInputs {
                    for (name, tensor) in zip(cachedNames, try network.predict([validationInputs], outputs: cachedNames, batchSize: 32)) { validationCache[name] = tensor }
                }
            }
        } catch let error as ZooNetError {
            throw ZooKitError.invalidRequest("computing the frozen outputs: \(error)")
        }

        var result = GraphFineTuneResult()
        for (phase, boundary) in zip(phases, boundaries) {
            transfer.setTrainable(phase.names)
            result.phases.append(phase.number)
            result.trainable.append(phase.names)
            result.cachedAt.append(boundary)
            let trainer = try boundary.map { try Network(inputs: [network.tensor(named: $0)], outputs: network.outputTensors) } ?? network
            let trainSet = try Dataset(inputs: boundary.flatMap { trainCache[$0] } ?? trainInputs, labels: .classes(training.labels))
            let validationSet = try validation.map { data in
                try Dataset(inputs: boundary.flatMap { validationCache[$0] } ?? validationInputs!, labels: .classes(data.labels))
            }
            var settings = options.optimizer
            settings.learningRate = phase.learningRate
            let steps = (training.count + options.batchSize - 1) / options.batchSize * phase.epochs.count
            let optimizer = try settings.make(totalSteps: steps)
            var stopping: EarlyStopping?
            if let patience = options.patience, validationSet != nil {
                stopping = EarlyStopping(monitor: .validationLoss, patience: patience, restoreBestWeights: true)
            }
            let history: [EpochMetrics]
            do {
                history = try trainer.fit(
                    trainSet, validation: validationSet, loss: .softmaxCrossEntropy, optimizer: optimizer, epochs: phase.epochs.count,
                    batchSize: options.batchSize,
                    shuffleSeed: phase.number == 1 ? options.seed : SplitMix64.derive(options.seed, UInt64(2000 + phase.epochs.lowerBound)),
                    callbacks: stopping.map { [$0] } ?? [], progress: progress)
            } catch let error as ZooNetError {
                throw ZooKitError.invalidRequest("training: \(error)")
            }
            result.restoredEpochs.append(stopping?.bestEpoch.map { phase.epochs.lowerBound + $0 })
            result.epochs += history.map {
                .init(phase: phase.number, epoch: phase.epochs.lowerBound + $0.epoch, loss: $0.loss, accuracy: $0.accuracy,
                      validationLoss: $0.validationLoss, validationAccuracy: $0.validationAccuracy, seconds: $0.seconds)
            }
        }
        let elapsed = clock.now - started
        result.trainingSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return result
    }

    /// The node whose output feeds everything that differs between training and inference when
    /// exactly `trainable` train: walking the nodes in topological order, a node *varies* if it
    /// has a trainable variable, is a dropout, or is a batch normalization without frozen γ, β
    /// (batch statistics), or takes a varying node's output; the boundary is the set of
    /// non-varying nodes that varying nodes take. One boundary node that is not an input: its
    /// outputs can be computed once (inference mode) and the rest trained on them.
    /// - Parameters:
    ///   - network: the network.
    ///   - trainable: the names of the variables that train.
    /// - Returns: that node, or nil (nothing varies, the input feeds what varies, or several nodes do).
    /// - Throws: `ZooNetError` only for an inconsistent network (a node without its inputs).
    public static func cacheBoundary(of network: Network, trainable: Set<String>) throws -> String? {
        let trainableNodes = Set(trainable.map(GraphTransfer.node(ofVariable:)))
        let layers = network.layersByName
        let inputs = Set(network.inputTensors.map(\.name))
        var varying = Set<String>()
        var boundary: [String] = []
        for node in network.nodeNames where !inputs.contains(node) {
            let sources = try network.inputNames(ofNode: node)
            let layer = layers[node]
            var varies = trainableNodes.contains(node) || layer is Dropout
            if let batchNorm = layer as? BatchNorm {
                let affine = [batchNorm.gamma, batchNorm.beta].compactMap { $0 }
                varies = varies || affine.isEmpty || affine.contains { trainable.contains($0.name) }
            }
            guard varies || sources.contains(where: varying.contains) else { continue }
            varying.insert(node)
            for source in sources where !varying.contains(source) && !boundary.contains(source) { boundary.append(source) }
        }
        guard boundary.count == 1, !inputs.contains(boundary[0]) else { return nil }
        return boundary[0]
    }
}
