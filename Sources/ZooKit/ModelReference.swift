import Foundation
import ZooFormat

/// What commands that take MODEL accept: a registered name, or a weights file.
/// A file that carries its architecture (Keras full-model `.h5`, `.keras`) works
/// as is; any other takes an architecture from a file or a registered model.
public struct ModelReference: Sendable {
    /// A registered model's name, or a path to a weights file.
    public var reference: String
    /// A Keras model file, a Keras config JSON or a manifest, for a weights-only file.
    public var arch: String?
    /// A registered model whose architecture a weights-only file fits.
    public var like: String?
    /// The name mapping to use instead of the model's (or, for a file, instead of Keras names).
    public var mapping: NameMapping?
    /// Check a registered model's weights against the manifest's SHA-256.
    public var verify = true
    /// Build a registered picture model for `imageSize × imageSize` inputs
    /// (``ModelManifest/withImageSize(_:)``); nil: its own input size.
    public var imageSize: Int?

    /// A reference to a registered model or a file.
    /// - Parameters:
    ///   - reference: the name or path.
    ///   - arch: an architecture file for a weights-only file.
    ///   - like: a registered model whose architecture the file fits.
    public init(_ reference: String, arch: String? = nil, like: String? = nil) {
        self.reference = reference
        self.arch = arch
        self.like = like
    }

    /// Loads the model with its weights assigned (strictly).
    /// - Parameters:
    ///   - registry: where names are looked up.
    ///   - options: how strictly weights are assigned.
    /// - Throws: ``ZooKitError`` (unknown model, digest mismatch, weights that do not fit, no
    ///   architecture) and `FormatError` (a missing or malformed file).
    public func load(registry: Registry, options: AssignmentOptions = AssignmentOptions()) throws -> PretrainedModel {
        let isFile = FileManager.default.fileExists(atPath: reference)
        if !isFile, arch == nil, like == nil {
            let entry = try registry.entry(named: reference)
            var manifest = entry.manifest
            if let mapping { manifest.weights.mapping = mapping }
            if let imageSize { manifest = try manifest.withImageSize(imageSize) }
            let path = try entry.verifiedWeightsPath(verify: verify)
            return try PretrainedModel.load(manifest: manifest, weights: TensorArchive.open(path), options: options)
        }
        guard isFile else { throw FormatError(file: reference, .notFound) }
        if imageSize != nil {
            throw ZooKitError.invalidRequest("\(reference): another image size needs a registered model (its manifest gives the input and the picture settings)")
        }
        var request = ImportRequest(file: reference, name: "file")
        if let arch { request.architecture = .file(arch) }
        if let like { request.architecture = .like(like) }
        if let mapping { request.mapping = mapping }
        let built = try Importer.build(request, registry: registry)
        var manifest = built.manifest
        manifest.name = URL(fileURLWithPath: reference).deletingPathExtension().lastPathComponent
        let report = try WeightAssigner.assign(built.tensors, to: built.network, options: options)
        return PretrainedModel(manifest: manifest, network: built.network, report: report)
    }
}
