import ArgumentParser
import ZooFormat
import ZooKit
import ZooNet

/// The layouts `zoo convert --layout` writes a model's variables in.
enum ModelLayout: String, ExpressibleByArgument, CaseIterable {
    /// PyTorch's names and layouts (a `state_dict`).
    case pytorch
}

extension ConvertCommand {
    /// `zoo convert MODEL out.pt --layout pytorch`: the model's variables as a PyTorch state
    /// dict (`TorchStateDictExport`), in `format` (normally `.pt`; any tensor format works).
    func convertModelToPyTorch(format: OutputFormat) throws {
        guard renames.isEmpty, only == nil, dtype == "keep" else {
            throw ValidationError("--layout pytorch writes the whole model: --rename, --only and --dtype do not apply")
        }
        let (network, name): (Network, String)
        if let architecture = try resolveBuiltInArchitecture(arch, options: buildOptions) {
            network = try buildOptions.loadedNetwork(architecture, stateDict: try TensorArchive.open(input))
            name = architecture.rawValue
        } else {
            let model = try ModelReference(input, arch: arch).load(registry: registryOptions.registry)
            (network, name) = (model.network, model.manifest.name)
        }
        let (tensors, untranslated) = try TorchStateDictExport.tensors(of: network)
        if !untranslated.isEmpty {
            printWarning("\(untranslated.count) variable\(untranslated.count == 1 ? "" : "s") of layers PyTorch has no parameters for, written as they are: "
                + untranslated.prefix(4).joined(separator: ", ") + (untranslated.count > 4 ? ", …" : ""))
        }
        try TensorWriter.write(tensors, to: output, format: format, compress: compress)
        let bytes = tensors.reduce(0) { $0 + $1.byteCount }
        print("wrote \(tensors.count) tensor\(tensors.count == 1 ? "" : "s") (\(formatBytes(bytes))) of \(name) to \(output) "
            + "(\(format.rawValue), PyTorch names and layouts)")
    }
}
