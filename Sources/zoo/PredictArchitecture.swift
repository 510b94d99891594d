import ArgumentParser
import Foundation
import ZooKit
import ZooNet

/// How to build a built-in architecture named by `--arch` (the PyTorch constructor's options).
struct ArchitectureBuildOptions: ParsableArguments {
    @Option(help: ArgumentHelp("With --arch NAME: the number of classes (torchvision's num_classes; default 1000).", valueName: "n"))
    var classes: Int?

    @Option(help: ArgumentHelp("With --arch NAME: the width multiplier (width_mult) of mobilenet_v2/v3.", valueName: "alpha"))
    var widthMultiplier: Double?

    @Option(help: ArgumentHelp("With --arch NAME: the input side (predict: default the --input's; convert: default the architecture's, 224, pnet 12, rnet 24, onet 48).", valueName: "pixels"))
    var inputSize: Int?

    var isSet: Bool { classes != nil || widthMultiplier != nil || inputSize != nil }

    /// `architecture` built with these options (`inputSize` when `--input-size` is not given)
    /// and the PyTorch state dict `weights` loaded into it, strictly.
    func loadedNetwork(_ architecture: Architecture, stateDict weights: TensorArchive, inputSize fallback: Int? = nil) throws -> Network {
        let network = try architecture.build(classes: classes, widthMultiplier: widthMultiplier ?? 1, inputSize: inputSize ?? fallback)
        try Architecture.loadStateDict(weights, into: network, architecture: architecture)
        return network
    }
}

/// The built-in architecture `--arch` names, nil when `--arch` is absent or an existing file (or
/// looks like a path: it has a `/` or a `.`), so the file path handles it.
/// - Throws: `ZooKitError.invalidRequest` (exit 64) for an unknown name, listing the known
///   ones, and for build options given without a built-in architecture.
func resolveBuiltInArchitecture(_ arch: String?, options: ArchitectureBuildOptions) throws -> Architecture? {
    guard let arch, !FileManager.default.fileExists(atPath: arch), !arch.contains("/"), !arch.contains(".") else {
        if options.isSet { throw ZooKitError.invalidRequest("--classes, --width-multiplier and --input-size need --arch NAME of a built-in architecture") }
        return nil
    }
    guard let architecture = Architecture(rawValue: arch) else {
        throw ZooKitError.invalidRequest("--arch '\(arch)' is neither a file nor a built-in architecture; the built-in ones are "
                                         + Architecture.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return architecture
}

extension PredictCommand {
    /// The built-in architecture `--arch` names (see the free function).
    func builtInArchitecture() throws -> Architecture? {
        try resolveBuiltInArchitecture(modelOptions.arch, options: buildOptions)
    }

    /// `zoo predict W.pt --arch NAME`: builds the architecture, loads the PyTorch state dict
    /// strictly, runs the NCHW `--input` as the module's `forward` would and writes its outputs
    /// (NCHW feature maps; several outputs into a `.npz` as `output_0`, `output_1`, …).
    func predictBuiltIn(_ architecture: Architecture) throws {
        if preprocess { throw ZooKitError.invalidRequest("--preprocess needs a registered model; give --arch \(architecture.rawValue) its inputs preprocessed") }
        if modelOptions.like != nil { throw ZooKitError.invalidRequest("--arch \(architecture.rawValue) and --like exclude each other") }
        guard let input, let out else { throw ValidationError("--arch \(architecture.rawValue) takes --input FILE and --out FILE") }
        let weights = try TensorArchive.open(modelOptions.model)
        let archive = try TensorArchive.open(input)
        guard let stored = archive.tensors.first else { throw ZooKitError.invalidRequest("\(input) holds no tensor") }
        guard stored.shape.count == 4 else {
            throw ZooKitError.invalidRequest("\(input): '\(stored.name)' is \(shapeText(stored.shape)); --arch \(architecture.rawValue) takes an NCHW batch [N, 3, H, W]")
        }
        let (height, width) = (stored.shape[2], stored.shape[3])
        guard height == width else {
            throw ZooKitError.invalidRequest("\(input): the built-in architectures take square images, this batch is \(height) × \(width)")
        }
        let network = try buildOptions.loadedNetwork(architecture, stateDict: weights,
                                                     inputSize: architecture.hasVariableInputSize ? height : architecture.defaultInputSize)
        let outputs = try TorchLayout.predict(network, nchw: try ZooNet.Tensor(stored), nodes: nodes.isEmpty ? nil : nodes)
        let names = outputs.indices.map { "output_\($0)" }
        if out.hasSuffix(".npz") {
            try NPZWriter.write(zip(names, outputs).map { try StoredTensor(name: $0, $1) }, to: out)
        } else {
            guard outputs.count == 1 else {
                throw ZooKitError.invalidRequest("\(architecture.rawValue) returns \(outputs.count) outputs: give --out a .npz (arrays \(names.joined(separator: ", ")))")
            }
            try NPYWriter.write(try StoredTensor(name: "outputs", outputs[0]), to: out)
        }
        print("wrote \(outputs.map { shapeText($0.shape) }.joined(separator: ", ")) outputs of \(architecture.rawValue) to \(out)")
    }
}
