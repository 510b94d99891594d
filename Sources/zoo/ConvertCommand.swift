import ArgumentParser
import ZooFormat

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a weights file to .npy, .npz, .safetensors, Keras .h5 / .weights.h5, HDF5 or PyTorch .pt.",
        discussion: """
            The output format comes from OUT's extension (.npy, .npz, .safetensors, \
            .weights.h5 for Keras 3, .h5 for Keras 2 / tf-keras, .hdf5 for plain HDF5, \
            .pt / .pth for a PyTorch state dict that torch.load(weights_only=True) reads), \
            or --to. With --layout pytorch, INPUT is a model (a registered name or a Keras \
            model file) and its variables are written with PyTorch's names (layer.weight, \
            bn.running_var, …) and layouts (OIHW kernels, [out, in] Linear weights), ready \
            for load_state_dict of the matching torch module. Keras outputs load with model.load_weights() for the same \
            architecture when tensors are named layer/weight. The output is written \
            to a temporary file and renamed into place, so an interrupted run never leaves \
            a partial file. Examples:
              zoo convert model.npz model.safetensors
              zoo convert w.safetensors w.npz --rename '^dense_(\\d+)/=layer\\1/' --dtype float16
              zoo convert w.safetensors kernel.npy --only '^hidden1/kernel$'
              zoo convert fashion-0to4-dnn fashion.pt --layout pytorch
            """
    )

    @Argument(help: "The input weights file, in any format Zoo reads.")
    var input: String

    @Argument(help: "The output file.")
    var output: String

    @Option(help: "Output format: npy, npz, safetensors, keras2-h5, keras3-weights-h5, hdf5 or pytorch (default: from OUT's extension).")
    var to: OutputFormat?

    @Option(name: .customLong("rename"), help: ArgumentHelp("Rename tensors with REGEX=REPLACEMENT ($1 or \\1 for groups); repeatable, applied in order.", valueName: "rule"))
    var renames: [String] = []

    @Option(help: ArgumentHelp("Keep only tensors whose name matches REGEX (searched anywhere; anchor with ^...$).", valueName: "regex"))
    var only: String?

    @Option(help: "Cast floating-point tensors: float32, float16, bfloat16, float64 or keep.")
    var dtype: String = "keep"

    @Flag(help: "Deflate .npz members, as np.savez_compressed.")
    var compress = false

    @Option(help: ArgumentHelp("pytorch: INPUT is a model (a registered name or a Keras model file); write its variables as a PyTorch state dict, with PyTorch's names and layouts.", valueName: "layout"))
    var layout: ModelLayout?

    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        if to == nil && OutputFormat(pathExtensionOf: output) == nil {
            throw ValidationError("cannot tell the output format from '\(output)': name it .npy, .npz, .safetensors, .h5, .weights.h5, .hdf5 or .pt, or pass --to")
        }
        if dtype != "keep", DType(name: dtype)?.isFloatingPoint != true {
            throw ValidationError("--dtype must be float32, float16, bfloat16, float64 or keep, not '\(dtype)'")
        }
    }

    func run() throws {
        try reportingFailures {
            guard let format = to ?? OutputFormat(pathExtensionOf: output) else { throw ExitCode(64) }
            if layout == .pytorch {
                try convertModelToPyTorch(format: format)
                return
            }
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

extension OutputFormat: ExpressibleByArgument {}
