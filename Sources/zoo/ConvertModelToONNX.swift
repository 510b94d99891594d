import ArgumentParser
import Foundation
import ZooFormat
import ZooKit
import ZooNet

extension ConvertCommand {
    /// Whether OUT names an ONNX file (`.onnx`, without `--to`, which converts tensors only).
    var writesONNX: Bool { to == nil && output.lowercased().hasSuffix(".onnx") }

    /// Whether MODEL is a whole model to write as an ONNX graph: a state dict with `--arch`, a
    /// registered model's name, a Keras model file or an ONNX model. A weights file without an
    /// architecture becomes an ONNX file of its tensors alone (the tensor conversion).
    func convertsWholeModelToONNX() throws -> Bool {
        if arch != nil || buildOptions.isSet { return true }
        guard FileManager.default.fileExists(atPath: input) else { return !input.contains("/") && !input.contains(".") }
        return try TensorArchive.open(input).kerasGraph() != nil || ONNXGraphImporter.isONNXFile(input)
    }

    /// `zoo convert MODEL out.onnx [--opset N] [--channels-first]`: the whole model as an ONNX
    /// model (`ONNXExporter`), with the manifest's labels and preprocessing as metadata when
    /// MODEL has a manifest (a registered model or a model file), written atomically
    /// (`ONNXWriter`; tensors as external data past protobuf's 2 GB).
    func convertModelToONNX() throws {
        guard renames.isEmpty, only == nil, dtype == "keep", to == nil, layout == nil else {
            throw ValidationError("an .onnx output is the whole model: --to, --layout, --rename, --only and --dtype do not apply")
        }
        let network: Network, name: String, labels: [String], inputSpec: InputSpec?
        if let architecture = try resolveBuiltInArchitecture(arch, options: buildOptions) {
            network = try buildOptions.loadedNetwork(architecture, stateDict: try TensorArchive.open(input))
            (name, labels, inputSpec) = (architecture.rawValue, [], nil)
        } else {
            let model = try ModelReference(input, arch: arch).load(registry: registryOptions.registry)
            (network, name, labels, inputSpec) = (model.network, model.manifest.name, model.manifest.labels, model.manifest.input)
        }
        let options = ONNXExporter.Options(opset: opset ?? ONNXExporter.defaultOpset, channelsFirst: channelsFirst, labels: labels, input: inputSpec)
        let model = try ONNXExporter.model(of: network, name: name, options: options)
        _ = try ONNXWriter.write(model, to: output)
        print("wrote \(name) as an ONNX model (opset \(options.opset), \(channelsFirst ? "NCHW" : "NHWC") input, "
            + "\(model.graph.nodes.count) nodes, \(model.graph.initializers.count) initializers) to \(output)")
    }
}
