import ArgumentParser
import Foundation
import ZooFormat
import ZooKit
import ZooNet

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a model on pictures (top-k labels) or on inputs from a tensor file (outputs written as .npy).",
        discussion: """
            Pictures: PICTURE... are PNG or JPEG files (known by their bytes, not their names) or directories \
            of them (their files in sorted order). Each is decoded upright (a JPEG's EXIF orientation applied), \
            converted to RGB (gray for a 1-channel model), resized with PIL's antialiased bilinear filter and \
            center-cropped as the manifest's input.image says (else resized to the input's height × width), \
            then the model's preprocessing is applied. Per picture, the --top K labels with their output values \
            (softmax probabilities) are printed, or JSON with --json:
              zoo predict efficientnet-lite0 cat.jpg dog.png photos/ --top 5

            Tensors: the inputs are the first tensor of --input (any readable format), shaped [N] + the model's \
            input shape or any shape with the same element count per sample ([N, 28, 28] for a [784] \
            model). Outputs are what the last layer gives (softmax probabilities); --logits gives the \
            values before the final activation. A model with several outputs (the MTCNN stages) writes them \
            all into the .npz --out, named by output node; pictures show the classifier output's labels. The manifest's preprocessing is applied only with --preprocess.

            A Keras model file (.keras, Keras 2 .h5) runs whatever its graph is: nested models, \
            branches, shared layers; a model with several inputs takes the tensors of --input in \
            order (a .npz), one with several outputs writes them into a .npz named by output.

            An ONNX model (.onnx) runs its graph converted to Zoo's layers (opsets 11–21: convolutions, \
            Gemm/MatMul, batch norm, pooling, activations, Add/Mul/Concat, Flatten/Reshape/Transpose, Resize, \
            Pad, shape computations folded); --input is in the ONNX model's layout (NCHW for torch exports), \
            the outputs are the graph's in its layout, several into a .npz named by output.

            A PyTorch state dict runs with --arch NAME, a built-in architecture (torchvision's \
            resnet18…152, mobilenet_v2, mobilenet_v3_small/large, efficientnet_b0, vgg11, vgg11_bn, \
            vgg16, squeezenet1_1, densenet121; efficientnet_lite0; facenet-pytorch's pnet, rnet, onet), \
            built with --classes, --width-multiplier, --input-size as the PyTorch constructor would be. \
            --input is NCHW as torch takes it; the outputs are what the module's forward returns \
            (feature maps NCHW; several outputs: --out names a .npz holding output_0, output_1, …; \
            --logits changes nothing there).
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: ArgumentHelp("Pictures (PNG, JPEG) or directories of them, instead of --input.", valueName: "picture"))
    var pictures: [String] = []

    @Option(help: ArgumentHelp("The inputs (a tensor file).", valueName: "file"))
    var input: String?

    @Option(help: ArgumentHelp("Where to write the outputs (.npy), with --input.", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("Labels printed per picture.", valueName: "k"))
    var top = 5

    @Flag(help: "Print the pictures' top labels as JSON.")
    var json = false

    @Flag(help: "Output the values before the final activation.")
    var logits = false

    @Flag(help: "Apply the model's preprocessing (e.g. scale 1/255) to the inputs first.")
    var preprocess = false

    @Option(name: .customLong("node"), help: ArgumentHelp("Output this node's values instead of the model's outputs (Keras model files and --arch NAME; repeatable): features at a cut point.", valueName: "name"))
    var nodes: [String] = []

    @OptionGroup var buildOptions: ArchitectureBuildOptions

    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        if pictures.isEmpty {
            guard input != nil, out != nil else { throw ValidationError("give pictures, or --input FILE and --out FILE") }
        } else {
            guard input == nil, out == nil else { throw ValidationError("pictures and --input/--out do not go together") }
            guard top > 0 else { throw ValidationError("--top must be positive, not \(top)") }
            guard nodes.isEmpty, !preprocess else { throw ValidationError("--node and --preprocess are for --input (pictures are always preprocessed)") }
        }
    }

    func run() throws {
        try reportingFailures {
            if !pictures.isEmpty {
                try predictPictures()
                return
            }
            if let architecture = try builtInArchitecture() {
                try predictBuiltIn(architecture)
                return
            }
            guard let input, let out else { return }
            if modelOptions.arch == nil, modelOptions.like == nil, ONNXGraphImporter.isONNXFile(modelOptions.model) {
                try predictONNXGraph(input: input, out: out)
                return
            }
            if modelOptions.arch == nil, modelOptions.like == nil, FileManager.default.fileExists(atPath: modelOptions.model),
               try TensorArchive.open(modelOptions.model).kerasGraph() != nil {
                try predictKerasGraph()
                return
            }
            let model = try modelOptions.reference.load(registry: registryOptions.registry)
            let archive = try TensorArchive.open(input)
            guard let tensor = archive.tensors.first else { throw ZooKitError.invalidRequest("\(input) holds no tensor") }
            guard let count = tensor.shape.first else { throw ZooKitError.invalidRequest("\(input): a scalar is not a batch of inputs") }
            var data = LabeledData(inputs: try tensor.floats(), sampleShape: Array(tensor.shape.dropFirst()), labels: [Int](repeating: 0, count: count), source: input)
            if preprocess { data = data.preprocessed(model.manifest.input.preprocessing) }
            data = try data.reshaped(to: model.network.inputShape)
            let network = logits
                ? try Evaluation.logitsNetwork(architecture: model.manifest.architecture, from: model.network)
                : model.network
            try write(try network.predict([try data.inputTensor()]), names: network.outputNames, to: out)
        }
    }

    /// A Keras model file (any graph: nested models, branches, shared layers): one input tensor
    /// per model input (`--input` holds them in order), one output per model output, `--out` a
    /// `.npz` when there are several.
    private func predictKerasGraph() throws {
        guard let input, let out else { return }
        if preprocess { throw ZooKitError.invalidRequest("--preprocess needs a registered model (a file has no manifest)") }
        let (network, _) = try KerasModelImporter.load(modelOptions.model, logits: logits)
        let archive = try TensorArchive.open(input)
        guard archive.tensors.count >= network.inputShapes.count else {
            throw ZooKitError.invalidRequest("\(input) holds \(archive.tensors.count) tensors; the model takes \(network.inputShapes.count) inputs")
        }
        let inputs = try zip(archive.tensors, network.inputShapes).map { tensor, shape -> ZooNet.Tensor in
            guard let count = tensor.shape.first, tensor.shape.dropFirst().reduce(1, *) == shape.reduce(1, *) else {
                throw ZooKitError.invalidRequest("\(input): '\(tensor.name)' is \(shapeText(tensor.shape)); the model takes [N] + \(shapeText(shape))")
            }
            return try ZooNet.Tensor(shape: [count] + shape, scalars: tensor.floats())
        }
        let outputs = nodes.isEmpty ? try network.predict(inputs) : try network.predict(inputs, outputs: nodes)
        try write(outputs, names: nodes.isEmpty ? network.outputTensors.map(\.name) : nodes, to: out)
    }

    /// One output as `.npy` (named `outputs`), several into the `.npz` `out` named by output.
    func write(_ outputs: [ZooNet.Tensor], names: [String], to out: String) throws {
        if outputs.count == 1 {
            try NPYWriter.write(try StoredTensor(name: "outputs", outputs[0]), to: out)
        } else {
            guard out.hasSuffix(".npz") else {
                throw ZooKitError.invalidRequest("the model has \(outputs.count) outputs (\(names.joined(separator: ", "))): give --out a .npz")
            }
            try NPZWriter.write(zip(names, outputs).map { try StoredTensor(name: $0, $1) }, to: out)
        }
        let described = outputs.count == 1
            ? shapeText(outputs[0].shape) : zip(names, outputs).map { "\($0) \(shapeText($1.shape))" }.joined(separator: ", ")
        print("wrote \(described) \(logits ? "logits" : "outputs") to \(out)")
    }

    /// Pictures through the model's image settings and preprocessing, the top labels of each.
    private func predictPictures() throws {
        let model = try modelOptions.reference.load(registry: registryOptions.registry)
        let files = try PictureClassifier.expand(pictures)
        let network = logits
            ? try Evaluation.logitsNetwork(architecture: model.manifest.architecture, from: model.network)
            : model.network
        let predictions = try PictureClassifier.predict(files: files, model: model, network: network, top: top)
        if json {
            print(try prettyJSON(predictions))
            return
        }
        for prediction in predictions {
            print(prediction.file)
            for (rank, entry) in prediction.top.enumerated() {
                print("  \(rank + 1)  \(String(format: "%.4f", entry.probability))  \(entry.label)")
            }
        }
    }
}
