import Foundation
import Testing
import ZooKit

/// What the CLI does, done by library calls: settings checked with typed errors, the
/// Keras/timm ways to put a head on pretrained layers, registering a fine-tuned model,
/// the registry root, saving weights, logits networks.
@Suite struct SettingValidationTests {
    typealias Setting = ZooKitError.Setting

    static let transferCases: [(@Sendable (inout TransferOptions) -> Void, ZooKitError)] = [
        ({ $0.head = .new(classes: 0) }, .invalidSetting(.head, problem: "needs at least 1 class, not 0")),
        ({ $0.head = .layers([]) }, .invalidSetting(.head, problem: "needs at least one layer")),
        ({ $0.dropLayers = 1 }, .settingNeeds(.dropLayers, .head)),
        ({ $0.reuseThrough = "hidden1" }, .settingNeeds(.reuseThrough, .head)),
        ({ $0.dropout = 0.5 }, .settingNeeds(.dropout, .head)),
        ({ $0.head = .new(classes: 2); $0.dropLayers = -1 }, .invalidSetting(.dropLayers, problem: "must not be negative, not -1")),
        ({ $0.head = .new(classes: 2); $0.dropout = 1 }, .invalidSetting(.dropout, problem: "must be in [0, 1), not 1.0")),
        ({ $0.batchNormMomentum = 5 }, .invalidSetting(.batchNormMomentum, problem: "must be in [0, 1], not 5.0")),
        ({ $0.l2 = -1 }, .invalidSetting(.l2, problem: "must be a finite number ≥ 0, not -1.0")),
        ({ $0.l1 = .nan }, .invalidSetting(.l1, problem: "must be a finite number ≥ 0, not nan")),
        ({ $0.freeze = "hidden[" }, .invalidSetting(.freeze, problem: "'hidden[' is not a valid regular expression")),
    ]

    @Test(arguments: transferCases)
    func transferOptions(change: @Sendable (inout TransferOptions) -> Void, expected: ZooKitError) throws {
        var options = TransferOptions()
        change(&options)
        let error = try #require(throws: ZooKitError.self) { try options.validate() }
        #expect(error == expected)
        #expect(error.exitCode == 64)
    }

    static let fineTuneCases: [(@Sendable (inout FineTuneOptions) -> Void, ZooKitError)] = [
        ({ $0.epochs = 0 }, .invalidSetting(.epochs, problem: "must be positive, not 0")),
        ({ $0.batchSize = -2 }, .invalidSetting(.batchSize, problem: "must be positive, not -2")),
        ({ $0.patience = -1 }, .invalidSetting(.patience, problem: "must not be negative, not -1")),
        ({ $0.unfreezeAfter = -1 }, .invalidSetting(.unfreezeAfter, problem: "must not be negative, not -1")),
        ({ $0.unfreeze = "hidden2" }, .settingNeeds(.unfreeze, .unfreezeAfter)),
        ({ $0.unfreezeAfter = 1; $0.unfreeze = "(" }, .invalidSetting(.unfreeze, problem: "'(' is not a valid regular expression")),
        ({ $0.unfreezeAfter = 1; $0.unfreezeLearningRate = -1 }, .invalidSetting(.unfreezeLearningRate, problem: "must be a finite number ≥ 0, not -1.0")),
        ({ $0.resume = true }, .settingNeeds(.resume, .checkpoint)),
        ({ $0.optimizer.learningRate = -1 }, .invalidSetting(.learningRate, problem: "must be a finite number ≥ 0, not -1.0")),
        ({ $0.optimizer.learningRate = .infinity }, .invalidSetting(.learningRate, problem: "must be a finite number ≥ 0, not inf")),
        ({ $0.optimizer.name = .momentum; $0.optimizer.momentum = 2 }, .invalidSetting(.momentum, problem: "must be in [0, 1], not 2.0")),
        ({ $0.optimizer.schedule = .exponential; $0.optimizer.decaySteps = 0 }, .invalidSetting(.decaySteps, problem: "must be positive, not 0")),
        ({ $0.optimizer.schedule = .exponential; $0.optimizer.decayRate = 0 }, .invalidSetting(.decayRate, problem: "must be a finite number > 0, not 0.0")),
        ({ $0.optimizer.schedule = .power; $0.optimizer.decayRate = -1 }, .invalidSetting(.decayRate, problem: "must be a finite number ≥ 0, not -1.0")),
        ({ $0.optimizer.clipNorm = 0 }, .invalidSetting(.clipNorm, problem: "must be a finite number > 0, not 0.0")),
        ({ $0.optimizer.globalClipNorm = -3 }, .invalidSetting(.globalClipNorm, problem: "must be a finite number > 0, not -3.0")),
    ]

    @Test(arguments: fineTuneCases)
    func fineTuneOptions(change: @Sendable (inout FineTuneOptions) -> Void, expected: ZooKitError) throws {
        var options = FineTuneOptions()
        change(&options)
        let error = try #require(throws: ZooKitError.self) { try options.validate() }
        #expect(error == expected)
        #expect(error.exitCode == 64)
    }

    @Test(arguments: [
        (DataSelection(classes: [1, 1]), ZooKitError.invalidSetting(.classes, problem: "must be distinct non-negative class numbers, not [1, 1]")),
        (DataSelection(perClass: 0), .invalidSetting(.perClass, problem: "must be positive, not 0")),
        (DataSelection(validationPerClass: -1), .invalidSetting(.validationPerClass, problem: "must not be negative, not -1")),
        (DataSelection(validationSplit: 1), .invalidSetting(.validationSplit, problem: "must be between 0 and 1, not 1.0")),
        (DataSelection(validationPerClass: 2, validationSplit: 0.5), .settingsConflict(.validationSplit, .validationPerClass)),
    ])
    func dataSelection(selection: DataSelection, expected: ZooKitError) throws {
        let error = try #require(throws: ZooKitError.self) { try selection.validate() }
        #expect(error == expected)
    }

    /// One wording, two vocabularies: the library's names, or whatever the caller passes (the CLI's flags).
    @Test func messagesNameSettingsEitherWay() {
        let error = ZooKitError.settingNeeds(.dropLayers, .head)
        #expect(error.description == "TransferOptions.dropLayers needs TransferOptions.head")
        #expect(error.message(naming: { $0 == .dropLayers ? "--drop-layers" : "--new-head" }) == "--drop-layers needs --new-head")
        #expect(ZooKitError.invalidSetting(.freeze, problem: "'[' is not a valid regular expression").description
            == "TransferOptions.freeze '[' is not a valid regular expression")
        #expect(ZooKitError.settingRequired(.inputShape, reason: "the architecture does not say its input shape").description
            == "the architecture does not say its input shape: set ImportRequest.inputShape")
        #expect(Set(ZooKitError.Setting.allCases.map(\.rawValue)).count == ZooKitError.Setting.allCases.count)
    }
}

@Suite struct PretrainedHeadTests {
    func seedModel() throws -> (TemporaryRegistry, PretrainedModel) {
        let temporary = try TemporaryRegistry()
        return (temporary, try PretrainedModel.load(try temporary.importSeed()))
    }

    /// Keras' `Model(base.input, Dense(3)(base.get_layer("elu1").output))`.
    @Test func pretrainedLayersThenMyHead() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.freeze = "hidden|bn"
        let transfer = try pretrained.transfer(through: "elu1", head: [
            .dense("features", units: 8, activation: .relu),
            .dropout("drop", rate: 0.1),
            .dense("classes", units: 3, activation: .softmax),
        ], options: options)
        #expect(transfer.specs.map(\.name) == ["hidden1", "bn1", "elu1", "features", "drop", "classes"])
        #expect(transfer.head == "classes")
        #expect(transfer.network.outputShape == [3])
        #expect(transfer.reused == ["hidden1/kernel", "hidden1/bias", "bn1/gamma", "bn1/beta", "bn1/moving_mean", "bn1/moving_variance"])
        #expect(transfer.trainableNames == ["features/kernel", "features/bias", "classes/kernel", "classes/bias"])
        #expect(try transfer.network.variable(named: "hidden1/kernel").values == pretrained.network.variable(named: "hidden1/kernel").values)

        let error = try #require(throws: ZooKitError.self) {
            try pretrained.transfer(through: "hidden9", head: [.dense("classes", units: 3, activation: .softmax)])
        }
        #expect(error == .invalidSetting(.reuseThrough, problem: "'hidden9' is not a layer of seed (layers: hidden1, bn1, elu1, hidden2, bn2, elu2, outputs)"))
    }

    /// timm's `create_model(name, pretrained=True, num_classes=3)`.
    @Test func newClassifierOnEverythingBelowTheHead() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        let transfer = try pretrained.transfer(classes: 3)
        #expect(transfer.specs.map(\.name) == ["hidden1", "bn1", "elu1", "hidden2", "bn2", "elu2", TransferOptions.newHeadName])
        #expect(transfer.reused.count == 12)
        #expect(transfer.trainableNames.count == 10)
    }

    @Test func registeredFineTunedModelLoadsBackWithTheSameOutputs() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        let transfer = try pretrained.transfer(classes: 3)
        var options = FineTuneOptions()
        options.epochs = 2
        options.batchSize = 8
        _ = try FineTuner.run(transfer, training: blobs(classes: 3, perClass: 8, width: 20, seed: 3), validation: nil, options: options)
        let entry = try temporary.registry.register(transfer, as: "tuned", basedOn: pretrained.manifest, labels: ["a", "b", "c"], metrics: ["test_accuracy": 0.5])
        #expect(entry.manifest.labels == ["a", "b", "c"])
        #expect(entry.manifest.head == TransferOptions.newHeadName)
        #expect(entry.manifest.metrics["test_accuracy"] == 0.5)
        #expect(entry.manifest.weights.provenance.framework == "zoo")
        let loaded = try PretrainedModel.load(try temporary.registry.entry(named: "tuned"))
        let inputs = try blobs(classes: 3, perClass: 2, width: 20, seed: 4).inputTensor()
        #expect(try loaded.network.predict(inputs) == transfer.network.predict(inputs))
    }

    @Test func finalActivationStripping() throws {
        let dense = LayerSpec.dense("out", units: 3, activation: .softmax)
        #expect([dense].withoutFinalActivation == [.dense("out", units: 3, activation: .linear)])
        #expect([.dense("d", units: 3), .activation("act", .sigmoid)].withoutFinalActivation == [.dense("d", units: 3)])
        #expect([LayerSpec.activation("only", .softmax)].withoutFinalActivation == [.activation("only", .linear)])
        #expect([LayerSpec]().withoutFinalActivation.isEmpty)
    }

    @Test func weightsSaveAndConvertBothWays() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        let path = temporary.root + "/w.safetensors"
        try pretrained.network.saveWeights(to: path, metadata: ["note": "x"])
        let archive = try TensorArchive.open(path)
        #expect(archive.metadata["note"] == "x")
        #expect(archive.tensors.map(\.name) == pretrained.network.variables.map(\.name))
        let kernel = try archive.tensor(named: "hidden1/kernel")
        #expect(try Tensor(kernel).scalars == pretrained.network.variable(named: "hidden1/kernel").values)
        let engine = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(try StoredTensor(name: "y", engine).floats() == [1, 2, 3, 4])
    }

    @Test func registryRootOverride() {
        let registry = Registry.standard(environment: ["HOME": "/h", "ZOO_REGISTRY": "/a:/b", "ZOO_BUILTIN_REGISTRY": "/builtin"], root: "/mine")
        #expect(registry.roots == ["/mine", "/builtin"])
        #expect(registry.writableRoot == "/mine")
        let standard = Registry.standard(environment: ["HOME": "/h", "ZOO_REGISTRY": "/a:/b", "ZOO_BUILTIN_REGISTRY": "/builtin"])
        #expect(standard.roots == ["/a", "/b", "/builtin"])
        #expect(standard.writableRoot == "/a")
    }
}
