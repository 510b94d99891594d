import Foundation
import Testing
import ZooFormat
import ZooKit
import ZooNet

/// Synthetic but learnable data: class c has its mean at a fixed random point.
func blobs(classes: Int, perClass: Int, width: Int, seed: UInt64) -> LabeledData {
    var generator = SplitMix64(seed: seed)
    let centers = (0..<classes).map { _ in (0..<width).map { _ in Float(generator.nextNormal()) * 2 } }
    var inputs: [Float] = []
    var labels: [Int] = []
    for sample in 0..<(classes * perClass) {
        let label = sample % classes
        inputs += centers[label].map { $0 + Float(generator.nextNormal()) * 0.5 }
        labels.append(label)
    }
    return LabeledData(inputs: inputs, sampleShape: [width], labels: labels, source: "blobs")
}

@Suite struct TransferTests {
    func seedModel() throws -> (TemporaryRegistry, PretrainedModel) {
        let temporary = try TemporaryRegistry()
        return (temporary, try PretrainedModel.load(try temporary.importSeed()))
    }

    @Test func newHeadReusesAndFreezes() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.head = .new(classes: 3)
        options.freeze = "hidden|bn"
        let transfer = try TransferNetwork.build(from: pretrained, options: options)
        #expect(transfer.specs.map(\.name) == ["hidden1", "bn1", "elu1", "hidden2", "bn2", "elu2", "new_outputs"])
        #expect(transfer.trainableNames == ["new_outputs/kernel", "new_outputs/bias"])
        #expect(transfer.reused.count == 12)
        #expect(try transfer.network.variable(named: "hidden2/kernel").values == pretrained.network.variable(named: "hidden2/kernel").values)
    }

    @Test func dropLayersAndFreezeBelow() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.head = .new(classes: 2)
        options.dropLayers = 1
        options.freezeBelow = "new_outputs"
        options.dropout = 0.2
        let transfer = try TransferNetwork.build(from: pretrained, options: options)
        #expect(transfer.specs.map(\.name) == ["hidden1", "bn1", "elu1", "head_dropout", "new_outputs"])
        #expect(transfer.trainableNames == ["new_outputs/kernel", "new_outputs/bias"])
        options.dropLayers = 3
        let error = try #require(throws: ZooKitError.self) { try TransferNetwork.build(from: pretrained, options: options) }
        #expect(error == .invalidSetting(.dropLayers, problem: "3: seed has only 2 hidden layers to reuse"))
        #expect(error.description == "TransferOptions.dropLayers 3: seed has only 2 hidden layers to reuse")
    }

    @Test(arguments: [
        ("zzz", "matches no variable"),
    ])
    func freezeWarnings(pattern: String, warning: String) throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.freeze = pattern
        let transfer = try TransferNetwork.build(from: pretrained, options: options)
        #expect(transfer.warnings.contains { $0.description.contains(warning) })
    }

    @Test func freezingEverythingIsRefused() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.freeze = ".*"
        let error = try #require(throws: ZooKitError.self) { try TransferNetwork.build(from: pretrained, options: options) }
        #expect(error.description.contains("every variable is frozen"))
        options.freeze = nil
        options.head = .new(classes: 0)
        #expect(throws: ZooKitError.self) { try TransferNetwork.build(from: pretrained, options: options) }
    }

    /// Training the head on cached outputs of the frozen bottom gives the same weights as
    /// training through it, and learns the task.
    @Test func cachedAndUncachedTrainingAgree() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        let data = blobs(classes: 3, perClass: 40, width: 20, seed: 1)
        let (training, validation) = try DataSelection(validationPerClass: 10, seed: 3).apply(to: data)
        var weights: [[Float]] = []
        var results: [FineTuneResult] = []
        for cache in [true, false] {
            var options = TransferOptions()
            options.head = .new(classes: 3)
            options.freeze = "hidden|bn"
            let transfer = try TransferNetwork.build(from: pretrained, options: options)
            var fineTune = FineTuneOptions()
            fineTune.epochs = 15
            fineTune.cacheFrozenOutputs = cache
            results.append(try FineTuner.run(transfer, training: training, validation: validation, options: fineTune))
            weights.append(try transfer.network.variable(named: "new_outputs/kernel").values)
            let report = try Evaluation.evaluate(transfer.network, on: try #require(validation), labels: ["a", "b", "c"])
            #expect(report.accuracy > 0.9, "accuracy \(report.accuracy)")
            #expect(report.confusion.joined().reduce(0, +) == 30)
        }
        #expect(results[0].cachedLayers == [6])
        #expect(results[1].cachedLayers == [0])
        let difference = zip(weights[0], weights[1]).map { abs($0 - $1) }.max() ?? 1
        #expect(difference < 1e-4, "max difference \(difference)")
        // The frozen layers did not move.
        #expect(results[0].trainable == [["new_outputs/kernel", "new_outputs/bias"]])
    }

    @Test func secondPhaseUnfreezesTheTopFrozenLayer() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.head = .new(classes: 3)
        options.freeze = "hidden|bn"
        let transfer = try TransferNetwork.build(from: pretrained, options: options)
        let before = try transfer.network.variable(named: "hidden1/kernel").values
        var fineTune = FineTuneOptions()
        fineTune.epochs = 4
        fineTune.unfreezeAfter = 2
        let result = try FineTuner.run(transfer, training: blobs(classes: 3, perClass: 10, width: 20, seed: 2), validation: nil, options: fineTune)
        #expect(result.trainable[1] == ["hidden2/kernel", "hidden2/bias", "new_outputs/kernel", "new_outputs/bias"])
        #expect(result.epochs.map(\.phase) == [1, 1, 2, 2])
        #expect(try transfer.network.variable(named: "hidden1/kernel").values == before)
    }

    @Test func checkpointsResumeAndRefuseOtherRuns() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        let checkpoint = temporary.root + "/run.safetensors"
        var options = TransferOptions()
        options.head = .new(classes: 3)
        let data = blobs(classes: 3, perClass: 10, width: 20, seed: 4)
        var fineTune = FineTuneOptions()
        fineTune.epochs = 3
        fineTune.checkpoint = checkpoint
        let first = try TransferNetwork.build(from: pretrained, options: options)
        _ = try FineTuner.run(first, training: data, validation: nil, options: fineTune)
        let saved = try TensorArchive.open(checkpoint)
        #expect(saved.metadata["zoo_epoch"] == "2")
        #expect(try saved.tensor(named: "new_outputs/kernel").floats() == first.network.variable(named: "new_outputs/kernel").values)
        fineTune.resume = true
        fineTune.epochs = 5
        let second = try TransferNetwork.build(from: pretrained, options: options)
        let resumed = try FineTuner.run(second, training: data, validation: nil, options: fineTune)
        #expect(resumed.resumedFromEpoch == 2)
        #expect(resumed.epochs.map(\.epoch) == [3, 4])
        // Another run: settings the old CLI fingerprint missed (momentum, dropout, the head
        // initializer) are part of it now, and the refusal names them; so are the data.
        var otherOptimizer = fineTune
        otherOptimizer.optimizer.momentum = 0.5
        var otherTransfer = options
        otherTransfer.headInitializer = .he
        let refusals: [(TransferOptions, FineTuneOptions, LabeledData, String)] = [
            (options, otherOptimizer, data, "optimizer.momentum: 0.9 in the checkpoint, 0.5 now"),
            (otherTransfer, fineTune, data, "transfer.headInitializer: glorot in the checkpoint, he now"),
            (options, fineTune, blobs(classes: 3, perClass: 10, width: 20, seed: 5), "data.training: "),
        ]
        for (transferOptions, tuneOptions, trainingData, difference) in refusals {
            let error = try #require(throws: ZooKitError.self) {
                try FineTuner.run(try TransferNetwork.build(from: pretrained, options: transferOptions), training: trainingData, validation: nil, options: tuneOptions)
            }
            #expect(error.description.contains("checkpoint of another run: "), "\(error)")
            #expect(error.description.contains(difference), "\(error)")
        }
    }

    @Test func fingerprintCoversEverySettingButWhereAndHowLong() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        let transfer = try TransferNetwork.build(from: pretrained, options: TransferOptions())
        let data = blobs(classes: 3, perClass: 4, width: 20, seed: 1)
        var options = FineTuneOptions()
        let base = RunFingerprint(transfer: transfer, training: data, validation: nil, options: options)
        for key in ["optimizer.momentum", "optimizer.clipNorm", "optimizer.weightDecay", "batchSize", "patience", "unfreeze",
                    "unfreezeLearningRate", "seed", "transfer.dropout", "transfer.batchNormMomentum", "transfer.l1", "transfer.l2",
                    "transfer.headInitializer", "transfer.freeze", "network.variables", "data.training", "data.validation"] {
            #expect(base.settings[key] != nil, "\(key) is not in the fingerprint")
        }
        options.checkpoint = "/elsewhere.safetensors"
        options.resume = true
        options.epochs = 500
        #expect(RunFingerprint(transfer: transfer, training: data, validation: nil, options: options).digest == base.digest)
        options.optimizer.clipValue = 1
        let clipped = RunFingerprint(transfer: transfer, training: data, validation: nil, options: options)
        #expect(clipped.differences(from: base.settings) == ["optimizer.clipValue: none in the checkpoint, 1.0 now"])
    }

    /// A run stopped after some epochs and continued with --resume ends with exactly the
    /// weights of an uninterrupted run: the checkpoint carries the optimizer's moments and step
    /// count, and the continued run replays the batch order (also across the unfreeze phase).
    @Test(arguments: [nil, 2] as [Int?]) func resumedRunEqualsUninterruptedRun(_ unfreezeAfter: Int?) throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.head = .new(classes: 3)
        options.freeze = "hidden[12]|bn"
        let data = blobs(classes: 3, perClass: 10, width: 20, seed: 6)
        var fineTune = FineTuneOptions()
        fineTune.epochs = 5
        fineTune.batchSize = 8
        fineTune.unfreezeAfter = unfreezeAfter
        fineTune.checkpoint = temporary.root + "/uninterrupted.safetensors"
        let uninterrupted = try TransferNetwork.build(from: pretrained, options: options)
        _ = try FineTuner.run(uninterrupted, training: data, validation: nil, options: fineTune)
        // The same run, stopped after 3 epochs (the checkpoint then holds epoch 2), then resumed.
        fineTune.checkpoint = temporary.root + "/interrupted.safetensors"
        fineTune.epochs = 3
        _ = try FineTuner.run(try TransferNetwork.build(from: pretrained, options: options), training: data, validation: nil,
                              options: fineTune)
        let saved = try TensorArchive.open(fineTune.checkpoint!)
        #expect(saved.metadata["zoo_iterations"] == String(unfreezeAfter == nil ? 12 : 4))  // 4 steps per epoch
        #expect(saved.tensors.contains { $0.name == "optimizer/new_outputs/kernel/1" })
        // The checkpoint still assigns strictly as a weights file: its optimizer slots are skipped.
        let target = try TransferNetwork.build(from: pretrained, options: options).network
        let report = try WeightAssigner.assign(try NameMapping(layout: .keras).apply(to: saved, network: target), to: target)
        #expect(report.isComplete)
        #expect(!report.skipped.isEmpty && report.skipped.allSatisfy { $0.hasPrefix("optimizer/") })
        fineTune.epochs = 5
        fineTune.resume = true
        let continued = try TransferNetwork.build(from: pretrained, options: options)
        let result = try FineTuner.run(continued, training: data, validation: nil, options: fineTune)
        #expect(result.resumedFromEpoch == 2)
        #expect(result.epochs.map(\.epoch) == [3, 4])
        for variable in uninterrupted.network.variables {
            #expect(try continued.network.variable(named: variable.name).values == variable.values, "\(variable.name)")
        }
    }

    @Test func labelsOutOfRangeAndShapesThatDoNotFit() throws {
        let (temporary, pretrained) = try seedModel()
        defer { temporary.remove() }
        var options = TransferOptions()
        options.head = .new(classes: 2)
        let transfer = try TransferNetwork.build(from: pretrained, options: options)
        let error = try #require(throws: ZooKitError.self) {
            try FineTuner.run(transfer, training: blobs(classes: 3, perClass: 2, width: 20, seed: 1), validation: nil, options: FineTuneOptions())
        }
        #expect(error.description.contains("label 2 is out of range for a head of 2 classes"))
        let wide = try #require(throws: ZooKitError.self) {
            try FineTuner.run(transfer, training: blobs(classes: 2, perClass: 2, width: 21, seed: 1), validation: nil, options: FineTuneOptions())
        }
        #expect(wide.description.contains("do not fit the model's input [20]"))
    }
}

@Suite struct DataSelectionTests {
    @Test func classFilterRemapsAndSamplesPerClass() throws {
        let data = LabeledData(inputs: (0..<20).map(Float.init), sampleShape: [1], labels: (0..<20).map { $0 % 5 }, source: "t")
        let (training, validation) = try DataSelection(classes: [3, 1], perClass: 2, validationPerClass: 1, seed: 9).apply(to: data)
        #expect(training.count == 4 && validation?.count == 2)
        #expect(Set(training.labels) == [0, 1])
        // Label 0 now means original class 3: its inputs are 3, 8, 13 or 18.
        for (value, label) in zip(training.inputs, training.labels) {
            #expect(Int(value) % 5 == (label == 0 ? 3 : 1))
        }
        #expect(Set(training.inputs).isDisjoint(with: Set(validation?.inputs ?? [])))
        let again = try DataSelection(classes: [3, 1], perClass: 2, validationPerClass: 1, seed: 9).apply(to: data)
        #expect(again.training.inputs == training.inputs)
    }

    @Test func errors() throws {
        let data = LabeledData(inputs: [0, 1, 2], sampleShape: [1], labels: [0, 0, 1], source: "t")
        #expect(throws: ZooKitError.self) { try DataSelection(classes: [2]).apply(to: data) }
        #expect(throws: ZooKitError.self) { try DataSelection(perClass: 2).apply(to: data) }
        #expect(DataSelection.parseClasses("5-9") == [5, 6, 7, 8, 9])
        #expect(DataSelection.parseClasses("0,2-3") == [0, 2, 3])
        #expect(DataSelection.parseClasses("9-5") == nil)
        #expect(DataSelection.parseClasses("1,1") == nil)
    }

    @Test func idxDirectoryCSVAndNPZ() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let idx = Paths.fixtures + "/idx/"
        try FileManager.default.copyItem(atPath: idx + "images-idx3-ubyte.gz", toPath: directory + "/train-images-idx3-ubyte.gz")
        try FileManager.default.copyItem(atPath: idx + "labels-idx1-ubyte", toPath: directory + "/train-labels-idx1-ubyte")
        let loaded = try DataLoader.load(directory)
        #expect(loaded.sampleShape == [3, 2] && loaded.labels == [3, 0, 9, 5])
        #expect(Array(loaded.inputs.prefix(3)) == [248, 194, 190])
        #expect(throws: ZooKitError.self) { try DataLoader.load(directory, split: .test) }
        let csv = directory + "/d.csv"
        try "label,a,b\n1,0.5,2\n0,1,-1\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let table = try DataLoader.load(csv)
        #expect(table.labels == [1, 0] && table.inputs == [0.5, 2, 1, -1])
        try "1,0.5,2\n0,1\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(throws: FormatError.self) { try DataLoader.load(csv) }
        let npz = directory + "/d.npz"
        try NPZWriter.write([
            try StoredTensor(name: "x", shape: [2, 2], floats: [1, 2, 3, 4]),
            try StoredTensor(name: "y", shape: [2], floats: [1, 0]),
        ], to: npz)
        let fromNPZ = try DataLoader.load(npz)
        #expect(fromNPZ.labels == [1, 0] && fromNPZ.sampleShape == [2])
    }
}
