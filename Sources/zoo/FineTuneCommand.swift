import ArgumentParser
import Foundation
import ZooFormat
import ZooKit
import ZooNet

struct FineTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fine-tune",
        abstract: "Transfer a pretrained model to new data: reuse its layers, freeze, replace the head, train, evaluate.",
        discussion: """
            DATA is a directory of IDX files (the MNIST layout, e.g. /usr/share/datasets/fashion-mnist: \
            train-* for --data, t10k-* for --test), an IDX images file, a tensor file with x and y, or a CSV \
            (label first). The model's preprocessing (e.g. scale 1/255) is applied to every data set.
            The seed's exercise:
              zoo fine-tune fashion-0to4-dnn --data /usr/share/datasets/fashion-mnist --test /usr/share/datasets/fashion-mnist \\
                --classes 5-9 --per-class 100 --val-per-class 30 --new-head 5 --freeze 'hidden[1-5]' --patience 20
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("Training data.", valueName: "path"))
    var data: String

    @Option(help: ArgumentHelp("Validation data (default: held out from --data with --val-per-class or --val-split).", valueName: "path"))
    var val: String?

    @Option(help: ArgumentHelp("Test data, evaluated at the end.", valueName: "path"))
    var test: String?

    @OptionGroup var dataOptions: DataOptions

    @Option(help: ArgumentHelp("Freeze the variables whose names match this regex at their start (TF scope style: 'hidden[1-4]').", valueName: "regex"))
    var freeze: String?

    @Option(help: ArgumentHelp("Freeze every layer below this one.", valueName: "layer"))
    var freezeBelow: String?

    @Option(help: ArgumentHelp("Replace the classifier head with a dense softmax layer of N classes.", valueName: "n"))
    var newHead: Int?

    @Flag(help: "Keep the pretrained head (the default without --new-head).")
    var keepHead = false

    @Option(help: ArgumentHelp("Drop the top K hidden layers before adding the new head.", valueName: "k"))
    var dropLayers: Int = 0

    @Option(help: "The new head's initializer.")
    var headInit: TransferOptions.HeadInitializer = .glorot

    @Flag(help: "Reuse no weights: train the same architecture from a fresh initialization (the baseline).")
    var fromScratch = false

    @Flag(help: "Do not cache the outputs of the frozen bottom layers (train through them every epoch).")
    var noCache = false

    @Option(help: "Optimizer.")
    var optimizer: OptimizerSettings.Name = .adam

    @Option(name: .customLong("lr"), help: "Learning rate.")
    var learningRate: Float = 0.001

    @Option(help: "Momentum (momentum, nesterov).")
    var momentum: Float = 0.9

    @Option(help: "Learning-rate schedule.")
    var schedule: OptimizerSettings.Schedule = .constant

    @Option(help: "Steps per decay of the exponential and power schedules.")
    var decaySteps: Int = 1000

    @Option(help: "Decay rate of the exponential and power schedules.")
    var decayRate: Float = 0.1

    @Option(help: "Epochs (in all phases).")
    var epochs: Int = 100

    @Option(help: "Mini-batch size.")
    var batchSize: Int = 32

    @Option(help: ArgumentHelp("Stop when the validation loss has not improved for N epochs, restoring the best weights.", valueName: "n"))
    var patience: Int?

    @Option(help: ArgumentHelp("Clip each gradient element to ±value.", valueName: "value"))
    var clipValue: Float?

    @Option(help: ArgumentHelp("Clip each gradient's norm.", valueName: "norm"))
    var clipNorm: Float?

    @Option(help: ArgumentHelp("Clip the global norm of all gradients.", valueName: "norm"))
    var clipGlobalNorm: Float?

    @Option(help: "L1 regularization of the kernels.")
    var l1: Float?

    @Option(help: "L2 regularization of the kernels.")
    var l2: Float?

    @Option(help: ArgumentHelp("Dropout rate before the new head.", valueName: "rate"))
    var dropout: Float?

    @Option(help: "Momentum of every batch-normalization layer.")
    var bnMomentum: Double?

    @Option(help: ArgumentHelp("After N epochs, unfreeze (the topmost frozen hidden layer, or --unfreeze) and go on.", valueName: "n"))
    var unfreezeAfter: Int?

    @Option(help: ArgumentHelp("Variables to unfreeze after --unfreeze-after (regex at the start of names).", valueName: "regex"))
    var unfreeze: String?

    @Option(help: ArgumentHelp("Learning rate of the phase after --unfreeze-after (default: --lr).", valueName: "rate"))
    var unfreezeLR: Float?

    @Option(help: ArgumentHelp("Write a checkpoint after each epoch (atomically) to this safetensors file: the weights, the optimizer's state and the epoch.", valueName: "file"))
    var checkpoint: String?

    @Flag(help: "Continue from --checkpoint if it exists (same command): weights, optimizer state, epoch and batch order as an uninterrupted run (early stopping restarts its count, dropout draws new masks).")
    var resume = false

    @Option(help: ArgumentHelp("Names of the new head's classes, comma-separated (default: the original class numbers).", valueName: "names"))
    var labels: String?

    @Option(help: ArgumentHelp("Register the result under this name.", valueName: "name"))
    var saveAs: String?

    @Option(help: ArgumentHelp("Write the trained weights to this file (any writable format, by extension).", valueName: "file"))
    var out: String?

    @Flag(help: "Print a JSON summary instead of text.")
    var json = false

    @Flag(help: "No per-epoch progress.")
    var quiet = false

    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        if newHead != nil && keepHead { throw ValidationError("pass --new-head or --keep-head, not both") }
        if let newHead, newHead <= 0 { throw ValidationError("--new-head needs at least 1 class, not \(newHead)") }
        if dropLayers < 0 { throw ValidationError("--drop-layers must not be negative") }
        if dropLayers > 0 && newHead == nil { throw ValidationError("--drop-layers needs --new-head") }
        if epochs <= 0 || batchSize <= 0 { throw ValidationError("--epochs and --batch-size must be positive") }
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint") }
        if let out, OutputFormat(pathExtensionOf: out) == nil { throw ValidationError("--out: name the file .safetensors, .npz, .h5, .weights.h5 or .hdf5") }
        if let dropout, !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1)") }
    }

    struct Summary: Encodable {
        let model: String
        let trainingSamples: Int
        let validationSamples: Int
        let trainable: [[String]]
        let reused: Int
        let cachedLayers: [Int]
        let trainingSeconds: Double
        let epochs: [FineTuneResult.Epoch]
        let validation: EvaluationReport?
        let test: EvaluationReport?
        let savedAs: String?
        let out: String?
        let warnings: [String]
    }

    func run() throws {
        try reportingFailures {
            let registry = registryOptions.registry
            let pretrained = try modelOptions.reference.load(registry: registry)
            let preprocessing = pretrained.manifest.input.preprocessing
            let all = try DataLoader.load(data, split: .train).preprocessed(preprocessing)
            var (training, validation) = try dataOptions.selection.apply(to: all)
            if let val {
                validation = try dataOptions.filterOnly.apply(to: DataLoader.load(val, split: .train).preprocessed(preprocessing)).training
            }
            let testData = try test.map { try dataOptions.filterOnly.apply(to: DataLoader.load($0, split: .test).preprocessed(preprocessing)).training }

            var transferOptions = TransferOptions()
            transferOptions.head = newHead.map { .new(classes: $0) } ?? .keep
            transferOptions.dropLayers = dropLayers
            transferOptions.headInitializer = headInit
            transferOptions.freeze = freeze
            transferOptions.freezeBelow = freezeBelow
            transferOptions.dropout = dropout
            transferOptions.batchNormMomentum = bnMomentum
            transferOptions.l1 = l1
            transferOptions.l2 = l2
            transferOptions.seed = dataOptions.seed
            transferOptions.fromScratch = fromScratch
            let transfer = try TransferNetwork.build(from: pretrained, options: transferOptions)
            for warning in transfer.warnings { printWarning(warning) }
            if patience != nil && validation == nil {
                printWarning("--patience needs validation data (--val, --val-per-class or --val-split): early stopping is off")
            }

            var fineTune = FineTuneOptions()
            fineTune.optimizer.name = optimizer
            fineTune.optimizer.learningRate = learningRate
            fineTune.optimizer.momentum = momentum
            fineTune.optimizer.schedule = schedule
            fineTune.optimizer.decaySteps = decaySteps
            fineTune.optimizer.decayRate = decayRate
            fineTune.optimizer.clipValue = clipValue
            fineTune.optimizer.clipNorm = clipNorm
            fineTune.optimizer.globalClipNorm = clipGlobalNorm
            fineTune.epochs = epochs
            fineTune.batchSize = batchSize
            fineTune.patience = patience
            fineTune.cacheFrozenOutputs = !noCache
            fineTune.unfreezeAfter = unfreezeAfter
            fineTune.unfreeze = unfreeze
            fineTune.unfreezeLearningRate = unfreezeLR
            fineTune.checkpoint = checkpoint
            fineTune.resume = resume
            fineTune.seed = dataOptions.seed
            let progress = quiet || json ? nil : ProgressReporter(write: { FileHandle.standardError.write(Data($0.utf8)) })
            let result = try FineTuner.run(transfer, training: training, validation: validation, options: fineTune, progress: progress)

            let names = labels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            if let names, let newHead, names.count != newHead {
                throw ZooKitError.invalidRequest("--labels names \(names.count) classes, --new-head has \(newHead)")
            }
            let labels = names ?? (newHead == nil ? pretrained.manifest.labels : dataOptions.labels(from: []))
            let validationReport = try validation.map { try Evaluation.evaluate(transfer.network, on: $0, labels: labels) }
            let testReport = try testData.map { try Evaluation.evaluate(transfer.network, on: $0, labels: labels) }
            if let out {
                let tensors = try transfer.network.variables.map { try ZooFormat.Tensor(name: $0.name, shape: $0.shape, floats: $0.values) }
                try TensorWriter.write(tensors, to: out, format: OutputFormat(pathExtensionOf: out) ?? .safetensors, metadata: ["zoo_fine_tuned_from": pretrained.manifest.name])
            }
            if let saveAs {
                try register(saveAs, transfer: transfer, from: pretrained.manifest, labels: labels, test: testReport, registry: registry)
            }
            let summary = Summary(
                model: pretrained.manifest.name, trainingSamples: training.count, validationSamples: validation?.count ?? 0,
                trainable: result.trainable, reused: transfer.reused.count, cachedLayers: result.cachedLayers,
                trainingSeconds: result.trainingSeconds, epochs: result.epochs, validation: validationReport, test: testReport,
                savedAs: saveAs, out: out, warnings: transfer.warnings)
            if json {
                print(try prettyJSON(summary))
                return
            }
            let last = result.epochs.last
            print("fine-tuned \(pretrained.manifest.name) on \(training.count) samples (\(validation?.count ?? 0) validation): \(result.epochs.count) epochs in \(String(format: "%.3f", result.trainingSeconds)) s"
                + (result.cachedLayers.contains { $0 > 0 } ? ", bottom \(result.cachedLayers.map(String.init).joined(separator: "/")) layers cached" : ""))
            if let last { print("  last epoch: loss \(String(format: "%.4f", last.loss))" + (last.validationAccuracy.map { ", validation accuracy \(String(format: "%.4f", $0))" } ?? "")) }
            if let validationReport { print("  validation accuracy \(String(format: "%.4f", validationReport.accuracy)), loss \(String(format: "%.4f", validationReport.loss))") }
            if let testReport { print("  test accuracy \(String(format: "%.4f", testReport.accuracy)), loss \(String(format: "%.4f", testReport.loss)) on \(testReport.samples) samples") }
            if let saveAs { print("  registered as \(saveAs)") }
            if let out { print("  weights written to \(out)") }
        }
    }

    func register(_ name: String, transfer: TransferNetwork, from base: ModelManifest, labels: [String], test: EvaluationReport?, registry: Registry) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-save-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let weights = directory.appendingPathComponent(name + ".safetensors").path
        let tensors = try transfer.network.variables.map { try ZooFormat.Tensor(name: $0.name, shape: $0.shape, floats: $0.values) }
        try SafetensorsWriter.write(tensors, metadata: ["zoo_fine_tuned_from": base.name], to: weights)
        let architecture = directory.appendingPathComponent("architecture.json").path
        var manifest = base
        manifest.name = name
        manifest.architecture = transfer.specs
        manifest.head = transfer.head
        manifest.labels = labels.count == transfer.network.outputShape.last ? labels : (0..<(transfer.network.outputShape.last ?? 0)).map(String.init)
        try manifest.encoded().write(to: URL(fileURLWithPath: architecture))
        var request = ImportRequest(file: weights, name: name)
        request.architecture = .file(architecture)
        request.mapping = NameMapping(layout: "none")
        request.summary = "\(base.name) fine-tuned by zoo fine-tune"
        request.task = base.task
        request.license = base.license
        request.metrics = test.map { ["test_accuracy": $0.accuracy, "test_loss": $0.loss] } ?? [:]
        request.provenance = Provenance(framework: "zoo", frameworkVersion: Zoo.configuration.version, script: nil, source: nil, created: isoDate())
        request.force = true
        _ = try Importer.run(request, registry: registry)
    }
}

extension TransferOptions.HeadInitializer: ExpressibleByArgument {}
extension OptimizerSettings.Name: ExpressibleByArgument {}
extension OptimizerSettings.Schedule: ExpressibleByArgument {}
