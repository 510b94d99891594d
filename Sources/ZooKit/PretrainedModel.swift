import ZooFormat
import ZooNet

/// A registered model loaded into the engine: the manifest, the network with
/// the pretrained weights assigned, and the assignment report.
public final class PretrainedModel {
    /// The model's manifest.
    public let manifest: ModelManifest
    /// The network, built from the manifest's architecture, with the weights assigned (a
    /// `Sequential` when the architecture is a chain).
    public let network: Network
    /// What the assignment did (complete unless a partial assignment was asked for).
    public let report: AssignmentReport

    init(manifest: ModelManifest, network: Network, report: AssignmentReport) {
        self.manifest = manifest
        self.network = network
        self.report = report
    }

    /// Builds the network of `entry` and assigns its weights (digest checked unless `verify` is false).
    /// - Parameters:
    ///   - entry: the registered model.
    ///   - options: how strictly the weights are assigned.
    ///   - verify: check the file's SHA-256 against the manifest.
    ///   - seed: initializes what the weights do not fill (with a partial assignment).
    /// - Throws: ``ZooKitError/digestMismatch(file:expected:found:)``, ``ZooKitError/weightsMissing(model:path:)``,
    ///   ``ZooKitError/weightsNotFetched(model:)``, ``ZooKitError/assignmentFailed(_:)`` (strict unless
    ///   `options` say otherwise), and `FormatError` for a malformed file.
    public static func load(_ entry: RegistryEntry, options: AssignmentOptions = AssignmentOptions(), verify: Bool = true, seed: UInt64 = 0) throws -> PretrainedModel {
        let path = try entry.verifiedWeightsPath(verify: verify)
        return try load(manifest: entry.manifest, weights: TensorArchive.open(path), options: options, seed: seed)
    }

    /// Builds the network `manifest` describes and assigns the tensors of `weights`
    /// through the manifest's name mapping.
    public static func load(manifest: ModelManifest, weights: TensorArchive, options: AssignmentOptions = AssignmentOptions(), seed: UInt64 = 0) throws -> PretrainedModel {
        let network = try manifest.buildNetwork(seed: seed)
        // A registered ONNX model's weights are read through its graph; other ONNX files are tensors.
        let tensors = manifest.weights.format == .onnx && weights.format == .onnx
            ? try Importer.onnxWeights(weights.file, inputShape: manifest.input.shape)
            : try manifest.weights.mapping.apply(to: weights, network: network)
        let report = try WeightAssigner.assign(tensors, to: network, options: options)
        return PretrainedModel(manifest: manifest, network: network, report: report)
    }

    /// Parameter count of the network (all variables).
    public var parameterCount: Int { network.variables.reduce(0) { $0 + $1.count } }
}
