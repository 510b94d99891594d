// `import ZooKit` is enough to use the registry and the transfer pipeline: the engine's and
// the formats' types appear in its API (`Sequential`, `ProgressReporter`, `TensorArchive`).
@_exported import ZooFormat
@_exported import ZooNet

/// Errors of the registry, weight assignment and transfer pipeline.
///
/// Every case is worded in one place, `message(naming:)`: `description` names settings as
/// the library spells them (`TransferOptions.freeze`); the `zoo` command line passes its flag
/// names instead (`--freeze`), so one error reads right in Swift code and in a terminal.
/// The message names the file or model, the key, what was expected and what was found.
public enum ZooKitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A manifest that does not parse or misses a field.
    case badManifest(file: String, key: String, problem: String)
    /// No model by that name in any registry; `hint` is the closest name.
    case unknownModel(name: String, hint: String?, searched: [String])
    /// A layer the engine cannot build.
    case unsupportedLayer(name: String, type: String, reason: String)
    /// Layers of a model config that cannot become engine layers, grouped by class.
    case unsupportedLayers(UnsupportedLayers)
    /// Layers of a network that no layer of the target Keras can express (`target` is
    /// `Keras 3` or `tf-keras`), grouped by the engine's layer kind.
    case notKerasExpressible(target: String, UnsupportedLayers)
    /// Layers of a network with no ONNX form (custom layers, settings ONNX cannot express),
    /// grouped by the engine's layer kind.
    case notONNXExpressible(UnsupportedLayers)
    /// The architecture does not build (shapes).
    case architecture(model: String, reason: String)
    /// ONNX nodes that cannot become engine layers, grouped by operator.
    case unsupportedONNXOps(UnsupportedONNXOps)
    /// An ONNX graph that is not a valid graph (a cycle, a value no node makes), naming the nodes.
    case invalidONNXGraph(nodes: [String], problem: String)
    /// A file whose SHA-256 differs from the manifest's.
    case digestMismatch(file: String, expected: String, found: String)
    /// Weights that do not fit the network, with the report.
    case assignmentFailed(AssignmentReport)
    /// A download that failed.
    case download(url: String, reason: String)
    /// Weights neither beside the manifest nor cached, and no URL to fetch them from.
    case weightsMissing(model: String, path: String)
    /// Weights with a URL or a pip source that have not been fetched yet (``Fetcher/fetch(_:progress:pip:)`` downloads them).
    case weightsNotFetched(model: String)
    /// A registry folder that cannot be written.
    case registryNotWritable(path: String, reason: String)
    /// A file or folder of the download cache (``WeightsCache``) that cannot be written or removed.
    case cacheNotWritable(path: String, reason: String)
    /// A model name already registered (an import without ``ImportRequest/force``).
    case alreadyRegistered(name: String, path: String)
    /// A setting whose value cannot work; `problem` continues a sentence that starts with
    /// the setting's name ("TransferOptions.freeze" + " '[' is not a valid regular expression").
    case invalidSetting(Setting, problem: String)
    /// A setting that works only together with another one (`dropLayers` needs a new head).
    case settingNeeds(Setting, Setting)
    /// Two settings that exclude each other.
    case settingsConflict(Setting, Setting)
    /// Something the inputs do not say, which a setting must supply; `reason` says what is missing.
    case settingRequired(Setting, reason: String)
    /// A fine-tuning checkpoint written by another run (another model, data or options);
    /// `differences` names the settings that differ (`optimizer.momentum: 0.9 in the checkpoint,
    /// 0.5 now`), empty when the checkpoint records no settings to compare.
    case checkpointOfAnotherRun(path: String, differences: [String])
    /// An invalid request that no single setting explains (data that does not fit the model, …).
    case invalidRequest(String)
    /// A PyTorch state dict that does not fit a built-in architecture: the keys the network
    /// needs and the file lacks, the file's keys it does not use, and `key: what the network
    /// expects vs. what the file has` for tensors of the wrong shape; `matches`: the catalog
    /// architecture whose keys the file has, when it is another one.
    case stateDictMismatch(architecture: String?, missing: [String], unexpected: [String], misshaped: [String], matches: String? = nil)

    /// A setting of the library's option types, named in ``ZooKitError`` messages.
    ///
    /// The raw value is the library's spelling (`TransferOptions.freeze`); the command line maps
    /// each case to its flag.
    public enum Setting: String, Sendable, CaseIterable, CustomStringConvertible {
        // TransferOptions
        /// What goes on top of the reused layers.
        case head = "TransferOptions.head"
        /// The topmost pretrained layer to reuse.
        case reuseThrough = "TransferOptions.reuseThrough"
        /// Hidden layers dropped below a new head.
        case dropLayers = "TransferOptions.dropLayers"
        /// The pattern of variables not trained.
        case freeze = "TransferOptions.freeze"
        /// The layer below which everything is frozen.
        case freezeBelow = "TransferOptions.freezeBelow"
        /// The dropout rate below a new head.
        case dropout = "TransferOptions.dropout"
        /// The momentum given to every batch normalization.
        case batchNormMomentum = "TransferOptions.batchNormMomentum"
        /// The L1 kernel penalty.
        case l1 = "TransferOptions.l1"
        /// The L2 kernel penalty.
        case l2 = "TransferOptions.l2"
        // OptimizerSettings
        /// The optimizer as a whole (a combination the engine refuses).
        case optimizer = "OptimizerSettings"
        /// The (initial) learning rate.
        case learningRate = "OptimizerSettings.learningRate"
        /// SGD momentum.
        case momentum = "OptimizerSettings.momentum"
        /// Steps per decay of a schedule.
        case decaySteps = "OptimizerSettings.decaySteps"
        /// A schedule's decay rate.
        case decayRate = "OptimizerSettings.decayRate"
        /// Gradient clipping by value.
        case clipValue = "OptimizerSettings.clipValue"
        /// Gradient clipping by norm.
        case clipNorm = "OptimizerSettings.clipNorm"
        /// Gradient clipping by global norm.
        case globalClipNorm = "OptimizerSettings.globalClipNorm"
        // FineTuneOptions
        /// The number of epochs.
        case epochs = "FineTuneOptions.epochs"
        /// The mini-batch size.
        case batchSize = "FineTuneOptions.batchSize"
        /// Early stopping's patience.
        case patience = "FineTuneOptions.patience"
        /// The epochs of the first phase.
        case unfreezeAfter = "FineTuneOptions.unfreezeAfter"
        /// The pattern of variables unfrozen in the second phase.
        case unfreeze = "FineTuneOptions.unfreeze"
        /// The second phase's learning rate.
        case unfreezeLearningRate = "FineTuneOptions.unfreezeLearningRate"
        /// The checkpoint file.
        case checkpoint = "FineTuneOptions.checkpoint"
        /// Continuing from the checkpoint.
        case resume = "FineTuneOptions.resume"
        /// The TensorBoard log options.
        case tensorBoard = "FineTuneOptions.tensorBoard"
        // DataSelection
        /// The classes kept.
        case classes = "DataSelection.classes"
        /// Training samples per class.
        case perClass = "DataSelection.perClass"
        /// Validation samples per class.
        case validationPerClass = "DataSelection.validationPerClass"
        /// The validation fraction.
        case validationSplit = "DataSelection.validationSplit"
        // AssignmentOptions
        /// Accepting an incomplete assignment.
        case partial = "AssignmentOptions.partial"
        /// The pattern of variables assigned.
        case scope = "AssignmentOptions.scope"
        // ImportRequest and registration
        /// The model's name.
        case name = "ImportRequest.name"
        /// Where the architecture comes from.
        case architectureSource = "ImportRequest.architecture"
        /// The per-sample input shape.
        case inputShape = "ImportRequest.inputShape"
        /// The class names.
        case labels = "ImportRequest.labels"
        /// The classifier head node of a registered model.
        case classifierHead = "ImportRequest.head"
        /// The name-mapping layout preset.
        case layout = "NameMapping.layout"
        /// The name-mapping rules.
        case mappingRules = "NameMapping.rules"
        /// Replacing a registered model.
        case force = "ImportRequest.force"

        /// The library's spelling, `TransferOptions.freeze`.
        public var description: String { rawValue }
    }

    /// The message in the library's terms (settings named `TransferOptions.freeze`).
    public var description: String { message(naming: \.description) }

    /// The message, with every setting it mentions named by `name`.
    /// - Parameter name: how to spell a setting (the library's `TransferOptions.freeze`, or a flag).
    public func message(naming name: (Setting) -> String) -> String {
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
        case .notKerasExpressible(let target, let layers):
            return "the network cannot be written as a \(target) model: " + layers.description
        case .notONNXExpressible(let layers):
            return "the network cannot be written as an ONNX model: " + layers.description
        case .architecture(let model, let reason):
            return "\(model): the architecture does not build: \(reason)"
        case .unsupportedONNXOps(let ops):
            return ops.description
        case .invalidONNXGraph(let nodes, let problem):
            let named = nodes.prefix(8).joined(separator: ", ") + (nodes.count > 8 ? ", …" : "")
            return "invalid ONNX graph: \(problem) (node\(nodes.count == 1 ? "" : "s") \(named))"
        case .digestMismatch(let file, let expected, let found):
            return "\(file): SHA-256 mismatch: the manifest says \(expected), the file has \(found)"
        case .assignmentFailed(let report):
            return "the weights do not fit the network:\n" + report.problemSummary
                + "\n  use \(name(.partial)) (or \(name(.scope))) to load only what fits"
        case .download(let url, let reason):
            return "cannot download \(url): \(reason)"
        case .weightsMissing(let model, let path):
            return "\(model): the weights file \(path) is not there and the manifest has no url to fetch it from"
        case .weightsNotFetched(let model):
            return "\(model): the weights are not downloaded yet (Fetcher.fetch downloads them)"
        case .registryNotWritable(let path, let reason):
            return "cannot write the registry at \(path): \(reason)"
        case .cacheNotWritable(let path, let reason):
            return "cannot change the cache at \(path): \(reason)"
        case .alreadyRegistered(let model, let path):
            return "a model named '\(model)' is already registered at \(path) (\(name(.force)) replaces it)"
        case .invalidSetting(let setting, let problem):
            return "\(name(setting)) \(problem)"
        case .settingNeeds(let setting, let other):
            return "\(name(setting)) needs \(name(other))"
        case .settingsConflict(let setting, let other):
            return "\(name(setting)) and \(name(other)) exclude each other"
        case .settingRequired(let setting, let reason):
            return "\(reason): set \(name(setting))"
        case .checkpointOfAnotherRun(let path, let differences):
            let what = differences.isEmpty
                ? " (different model, data or options; it records no settings to compare)"
                : ": " + differences.prefix(12).joined(separator: "; ") + (differences.count > 12 ? "; and \(differences.count - 12) more" : "")
            return "\(path) is a checkpoint of another run\(what). Remove it, or do not set \(name(.resume))"
        case .invalidRequest(let message):
            return message
        case let .stateDictMismatch(architecture, missing, unexpected, misshaped, matches):
            func list(_ keys: [String], _ limit: Int) -> String {
                keys.prefix(limit).joined(separator: ", ") + (keys.count > limit ? ", … (\(keys.count - limit) more)" : "")
            }
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.count) key(s): \(list(missing, 8))") }
            if !unexpected.isEmpty { parts.append("unexpected \(unexpected.count) key(s): \(list(unexpected, 8))") }
            if !misshaped.isEmpty { parts.append("wrong shape: \(misshaped.prefix(4).joined(separator: "; "))") }
            return "the state dict does not fit \(architecture.map { "the architecture '\($0)'" } ?? "the architecture"): "
                + parts.joined(separator: "; ") + (matches.map { "; its keys are those of '\($0)' (--arch \($0))" } ?? "")
        }
    }

    /// The house exit codes: 65 malformed input, 66 missing input, 73 unwritable, 64 usage, 69 download, 1 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .badManifest, .digestMismatch, .assignmentFailed, .unsupportedLayer, .unsupportedLayers, .notKerasExpressible, .notONNXExpressible,
             .architecture, .stateDictMismatch, .unsupportedONNXOps, .invalidONNXGraph: 65
        case .weightsMissing, .weightsNotFetched, .unknownModel: 66
        case .registryNotWritable, .cacheNotWritable: 73
        case .invalidRequest, .alreadyRegistered, .invalidSetting, .settingNeeds, .settingsConflict, .settingRequired, .checkpointOfAnotherRun: 64
        case .download: 69
        }
    }
}
