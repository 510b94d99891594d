import ZooNet

/// The network built for transfer: its layer specs, the weights reused, and what is trainable.
///
/// Build one with `build(from:options:)`, or with ``PretrainedModel/transfer(through:head:options:)``
/// and ``PretrainedModel/transfer(classes:options:)``; train it with ``FineTuner/run(_:training:validation:options:progress:)``.
public final class TransferNetwork {
    /// The per-sample input shape (the pretrained model's).
    public let inputShape: [Int]
    /// The layers, bottom first: the reused pretrained ones, then the head.
    public let specs: [LayerSpec]
    /// The engine's network, with the reused variables holding the pretrained values.
    public let network: Sequential
    /// The name of the classifier head layer.
    public let head: String
    /// The name of the pretrained model it was built from.
    public let baseModel: String
    /// Variables that received pretrained values.
    public let reused: [String]
    /// What the user should know (a freeze pattern that matched nothing, …).
    public private(set) var warnings: [TransferWarning] = []
    let options: TransferOptions

    init(inputShape: [Int], specs: [LayerSpec], network: Sequential, head: String, baseModel: String, reused: [String], options: TransferOptions) {
        self.baseModel = baseModel
        self.inputShape = inputShape
        self.specs = specs
        self.network = network
        self.head = head
        self.reused = reused
        self.options = options
    }

    /// Builds the transfer network from `pretrained`: the reused layers (all of them with
    /// ``TransferOptions/Head/keep``; else those through ``TransferOptions/reuseThrough``, or
    /// below the pretrained head, less ``TransferOptions/dropLayers``), then the head; every
    /// variable that still exists with the same shape gets its pretrained value (none with
    /// ``TransferOptions/fromScratch``); then the freezing is applied.
    /// - Parameters:
    ///   - pretrained: the loaded model whose layers and weights are reused.
    ///   - options: what to reuse, the head, what to freeze.
    /// - Returns: the network, ready for ``FineTuner``.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` and ``ZooKitError/settingNeeds(_:_:)``
    ///   for impossible options (see ``TransferOptions/validate()``; also a `reuseThrough` or
    ///   `freezeBelow` layer that does not exist, dropping more layers than there are, freezing
    ///   everything); ``ZooKitError/unsupportedLayer(name:type:reason:)`` and
    ///   ``ZooKitError/architecture(model:reason:)`` for a head that does not build.
    public static func build(from pretrained: PretrainedModel, options: TransferOptions) throws -> TransferNetwork {
        try options.validate()
        let manifest = pretrained.manifest
        var specs = try chainLayers(of: manifest)
        var head = manifest.head
        let newHead: [LayerSpec]
        switch options.head {
        case .keep: newHead = []
        case .new(let classes): newHead = [.dense(TransferOptions.newHeadName, units: classes, activation: .softmax)]
        case .layers(let layers): newHead = layers
        }
        if !newHead.isEmpty {
            specs = try reusedLayers(of: manifest, options: options)
            if let rate = options.dropout { specs.append(.dropout("head_dropout", rate: rate)) }
            specs += newHead
            head = (newHead.last { $0.hasWeights } ?? newHead[newHead.count - 1]).name
        }
        if let momentum = options.batchNormMomentum {
            for index in specs.indices {
                if case let .batchNormalization(_, epsilon, center, scale) = specs[index].layer {
                    specs[index].layer = .batchNormalization(momentum: Float(momentum), epsilon: epsilon, center: center, scale: scale)
                }
            }
        }
        let network = try makeNetwork(specs, inputShape: manifest.input.shape, options: options, head: head)
        // Reuse every pretrained variable that still exists with the same shape.
        var reused: [String] = []
        for variable in network.variables where !options.fromScratch {
            guard let source = try? pretrained.network.variable(named: variable.name), source.shape == variable.shape else { continue }
            try variable.assign(source.values)
            reused.append(variable.name)
        }
        let transfer = TransferNetwork(inputShape: manifest.input.shape, specs: specs, network: network, head: head, baseModel: manifest.name, reused: reused, options: options)
        try transfer.applyFreezing(freeze: options.freeze, freezeBelow: options.freezeBelow)
        return transfer
    }

    /// The pretrained layers a new head goes on: through `reuseThrough`, or those below the
    /// pretrained head; less `dropLayers` hidden layers (with what follows each).
    static func reusedLayers(of manifest: ModelManifest, options: TransferOptions) throws -> [LayerSpec] {
        var specs = try chainLayers(of: manifest)
        if let last = options.reuseThrough {
            guard let index = specs.firstIndex(where: { $0.name == last }) else {
                throw ZooKitError.invalidSetting(.reuseThrough, problem: "'\(last)' is not a layer of \(manifest.name) (layers: \(specs.map(\.name).joined(separator: ", ")))")
            }
            specs.removeSubrange((index + 1)...)
        } else {
            guard let headIndex = specs.firstIndex(where: { $0.name == manifest.head }) else {
                throw ZooKitError.invalidRequest("\(manifest.name): no head layer '\(manifest.head)'")
            }
            specs.removeSubrange(headIndex...)
        }
        let hiddenCount = specs.filter(\.isHiddenLayer).count
        for _ in 0..<options.dropLayers {
            guard let last = specs.lastIndex(where: \.isHiddenLayer) else {
                throw ZooKitError.invalidSetting(.dropLayers, problem: "\(options.dropLayers): \(manifest.name) has only \(hiddenCount) hidden layers to reuse")
            }
            specs.removeSubrange(last...)
        }
        guard !specs.isEmpty else { throw ZooKitError.invalidRequest("nothing would be left of \(manifest.name) to reuse") }
        return specs
    }

    /// The layers of a linear model; a graph goes to ``GraphTransfer``.
    static func chainLayers(of manifest: ModelManifest) throws -> [LayerSpec] {
        guard let layers = manifest.architecture.chainLayers else {
            throw ZooKitError.invalidRequest(
                "\(manifest.name) is a graph, not a chain of layers: its transfer network is a GraphTransfer (zoo fine-tune --new-head N [--cut NODE])")
        }
        return layers
    }

    /// A network with these layers; the head uses the requested initializer, the hidden layers the regularizer.
    static func makeNetwork(_ specs: [LayerSpec], inputShape: [Int], options: TransferOptions, head: String) throws -> Sequential {
        let regularizer: Regularizer? = switch (options.l1, options.l2) {
        case (let l1?, let l2?): .l1l2(l1: l1, l2: l2)
        case (let l1?, nil): .l1(l1)
        case (nil, let l2?): .l2(l2)
        case (nil, nil): nil
        }
        let headInitializer: Initializer = options.headInitializer == .he ? .heNormal : .glorotUniform
        let layers = try specs.map { spec in
            try spec.makeLayer(kernelRegularizer: spec.isHiddenLayer ? regularizer : nil, kernelInitializer: spec.name == head ? headInitializer : nil)
        }
        do {
            return try Sequential(inputShape: inputShape, layers: layers, seed: options.seed)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: "transfer network", reason: error.description)
        }
    }

    /// Makes trainable everything except the variables `freeze` matches (at the start of
    /// their names) and those of the layers below `freezeBelow`.
    func applyFreezing(freeze: String?, freezeBelow: String?) throws {
        var frozen: Set<String> = []
        if let freeze {
            let matched = try NamePattern.compile(freeze, for: .freeze).filter(network.variables.map(\.name))
            if matched.isEmpty { warnings.append(.matchesNothing(.freeze, pattern: freeze)) }
            frozen.formUnion(matched)
        }
        if let freezeBelow {
            guard let index = network.layers.firstIndex(where: { $0.name == freezeBelow }) else {
                throw ZooKitError.invalidSetting(.freezeBelow, problem: "'\(freezeBelow)': no such layer (layers: \(network.layers.map(\.name).joined(separator: ", ")))")
            }
            for layer in network.layers[..<index] { frozen.formUnion(layer.variables.map(\.name)) }
        }
        try setTrainable(network.variables.map(\.name).filter { !frozen.contains($0) })
    }

    /// Makes exactly `names` trainable (among the trainable kinds); the rest frozen.
    func setTrainable(_ names: [String]) throws {
        let trainableKinds = network.variables.filter(\.isTrainableKind).map(\.name)
        let trainable = names.filter(trainableKinds.contains)
        guard !trainable.isEmpty else {
            throw ZooKitError.invalidSetting(.freeze, problem: "leaves nothing to train: every variable is frozen")
        }
        network.freeze(trainable: .exactly(trainable))
    }

    /// Records a warning for the user.
    func warn(_ warning: TransferWarning) { warnings.append(warning) }

    /// Names of the trainable variables, in the network's order.
    public var trainableNames: [String] { network.trainableVariables.map(\.name) }
}

extension PretrainedModel {
    /// These pretrained layers, then my head: the layers from the input through `layer`, with
    /// their weights, and `head` on top — Keras'
    /// `Model(base.input, Dense(5, activation="softmax")(base.get_layer("hidden5").output))`.
    ///
    ///     let transfer = try pretrained.transfer(through: "hidden5", head: [
    ///         .dropout("head_dropout", rate: 0.2),
    ///         .dense("new_outputs", units: 5, activation: "softmax"),
    ///     ])
    ///
    /// - Parameters:
    ///   - layer: the topmost pretrained layer to reuse; nil: every layer below the pretrained head.
    ///   - head: the new layers, bottom first; the last one with weights is the classifier head.
    ///   - options: freezing, regularization, seed; its `head` and `reuseThrough` are replaced.
    /// - Throws: as ``TransferNetwork/build(from:options:)``.
    public func transfer(through layer: String? = nil, head: [LayerSpec], options: TransferOptions = TransferOptions()) throws -> TransferNetwork {
        var options = options
        options.head = .layers(head)
        options.reuseThrough = layer
        return try TransferNetwork.build(from: self, options: options)
    }

    /// Every pretrained layer below the head, then a new dense softmax head of `classes` — timm's
    /// `create_model(name, pretrained=True, num_classes=5)`.
    /// - Parameters:
    ///   - classes: the number of classes of the new head (≥ 1).
    ///   - options: freezing, dropout, regularization, seed; its `head` is replaced.
    /// - Throws: as ``TransferNetwork/build(from:options:)``.
    public func transfer(classes: Int, options: TransferOptions = TransferOptions()) throws -> TransferNetwork {
        var options = options
        options.head = .new(classes: classes)
        return try TransferNetwork.build(from: self, options: options)
    }
}
