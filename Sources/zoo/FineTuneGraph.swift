import ArgumentParser
import Foundation
import ZooFormat
import ZooKit
import ZooNet

/// `zoo fine-tune` on a model whose architecture is a graph (a registered Keras Application,
/// a Keras model file whose graph branches, fer's mini-Xception; any Keras file or registered
/// model with `--cut`): the graph cut at `--cut` (default: the manifest's cut, else what its
/// classifier takes), global pooling on a spatial cut, a new head of `--new-head` classes, the
/// base frozen (its batch norm in inference mode), `--unfreeze` top blocks by name from the
/// start; the frozen base's features computed once and the head trained alone when nothing
/// below it trains.
extension FineTuneCommand {
    /// Whether MODEL goes the graph way: `--cut` given, or an architecture that is not a chain
    /// of layers (decided from the manifest or the Keras config alone, before loading weights).
    func usesGraphPath() throws -> Bool {
        guard modelOptions.arch == nil, modelOptions.like == nil else { return cut != nil }
        if ONNXGraphImporter.isONNXFile(modelOptions.model) {
            if cut != nil { return true }
            return try ONNXGraphImporter.convert(ONNXReader.read(modelOptions.model)).description.chainLayers == nil
        }
        if FileManager.default.fileExists(atPath: modelOptions.model) {
            guard let graph = try TensorArchive.open(modelOptions.model).kerasGraph() else { return false }
            if cut != nil { return true }
            // Free input dimensions: the linear path's import says what is missing.
            guard graph.inputs.allSatisfy({ !$0.shape.contains(nil) }) else { return false }
            return try KerasModelImporter.description(of: graph).chainLayers == nil
        }
        guard let entry = try? registryOptions.registry.entry(named: modelOptions.model) else { return false }
        return cut != nil || entry.manifest.architecture.chainLayers == nil
    }

    /// The settings the graph path does not have (yet), named by their flags.
    var settingsTheGraphPathLacks: [String] {
        var flags: [(Bool, String)] = [
            (keepHead, "--keep-head"),
            (dropLayers != 0, "--drop-layers"), (fromScratch, "--from-scratch"), (headInit != .glorot, "--head-init"),
            (l1 != nil, "--l1"), (l2 != nil, "--l2"), (bnMomentum != nil, "--bn-momentum"),
            (checkpoint != nil, "--checkpoint"), (resume, "--resume"),
        ]
        flags += [(tensorboard != nil, "--tensorboard")]
        return flags.filter(\.0).map(\.1)
    }

    /// The graph path's training settings: `--unfreeze` goes to the second phase with `--unfreeze-after`.
    var graphFineTuneOptions: GraphFineTuneOptions {
        var options = GraphFineTuneOptions()
        options.optimizer = fineTuneOptions.optimizer
        options.epochs = epochs
        options.batchSize = batchSize
        options.patience = patience
        options.unfreezeAfter = unfreezeAfter
        options.unfreeze = unfreezeAfter == nil ? nil : unfreeze
        options.unfreezeLearningRate = unfreezeLR
        options.cacheFrozenOutputs = !noCache
        options.seed = dataOptions.seed
        return options
    }

    /// Fine-tunes a graph model (see the extension's documentation).
    func runGraph() throws {
        let lacking = settingsTheGraphPathLacks
        guard lacking.isEmpty else {
            throw ValidationError("\(lacking.joined(separator: ", ")): not available for a graph model yet (it trains a new head on a cut, the base "
                + "frozen or partly trained with --freeze, --freeze-below or --unfreeze, and a second phase with --unfreeze-after); see zoo fine-tune --help")
        }
        guard let classes = newHead else { throw ValidationError("a graph model needs --new-head N (the classes of the new head)") }
        let names = try labelNames()
        try dataOptions.selection.validate()
        let training = graphFineTuneOptions
        try training.validate()

        var reference = modelOptions.reference
        reference.imageSize = imageSize
        let pretrained = try reference.load(registry: registryOptions.registry)
        let transfer = try GraphTransfer(base: pretrained.network, options: .init(
            classes: classes, cut: cut ?? pretrained.manifest.featureNode, dropout: dropout,
            unfreeze: unfreezeAfter == nil ? unfreeze : nil, freeze: freeze, freezeBelow: freezeBelow, seed: dataOptions.seed))
        let inputShape = transfer.network.inputShape
        let preprocessing = pretrained.manifest.input.preprocessing
        let images = try? ImagePipeline(input: pretrained.manifest.input)  // for a folder of pictures
        var classFolders: [String]?
        func load(_ path: String, _ split: DataLoader.Split) throws -> LabeledData {
            let data = try DataLoader.load(path, split: split, images: images)
            if classFolders == nil { classFolders = data.classNames }
            return data
        }
        // Selected first, then (picture arrays) resized: only the samples used become pictures.
        func prepared(_ data: LabeledData) throws -> LabeledData {
            try data.fittedAsPictures(to: inputShape).preprocessed(preprocessing).reshaped(to: inputShape)
        }
        var (trainingData, validation) = try dataOptions.selection.apply(to: load(data, .train))
        trainingData = try prepared(trainingData)
        validation = try validation.map(prepared)
        if let val { validation = try prepared(dataOptions.filterOnly.apply(to: load(val, .train)).training) }
        let testData = try test.map { try prepared(testSubset(dataOptions.filterOnly.apply(to: load($0, .test)).training)) }
        if patience != nil && validation == nil {
            printWarning("--patience needs validation data (--val, --val-per-class or --val-split): early stopping is off")
        }

        let progress = quiet || json ? nil : ProgressReporter(write: { FileHandle.standardError.write(Data($0.utf8)) })
        let result = try GraphFineTuner.run(transfer, training: trainingData, validation: validation, options: training, progress: progress)
        let seconds = result.trainingSeconds

        let classNames = names ?? dataOptions.labels(from: classFolders ?? [])
        let validationReport = try validation.map { try Evaluation.evaluate(transfer.network, on: $0, labels: classNames, outputsLogits: true) }
        let testReport = try testData.map { try Evaluation.evaluate(transfer.network, on: $0, labels: classNames, outputsLogits: true) }
        if let out { try transfer.network.saveWeights(to: out, metadata: ["zoo_fine_tuned_from": modelOptions.model]) }
        if let saveAs {
            let metrics = testReport.map { ["test_accuracy": $0.accuracy, "test_loss": $0.loss] } ?? [:]
            try registryOptions.registry.register(transfer, as: saveAs, basedOn: pretrained.manifest, labels: classNames, metrics: metrics)
        }
        let cached = result.cachedAt.first.map { $0 == transfer.featureNode } ?? false
        let summary = GraphSummary(
            model: modelOptions.model, inputShape: inputShape, cut: transfer.cut, featureNode: transfer.featureNode, trainable: transfer.trainableNames,
            phases: zip(result.phases, zip(result.trainable, result.cachedAt)).map { GraphSummary.Phase(phase: $0, trainable: $1.0.count, cachedAt: $1.1) },
            cachedFeatures: cached, trainingSamples: trainingData.count, validationSamples: validation?.count ?? 0,
            trainingSeconds: seconds,
            epochs: result.epochs.map { GraphSummary.Epoch(phase: $0.phase, epoch: $0.epoch, loss: $0.loss, accuracy: $0.accuracy, validationLoss: $0.validationLoss) },
            validation: validationReport, test: testReport, out: out, savedAs: saveAs)
        if json {
            print(try prettyJSON(summary))
            return
        }
        let phases = zip(result.phases, zip(result.trainable, result.cachedAt)).map { number, phase in
            "phase \(number): \(phase.0.count) variables trainable" + (phase.1.map { ", outputs of \($0) computed once" } ?? ", trained through the network")
        }
        print("fine-tuned \(modelOptions.model) cut at \(transfer.cut) (features at \(transfer.featureNode)) on \(trainingData.count) samples "
            + "(\(validation?.count ?? 0) validation) of \(inputShape.map(String.init).joined(separator: "×")): \(result.epochs.count) epochs in \(String(format: "%.3f", seconds)) s"
            + (cached ? ", the frozen base's features computed once" : ""))
        for line in phases { print("  \(line)") }
        print("  trainable: \(transfer.trainableNames.count) variables (\(transfer.trainableNames.prefix(4).joined(separator: ", "))\(transfer.trainableNames.count > 4 ? ", …" : ""))")
        if let last = result.epochs.last { print("  last epoch: loss \(String(format: "%.4f", last.loss))") }
        if let validationReport { print("  validation accuracy \(String(format: "%.4f", validationReport.accuracy)), loss \(String(format: "%.4f", validationReport.loss))") }
        if let testReport { print("  test accuracy \(String(format: "%.4f", testReport.accuracy)), loss \(String(format: "%.4f", testReport.loss)) on \(testReport.samples) samples") }
        if let out { print("  weights written to \(out)") }
        if let saveAs { print("  registered as \(saveAs)") }
    }

    /// The `--json` summary of a graph fine-tune.
    struct GraphSummary: Encodable {
        struct Epoch: Encodable {
            let phase: Int
            let epoch: Int
            let loss: Double
            let accuracy: Double?
            let validationLoss: Double?
        }
        struct Phase: Encodable {
            let phase: Int
            let trainable: Int
            let cachedAt: String?
        }
        let model: String
        let inputShape: [Int]
        let cut: String
        let featureNode: String
        let trainable: [String]
        let phases: [Phase]
        let cachedFeatures: Bool
        let trainingSamples: Int
        let validationSamples: Int
        let trainingSeconds: Double
        let epochs: [Epoch]
        let validation: EvaluationReport?
        let test: EvaluationReport?
        let out: String?
        let savedAs: String?
    }
}
