import ArgumentParser
import Foundation
import ZooKit

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a model to a Keras model file, an ONNX model or a PyTorch state dict, or a weights file to .npy, .npz, .safetensors, Keras .h5 / .weights.h5, HDF5, .pt or .onnx.",
        discussion: """
            Whole models: when MODEL carries an architecture — a PyTorch state dict with \
            --arch NAME (a built-in architecture: resnet18, mobilenet_v2, vgg11_bn, \
            squeezenet1_1, efficientnet_lite0, pnet, …, with --classes, --width-multiplier, \
            --input-size as torchvision's constructor takes them), a registered model, a \
            Keras model file or an ONNX model — OUT.keras is a Keras 3 model (keras.models.load_model) and \
            OUT.h5 a tf-keras full model (tf_keras.models.load_model), both computing what \
            MODEL computes (NHWC: a PyTorch model's NCHW input and feature maps transposed; \
            the input is [s, s, 3] with s from --input-size). \
            PyTorch's symmetric padding becomes ZeroPadding2D + "valid", ceil-mode max pooling \
            an edge-repeating pad, AdaptiveAvgPool2d a global/plain average pooling or an \
            upsampling; a layer the target Keras cannot express is refused, naming it (exit 65). \
            With --layout pytorch, OUT (.pt) is the model's state dict with PyTorch's names \
            (layer.weight, bn.running_var, bn.num_batches_tracked, …) and layouts (OIHW \
            kernels, [out, in] Linear weights), for load_state_dict of the matching torch module.

            Tensors: otherwise the output format comes from OUT's extension (.npy, .npz, \
            .safetensors, .weights.h5 for Keras 3, .h5 for Keras 2 / tf-keras, .hdf5 for \
            plain HDF5, .pt / .pth for what torch.load(weights_only=True) reads, .onnx for an \
            ONNX file of the tensors alone: initializers that are also the graph's outputs, no \
            nodes), or --to (which always converts tensors only). Keras weights files \
            load with model.load_weights() for the same architecture when tensors are named \
            layer/weight. Every output is written to a temporary file and renamed into place, \
            so an interrupted or failed run never leaves a partial file. Examples:
              zoo convert resnet18.pt --arch resnet18 resnet18.keras
              zoo convert w.pt --arch mobilenet_v2 --width-multiplier 0.35 --classes 5 m.h5
              zoo convert model.npz model.safetensors
              zoo convert w.safetensors w.npz --rename '^dense_(\\d+)/=layer\\1/' --dtype float16
              zoo convert w.safetensors kernel.npy --only '^hidden1/kernel$'
              zoo convert fashion-0to4-dnn fashion.pt --layout pytorch

            ONNX: when MODEL is a whole model (a state dict with --arch NAME, a registered model, \
            a Keras model file or an ONNX model), OUT.onnx is an ONNX model that ONNX Runtime runs (opset 17, \
            or --opset 13…21), inference mode; image inputs and map outputs NHWC as in Zoo and \
            Keras, or NCHW with --channels-first (PyTorch's layout); the manifest's labels and \
            preprocessing in its metadata (zoo.labels, zoo.preprocessing). A layer with no ONNX \
            form is refused, naming it (exit 65). Examples:
              zoo convert model.keras model.onnx
              zoo convert resnet18.pt --arch resnet18 resnet18.onnx --channels-first --opset 13
            """
    )

    @Argument(help: "The input: a weights file in any format Zoo reads, a Keras model file, an ONNX model, or a registered model.")
    var input: String

    @Argument(help: "The output file.")
    var output: String

    @Option(help: "Output format: npy, npz, safetensors, keras2-h5, keras3-weights-h5, hdf5, pytorch or onnx (default: from OUT's extension).")
    var to: OutputFormat?

    @Option(name: .customLong("rename"), help: ArgumentHelp("Rename tensors with REGEX=REPLACEMENT ($1 or \\1 for groups); repeatable, applied in order.", valueName: "rule"))
    var renames: [String] = []

    @Option(help: ArgumentHelp("Keep only tensors whose name matches REGEX (searched anywhere; anchor with ^...$).", valueName: "regex"))
    var only: String?

    @Option(help: "Cast floating-point tensors: float32, float16, bfloat16, float64 or keep.")
    var dtype: String = "keep"

    @Flag(help: "Deflate .npz members, as np.savez_compressed.")
    var compress = false

    @Option(help: ArgumentHelp("pytorch: INPUT is a model (a registered name, a Keras model file, or a state dict with --arch NAME); write its variables as a PyTorch state dict, with PyTorch's names and layouts.", valueName: "layout"))
    var layout: ModelLayout?

    @Option(help: ArgumentHelp("The architecture of a weights-only MODEL, written as a whole Keras model (.keras / .h5): a built-in PyTorch architecture name (resnet18, mobilenet_v2, …), a Keras model file, a Keras config JSON or a manifest.", valueName: "name|file"))
    var arch: String?

    @Option(help: ArgumentHelp("OUT.onnx: the ONNX opset, 13…21 (default 17).", valueName: "n"))
    var opset: Int?

    @Flag(help: "OUT.onnx: NCHW image inputs and map outputs (PyTorch's layout) instead of NHWC.")
    var channelsFirst = false

    @OptionGroup var buildOptions: ArchitectureBuildOptions

    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        if to == nil && OutputFormat(pathExtensionOf: output) == nil && KerasModelFormat(pathExtensionOf: output) == nil {
            throw ValidationError("cannot tell the output format from '\(output)': name it .keras, .npy, .npz, .safetensors, .h5, .weights.h5, .hdf5, .pt or .onnx, or pass --to")
        }
        if !writesONNX && (opset != nil || channelsFirst) {
            throw ValidationError("--opset and --channels-first apply to an .onnx output")
        }
        if dtype != "keep", DType(name: dtype)?.isFloatingPoint != true {
            throw ValidationError("--dtype must be float32, float16, bfloat16, float64 or keep, not '\(dtype)'")
        }
    }

    func run() throws {
        try reportingFailures {
            if writesONNX, try convertsWholeModelToONNX() {
                try convertModelToONNX()
                return
            }
            if opset != nil || channelsFirst {
                throw ValidationError("--opset and --channels-first apply to a whole model written as .onnx (a model file, a registered model, or --arch)")
            }
            if layout == .pytorch {
                try convertModelToPyTorch(format: to ?? OutputFormat(pathExtensionOf: output) ?? .pytorch)
                return
            }
            if let network = try modelToConvert() {
                guard let format = KerasModelFormat(pathExtensionOf: output) else {
                    throw ZooKitError.invalidRequest("a whole model is written as a Keras 3 .keras or a tf-keras .h5 file, not '\(output)'")
                }
                let name = network.name
                let count = try KerasModelExporter.write(network.network, name: name, to: output, format: format)
                print("wrote \(name) as a \(format.version.rawValue) model (\(count) layers, \(network.network.variables.count) variables) to \(output)")
                return
            }
            guard let format = to ?? OutputFormat(pathExtensionOf: output) else { throw ExitCode(64) }
            let options = ConvertOptions(
                renames: try renames.map { rule throws(TensorRuleError) in try TensorRenameRule(rule) },
                only: try only.map { pattern throws(TensorRuleError) in try TensorFilter(pattern) },
                floatType: dtype == "keep" ? nil : DType(name: dtype),
                compress: compress)
            let archive = try TensorArchive.open(input)
            let written = try archive.write(to: output, format: format, options: options)
            if written.isEmpty { printWarning("no tensor matched; wrote an empty \(format.rawValue) file") }
            let bytes = written.reduce(0) { $0 + $1.byteCount }
            print("wrote \(written.count) tensor\(written.count == 1 ? "" : "s") (\(formatBytes(bytes))) to \(output) (\(format.rawValue))")
        }
    }
}

extension ConvertCommand {
    /// The network to write as a Keras model (from a state dict with `--arch`, a registered model, a
    /// Keras model file or an ONNX model), with its name; nil for a tensor conversion
    /// (`--to` given, an output that is not `.keras` / `.h5`, or a weights file without `--arch`).
    /// - Throws: `ZooKitError` for an unknown architecture (64), a state dict that does not
    ///   fit it (65), `--arch` with an output that cannot hold a model (64).
    func modelToConvert() throws -> (network: Network, name: String)? {
        let kerasOutput = to == nil ? KerasModelFormat(pathExtensionOf: output) : nil
        if let architecture = try resolveBuiltInArchitecture(arch, options: buildOptions) {
            guard kerasOutput != nil else {
                throw ZooKitError.invalidRequest("--arch \(architecture.rawValue) builds a whole model: name the output .keras (Keras 3) or .h5 (tf-keras)")
            }
            return (try buildOptions.loadedNetwork(architecture, stateDict: try TensorArchive.open(input)), architecture.rawValue)
        }
        guard kerasOutput != nil else {
            if arch != nil { throw ZooKitError.invalidRequest("--arch builds a whole model: name the output .keras (Keras 3) or .h5 (tf-keras)") }
            return nil
        }
        let stem = String(input.split(separator: "/").last ?? "model").split(separator: ".").first.map(String.init) ?? "model"
        if let arch {
            return (try ModelReference(input, arch: arch).load(registry: registryOptions.registry).network, stem)
        }
        if FileManager.default.fileExists(atPath: input) {
            if ONNXGraphImporter.isONNXFile(input) {  // an ONNX model (its graph converted)
                return (try ModelReference(input).load(registry: registryOptions.registry).network, stem)
            }
            guard try TensorArchive.open(input).kerasGraph() != nil else {
                if KerasModelFormat(pathExtensionOf: output) == .keras3 {
                    throw ZooKitError.invalidRequest("\(input) holds weights only: give --arch NAME (a built-in architecture) or a file with the architecture to write a .keras model")
                }
                return nil  // weights → a Keras 2 weights .h5, as before
            }
            return (try KerasModelImporter.load(input).network, stem)
        }
        guard !input.contains("/"), !input.contains(".") else { return nil }  // a missing file: the tensor path reports it
        return (try ModelReference(input).load(registry: registryOptions.registry).network, input)
    }
}

extension OutputFormat: ExpressibleByArgument {}
