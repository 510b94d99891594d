import ArgumentParser
import Foundation
import ZooFormat
import ZooKit
import ZooNet

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a model on inputs from a tensor file and write its outputs as .npy.",
        discussion: """
            The inputs are the first tensor of --input (any readable format), shaped [N] + the model's \
            input shape or any shape with the same element count per sample ([N, 28, 28] for a [784] \
            model). Outputs are what the last layer gives (softmax probabilities); --logits gives the \
            values before the final activation. The manifest's preprocessing is applied only with --preprocess.
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("The inputs.", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("Where to write the outputs (.npy).", valueName: "file"))
    var out: String

    @Flag(help: "Output the values before the final activation.")
    var logits = false

    @Flag(help: "Apply the model's preprocessing (e.g. scale 1/255) to the inputs first.")
    var preprocess = false

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        try reportingFailures {
            let model = try modelOptions.reference.load(registry: registryOptions.registry)
            let archive = try TensorArchive.open(input)
            guard let tensor = archive.tensors.first else { throw ZooKitError.invalidRequest("\(input) holds no tensor") }
            guard let count = tensor.shape.first else { throw ZooKitError.invalidRequest("\(input): a scalar is not a batch of inputs") }
            var data = LabeledData(inputs: try tensor.floats(), sampleShape: Array(tensor.shape.dropFirst()), labels: [Int](repeating: 0, count: count), source: input)
            if preprocess { data = data.preprocessed(model.manifest.input.preprocessing) }
            data = try data.reshaped(to: model.network.inputShape)
            let network = logits
                ? try Evaluation.logitsNetwork(specs: model.manifest.architecture, inputShape: model.manifest.input.shape, from: model.network)
                : model.network
            let output = try network.predict(try data.inputTensor())
            try NPYWriter.write(try StoredTensor(name: "outputs", output), to: out)
            print("wrote \(shapeText(output.shape)) \(logits ? "logits" : "outputs") to \(out)")
        }
    }
}
