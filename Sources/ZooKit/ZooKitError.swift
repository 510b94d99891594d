// `import ZooKit` is enough to use the registry and the transfer pipeline: the engine's and
// the formats' types appear in its API (`Sequential`, `ProgressReporter`, `TensorArchive`).
@_exported import ZooFormat
@_exported import ZooNet

/// Errors of the registry, weight assignment and transfer pipeline.
/// `description` names the file or model, the key, what was expected and what was found.
public enum ZooKitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A manifest that does not parse or misses a field.
    case badManifest(file: String, key: String, problem: String)
    /// No model by that name in any registry; `hint` is the closest name.
    case unknownModel(name: String, hint: String?, searched: [String])
    /// A layer the engine cannot build.
    case unsupportedLayer(name: String, type: String, reason: String)
    /// Layers of a model config that cannot become engine layers, grouped by class.
    case unsupportedLayers(UnsupportedLayers)
    /// The architecture does not build (shapes).
    case architecture(model: String, reason: String)
    /// A file whose SHA-256 differs from the manifest's.
    case digestMismatch(file: String, expected: String, found: String)
    /// Weights that do not fit the network, with the report.
    case assignmentFailed(AssignmentReport)
    /// A download that failed.
    case download(url: String, reason: String)
    /// Weights neither beside the manifest nor cached, and no URL to fetch them from.
    case weightsMissing(model: String, path: String)
    /// A registry folder that cannot be written.
    case registryNotWritable(path: String, reason: String)
    /// A model name already registered (import without --force).
    case alreadyRegistered(name: String, path: String)
    /// An invalid request (option values and combinations).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .badManifest(let file, let key, let problem):
            return "\(file): invalid manifest at '\(key)': \(problem)"
        case .unknownModel(let name, let hint, let searched):
            return "no model named '\(name)'" + (hint.map { " (did you mean '\($0)'?)" } ?? "")
                + " in " + (searched.isEmpty ? "any registry" : searched.joined(separator: ", "))
        case .unsupportedLayer(let name, let type, let reason):
            return "layer '\(name)' (\(type)): \(reason)"
        case .unsupportedLayers(let layers):
            return layers.description
        case .architecture(let model, let reason):
            return "\(model): the architecture does not build: \(reason)"
        case .digestMismatch(let file, let expected, let found):
            return "\(file): SHA-256 mismatch: the manifest says \(expected), the file has \(found)"
        case .assignmentFailed(let report):
            return "the weights do not fit the network:\n" + report.problemSummary
        case .download(let url, let reason):
            return "cannot download \(url): \(reason)"
        case .weightsMissing(let model, let path):
            return "\(model): the weights file \(path) is not there and the manifest has no url to fetch it from"
        case .registryNotWritable(let path, let reason):
            return "cannot write the registry at \(path): \(reason)"
        case .alreadyRegistered(let name, let path):
            return "a model named '\(name)' is already registered at \(path) (pass --force to replace it)"
        case .invalidRequest(let message):
            return message
        }
    }

    /// The house exit codes: 65 malformed input, 66 missing input, 73 unwritable, 64 usage, 1 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .badManifest, .digestMismatch, .assignmentFailed, .unsupportedLayer, .unsupportedLayers, .architecture: 65
        case .weightsMissing: 66
        case .registryNotWritable: 73
        case .invalidRequest, .alreadyRegistered: 64
        case .unknownModel: 66
        case .download: 69
        }
    }
}
