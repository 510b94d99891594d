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
            (label first), or a folder of pictures DIR/<class>/<picture> (PNG or JPEG; classes in sorted order, \
            named by their folders; each picture resized and cropped as the model's input.image says, else to its \
            input size). The model's preprocessing (e.g. scale 1/255) is applied to every data set.
            The seed's exercise:
              zoo fine-tune fashion-0to4-dnn --data /usr/share/datasets/fashion-mnist --test /usr/share/datasets/fashion-mnist \\
                --classes 5-9 --per-class 100 --val-per-class 30 --new-head 5 --freeze 'hidden[1-5]' --patience 20
            A model whose architecture is a graph (a registered or imported Keras Application, a Keras model file \
            whose graph branches; any Keras file or registered model with --cut) is cut at --cut NODE (default: the \
            manifest's cut node, else what its classifier takes; a feature map gets global average pooling), gets a \
            new head of --new-head N classes, and trains with its base frozen (batch norm in inference mode) — the \
            base's features computed once — or with --unfreeze 'block_16|Conv_1' (matched at any scope) training \
            those blocks too from the start, or the book's recipe: --unfreeze-after N trains the head alone for N \
            epochs, then --unfreeze's blocks too at --unfreeze-lr (batch norm stays in inference mode, as in \
            Keras' recipe; in each phase the frozen part's outputs are computed once). DATA must have the model's \
            input shape (a model file has no preprocessing), or be picture arrays (IDX, or a tensor file's x: [N, H, W(, C)] \
            integers 0-255) for a registered picture model: the selected samples only are resized straight to its \
            input H×W with PIL's bilinear filter (gray replicated to RGB), then preprocessed. --image-size S builds a \
            registered picture model for S×S inputs. The second edition's recipe on Fashion-MNIST:
              zoo fine-tune efficientnet-lite0 --image-size 128 --cut _avg_pooling --data /usr/share/datasets/fashion-mnist \\
                --test /usr/share/datasets/fashion-mnist --test-per-class 100 --per-class 100 --new-head 10 \\
                --epochs 20 --unfreeze-after 10 --unfreeze '_blocks\\.15\\.|_conv_head' --lr 0.001 --unfreeze-lr 0.0001
              zoo fine-tune MobileNetV2.keras --data train.npz --test test.npz --new-head 5 --cut out_relu
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

    @Option(help: ArgumentHelp("Test on the first N samples of each class of --test (in file order, the same for every seed).", valueName: "n"))
    var testPerClass: Int?

    @Option(help: ArgumentHelp("Registered picture models: build the network for S×S pictures instead of its input size (a fully convolutional base with global pooling, e.g. EfficientNet-Lite0 at 128); picture arrays and image folders are resized to it.", valueName: "s"))
    var imageSize: Int?

    @Option(help: ArgumentHelp("Freeze the variables whose names match this regex at their start (TF scope style: 'hidden[1-4]'); on a graph model, at the start of any scope, the rest of the base training.", valueName: "regex"))
    var freeze: String?

    @Option(help: ArgumentHelp("Freeze every layer below this one (on a graph model: this node and every node it depends on).", valueName: "layer"))
    var freezeBelow: String?

    @Option(help: ArgumentHelp("Replace the classifier head with a dense softmax layer of N classes.", valueName: "n"))
    var newHead: Int?

    @Option(help: ArgumentHelp("Graph models: the node the new head goes on (default: the manifest's cut, else what the classifier takes).", valueName: "node"))
    var cut: String?

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

    @Option(help: ArgumentHelp("After N epochs, unfreeze (the topmost frozen hidden layer, or --unfreeze; a graph model needs --unfreeze) and go on.", valueName: "n"))
    var unfreezeAfter: Int?

    @Option(help: ArgumentHelp("Variables to unfreeze after --unfreeze-after (regex at the start of names); for a graph model matched at the start of any scope, batch norm left frozen, trained from the start without --unfreeze-after.", valueName: "regex"))
    var unfreeze: String?

    @Option(help: ArgumentHelp("Learning rate of the phase after --unfreeze-after (default: --lr).", valueName: "rate"))
    var unfreezeLR: Float?

    @Option(help: ArgumentHelp("Write a checkpoint after each epoch (atomically) to this safetensors file: the weights, the optimizer's state and the epoch.", valueName: "file"))
    var checkpoint: String?

    @Flag(help: "Continue from --checkpoint if it exists (same command): weights, optimizer state, epoch and batch order as an uninterrupted run (early stopping restarts its count, dropout draws new masks).")
    var resume = false

    @Option(help: ArgumentHelp("Write TensorBoard logs under this folder: DIR/<model>-<date>/train and …/validation, per epoch (see them with `tensorboard --logdir DIR`).", valueName: "dir"))
    var tensorboard: String?

    @Flag(help: "With --tensorboard, also log a histogram of every variable after each epoch.")
    var histograms = false

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
        if histograms && tensorboard == nil { throw ValidationError("--histograms needs --tensorboard") }
        if let out, OutputFormat(pathExtensionOf: out) == nil { throw ValidationError("--out: name the file .safetensors, .npz, .h5, .weights.h5 or .hdf5") }
        if let testPerClass, testPerClass < 1 { throw ValidationError("--test-per-class must be at least 1, not \(testPerClass)") }
        if testPerClass != nil && test == nil { throw ValidationError("--test-per-class needs --test") }
        if let imageSize, imageSize < 1 || imageSize > ModelManifest.maximumImageSize {
            throw ValidationError("--image-size must be in 1…\(ModelManifest.maximumImageSize), not \(imageSize)")
        }
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
        let tensorBoardRun: String?
        let warnings: [String]
    }

    var transferOptions: TransferOptions {
        var options = TransferOptions()
        options.head = newHead.map { .new(classes: $0) } ?? .keep
        options.dropLayers = dropLayers
        options.headInitializer = headInit
        options.freeze = freeze
        options.freezeBelow = freezeBelow
        options.dropout = dropout
        options.batchNormMomentum = bnMomentum
        options.l1 = l1
        options.l2 = l2
        options.seed = dataOptions.seed
        options.fromScratch = fromScratch
        return options
    }

    var fineTuneOptions: FineTuneOptions {
        var options = FineTuneOptions()
        options.optimizer.name = optimizer
        options.optimizer.learningRate = learningRate
        options.optimizer.momentum = momentum
        options.optimizer.schedule = schedule
        options.optimizer.decaySteps = decaySteps
        options.optimizer.decayRate = decayRate
        options.optimizer.clipValue = clipValue
        options.optimizer.clipNorm = clipNorm
        options.optimizer.globalClipNorm = clipGlobalNorm
        options.epochs = epochs
        options.batchSize = batchSize
        options.patience = patience
        options.cacheFrozenOutputs = !noCache
        options.unfreezeAfter = unfreezeAfter
        options.unfreeze = unfreeze
        options.unfreezeLearningRate = unfreezeLR
        options.checkpoint = checkpoint
        options.resume = resume
        options.tensorBoard = tensorboard.map { TensorBoardOptions(directory: $0, histograms: histograms) }
        options.seed = dataOptions.seed
        return options
    }

    /// The test samples `--test-per-class` keeps (all without it).
    func testSubset(_ data: LabeledData) throws -> LabeledData {
        try testPerClass.map { try data.firstPerClass($0) } ?? data
    }

    /// `--labels` split at commas, checked against `--new-head`'s class count.
    func labelNames() throws -> [String]? {
        let names = labels.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let names, let newHead, names.count != newHead {
            throw ZooKitError.invalidSetting(.labels, problem: "names \(names.count) classes, --new-head has \(newHead)")
        }
        return names
    }

    func run() throws {
        try reportingFailures {
            if try usesGraphPath() {
                try runGraph()
                return
            }
            if cut != nil { throw ValidationError("--cut needs a registered model, a Keras model file (.keras, or a Keras 2 .h5 with its model config) or an ONNX model") }
            if imageSize != nil { throw ValidationError("--image-size needs a registered picture model whose architecture is a graph") }
            // Every setting is checked before anything is loaded or trained.
            let transferOptions = transferOptions
            let fineTune = fineTuneOptions
            try transferOptions.validate()
            try fineTune.validate()
            try dataOptions.selection.validate()
            let names = try labelNames()

            let registry = registryOptions.registry
            let pretrained = try modelOptions.reference.load(registry: registry)
            let preprocessing = pretrained.manifest.input.preprocessing
            let images = try? ImagePipeline(input: pretrained.manifest.input)  // for a folder of pictures
            let all = try DataLoader.load(data, split: .train, images: images).preprocessed(preprocessing)
            var (training, validation) = try dataOptions.selection.apply(to: all)
            if let val {
                validation = try dataOptions.filterOnly.apply(to: DataLoader.load(val, split: .train, images: images).preprocessed(preprocessing)).training
            }
            let testData = try test.map { try testSubset(dataOptions.filterOnly.apply(to: DataLoader.load($0, split: .test, images: images).preprocessed(preprocessing)).training) }

            let transfer = try TransferNetwork.build(from: pretrained, options: transferOptions)
            for warning in transfer.warnings { printWarning(warning.message(naming: flag(for:))) }
            let shown = transfer.warnings.count
            if patience != nil && validation == nil {
                printWarning("--patience needs validation data (--val, --val-per-class or --val-split): early stopping is off")
            }
            let progress = quiet || json ? nil : ProgressReporter(write: { FileHandle.standardError.write(Data($0.utf8)) })
            let result = try FineTuner.run(transfer, training: training, validation: validation, options: fineTune, progress: progress)
            let warnings = transfer.warnings.map { $0.message(naming: flag(for:)) }
            for warning in warnings.dropFirst(shown) { printWarning(warning) }

            let labels = names ?? (newHead == nil ? pretrained.manifest.labels : dataOptions.labels(from: all.classNames ?? []))
            let validationReport = try validation.map { try Evaluation.evaluate(transfer.network, on: $0, labels: labels) }
            let testReport = try testData.map { try Evaluation.evaluate(transfer.network, on: $0, labels: labels) }
            if let out {
                try transfer.network.saveWeights(to: out, metadata: ["zoo_fine_tuned_from": pretrained.manifest.name])
            }
            if let saveAs {
                let metrics = testReport.map { ["test_accuracy": $0.accuracy, "test_loss": $0.loss] } ?? [:]
                try registry.register(transfer, as: saveAs, basedOn: pretrained.manifest, labels: labels, metrics: metrics)
            }
            let summary = Summary(
                model: pretrained.manifest.name, trainingSamples: training.count, validationSamples: validation?.count ?? 0,
                trainable: result.trainable, reused: transfer.reused.count, cachedLayers: result.cachedLayers,
                trainingSeconds: result.trainingSeconds, epochs: result.epochs, validation: validationReport, test: testReport,
                savedAs: saveAs, out: out, tensorBoardRun: result.tensorBoardRun, warnings: warnings)
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
            if let run = result.tensorBoardRun, let tensorboard { print("  TensorBoard logs in \(run) (tensorboard --logdir \(tensorboard))") }
        }
    }
}

extension TransferOptions.HeadInitializer: ExpressibleByArgument {}
extension OptimizerSettings.Name: ExpressibleByArgument {}
extension OptimizerSettings.Schedule: ExpressibleByArgument {}
