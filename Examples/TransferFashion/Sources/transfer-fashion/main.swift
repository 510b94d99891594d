// Transfer learning with ZooKit: reuse the hidden layers of `fashion-0to4-dnn`
// (trained on Fashion-MNIST classes 0–4) to classify classes 5–9 from only
// 100 images per class.
//
//     swift run -c release --package-path Examples/TransferFashion transfer-fashion [fashion-mnist-dir]
import Foundation
import ZooKit  // re-exports ZooFormat and ZooNet

let dataDirectory = CommandLine.arguments.dropFirst().first ?? "/usr/share/datasets/fashion-mnist"
let classes = Array(5...9)
let labelNames = ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  // classes 5–9, relabelled 0–4

func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }

do {
    // The pretrained model, found in the built-in registry (or $ZOO_REGISTRY, $ZOO_BUILTIN_REGISTRY).
    let registry = Registry.standard()
    let pretrained = try PretrainedModel.load(registry.entry(named: "fashion-0to4-dnn"))
    let preprocessing = pretrained.manifest.input.preprocessing  // pixels scaled to [0, 1]

    // Classes 5–9 only: 100 training and 30 validation images per class, seeded; all their test images.
    let trainSet = try DataLoader.load(dataDirectory, split: .train).preprocessed(preprocessing)
    let (training, validation) = try DataSelection(classes: classes, perClass: 100, validationPerClass: 30, seed: 42)
        .apply(to: trainSet)
    let testSet = try DataLoader.load(dataDirectory, split: .test).preprocessed(preprocessing)
    let test = try testSet.filtered(classes: classes)

    // These pretrained layers, then my head: hidden1…hidden5 with their weights, frozen
    // (variables whose names start with "hidden"), then a new 5-class softmax layer —
    // Keras' Model(base.input, Dense(5, activation="softmax")(base.get_layer("hidden5").output)).
    // (`pretrained.transfer(classes: 5)` is the short form: everything below the old head.)
    var transferOptions = TransferOptions()
    transferOptions.freeze = "hidden"
    let transfer = try pretrained.transfer(through: "hidden5", head: [
        .dense("new_outputs", units: labelNames.count, activation: .softmax),
    ], options: transferOptions)
    for warning in transfer.warnings { print("warning: \(warning)") }
    print("reusing \(transfer.reused.count) pretrained variables; training \(transfer.trainableNames.joined(separator: ", "))")

    var fineTune = FineTuneOptions()
    fineTune.optimizer.name = .adam
    fineTune.batchSize = 50
    fineTune.epochs = 100
    fineTune.patience = 20  // early stopping on validation loss, best weights restored
    let result = try FineTuner.run(
        transfer, training: training, validation: validation, options: fineTune, progress: ProgressReporter())
    print("trained on \(training.count) images (\(validation?.count ?? 0) validation) for \(result.epochs.count) epochs in "
        + String(format: "%.3f s", result.trainingSeconds))

    // Evaluate on the test images of classes 5–9.
    let report = try Evaluation.evaluate(transfer.network, on: test, labels: labelNames)
    print("test accuracy \(percent(report.accuracy)) on \(report.samples) images")
    for (label, accuracy) in zip(report.labels, report.perClassAccuracy) {
        print("  \(label.padding(toLength: 12, withPad: " ", startingAt: 0))\(accuracy.map(percent) ?? "-")")
    }
} catch {
    FileHandle.standardError.write(Data("transfer-fashion: \(error)\n".utf8))
    exit((error as? ZooKitError)?.exitCode ?? 1)
}
