import Foundation
import ZooFormat
import ZooNet

/// `zoo import`: registers a weights file from any readable format as a model
/// of the user's registry, after checking that every variable of the network
/// gets a tensor of the right shape.
public struct ImportRequest: Sendable {
    /// Where the architecture comes from.
    public enum ArchitectureSource: Sendable {
        /// The weights file itself (a Keras full-model `.h5` or `.keras`).
        case weightsFile
        /// A Keras model file, a Keras config JSON (`config.json`, `model.to_json()`), a manifest,
        /// or the name of a built-in architecture (``Architecture``, e.g. `efficientnet_lite0`).
        case file(String)
        /// An already registered model.
        case like(String)
        /// A manifest in memory (its architecture, input, head, labels and preprocessing).
        case manifest(ModelManifest)
    }

    /// The weights file, in any format `TensorArchive` reads.
    public var file: String
    /// The new model's name (letters, digits, `.`, `_`, `-`).
    public var name: String
    /// Where the architecture comes from (default: the weights file itself).
    public var architecture: ArchitectureSource = .weightsFile
    /// How the file's tensor names map to the network's variables (default: Keras names).
    public var mapping = NameMapping(layout: .keras)
    /// Class names in output order (default: from the architecture source, else the output numbers).
    public var labels: [String]?
    /// One line for listings (default: from the source, else "Imported from FILE").
    public var summary: String?
    /// What the model does (default: `classification`).
    public var task: String?
    /// Tags for listings.
    public var tags: [String] = []
    /// The weights' license (default: `unknown`).
    public var license: String?
    /// The classifier layer (default: the last layer with weights).
    public var head: String?
    /// The per-sample input shape (default: from the architecture).
    public var inputShape: [Int]?
    /// The input preprocessing (default: from the source, else none).
    public var preprocessing: Preprocessing?
    /// How pictures become inputs: resize, center crop (default: from the source, else none).
    public var image: ImageSpec?
    /// The architecture outputs logits (a PyTorch classifier): make its output a softmax, so that
    /// the model gives probabilities as the registry's classifiers do (`--logits` still gives the logits).
    public var outputSoftmax = false
    /// Measured figures to record.
    public var metrics: [String: Double] = [:]
    /// Who made the weights (default: what the file says, Keras files carry their version).
    public var provenance: Provenance?
    /// The model's version.
    public var version = "1.0.0"
    /// Where `zoo fetch` downloads the weights from; then the file is not copied into the registry.
    public var url: String?
    /// The Python package `zoo fetch` gets the weights from; then the file is not copied into the registry.
    public var source: PipSource?
    /// Replace a model of the same name in the writable registry.
    public var force = false

    /// A request to register `file` as `name`, every other setting at its default.
    public init(file: String, name: String) {
        self.file = file
        self.name = name
    }
}

/// `zoo import` as a library call: registers a weights file as a model, strictly checked first.
public enum Importer {
    /// Checks the request completely, then writes the entry atomically under the registry's lock.
    /// - Parameters:
    ///   - request: what to register and how.
    ///   - registry: where (its writable root) and where to find `like` models.
    /// - Returns: the new entry and the assignment report (complete).
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` (an invalid name or labels),
    ///   ``ZooKitError/settingRequired(_:reason:)`` (no architecture or input shape),
    ///   ``ZooKitError/unknownModel(name:hint:searched:)``, ``ZooKitError/unsupportedLayer(name:type:reason:)``,
    ///   ``ZooKitError/assignmentFailed(_:)`` (nothing written), ``ZooKitError/alreadyRegistered(name:path:)``,
    ///   ``ZooKitError/registryNotWritable(path:reason:)``, and `FormatError` for unreadable files.
    public static func run(_ request: ImportRequest, registry: Registry) throws -> (entry: RegistryEntry, report: AssignmentReport) {
        let prepared = try prepare(request, registry: registry)
        guard prepared.report.isComplete else { throw ZooKitError.assignmentFailed(prepared.report) }
        let directory = try write(prepared.manifest, weightsFrom: request.url == nil && request.source == nil ? request.file : nil, into: registry.writableRoot, force: request.force)
        let entry = RegistryEntry(manifest: prepared.manifest, directory: directory, isBuiltIn: registry.writableRoot == registry.builtInRoot, cache: registry.cache)
        return (entry, prepared.report)
    }

    /// The manifest an import would write, the opened weights and the assignment report; writes nothing.
    /// - Throws: as `run(_:registry:)`, except that an incomplete assignment is reported, not thrown.
    public static func prepare(_ request: ImportRequest, registry: Registry) throws -> (manifest: ModelManifest, weights: TensorArchive, report: AssignmentReport) {
        let built = try build(request, registry: registry)
        let plan = try WeightAssigner.plan(built.tensors, for: built.network)
        return (built.manifest, built.weights, plan.report)
    }

    /// The manifest an import would write, the opened weights, the network built from it and the
    /// weights' tensors mapped onto it (not assigned): what `prepare` reports on and what
    /// loading a model file assigns, the network built once.
    static func build(_ request: ImportRequest, registry: Registry) throws
        -> (manifest: ModelManifest, weights: TensorArchive, network: Network, tensors: [MappedTensor]) {
        guard ModelManifest.isValidName(request.name) else {
            throw ZooKitError.invalidSetting(.name, problem: "'\(request.name)' is not a valid model name (letters, digits, '.', '_', '-')")
        }
        let archive = try TensorArchive.open(request.file)
        // An ONNX model carries its graph: its weights are read through it (layouts per node).
        let onnx = try onnxImport(request, archive: archive)
        var base = try onnx.map(base(from:)) ?? architecture(for: request, archive: archive, registry: registry)
        if let shape = request.inputShape {
            guard base.description.inputs.count == 1 else {
                throw ZooKitError.invalidSetting(.inputShape, problem: "the architecture has \(base.description.inputs.count) inputs")
            }
            base.description.inputs[0].shape = shape
        }
        if request.outputSoftmax {
            try addSoftmax(to: &base.description)
        }
        guard let inputShape = base.description.inputs.first?.shape else {
            throw ZooKitError.settingRequired(.inputShape, reason: "the architecture does not say its input shape")
        }
        let fileName = URL(fileURLWithPath: request.file).lastPathComponent
        guard !fileName.hasPrefix("."), fileName != "manifest.json" else {
            throw ZooKitError.invalidRequest("the weights file name '\(fileName)' is reserved")
        }
        let provenance = request.provenance ?? onnx.map(provenance(of:)) ?? defaultProvenance(archive)
        var weights = WeightsSpec(
            file: fileName, format: archive.format, sha256: try WeightsCache.sha256(ofFile: request.file),
            bytes: try fileSize(request.file), mapping: onnx == nil ? request.mapping : NameMapping(layout: .none), provenance: provenance)
        weights.url = request.url
        weights.source = request.source
        let head = request.head ?? base.head ?? base.description.defaultHead ?? base.description.nodes.last?.name ?? ""
        if base.description.outputs.count > 1 {
            // Several outputs: the head's is the classifier output, read first by every command.
            guard let output = base.description.output(reachedFrom: head) else {
                throw ZooKitError.invalidSetting(.classifierHead, problem: "'\(head)' leads to none of the outputs (\(base.description.outputs.joined(separator: ", ")))")
            }
            base.description = base.description.withFirstOutput(output)
        }
        var manifest = ModelManifest(
            name: request.name, version: request.version,
            summary: request.summary ?? base.summary ?? "Imported from \(fileName)",
            task: request.task ?? base.task ?? "classification", tags: request.tags,
            license: request.license ?? base.license ?? "unknown",
            input: InputSpec(shape: inputShape, preprocessing: request.preprocessing ?? base.preprocessing ?? Preprocessing(),
                             image: request.image ?? base.image),
            labels: [], architecture: base.description, head: head, cut: request.head == nil ? base.cut : nil,
            weights: weights, metrics: request.metrics)
        try manifest.validate(file: request.name)
        let network = try manifest.buildNetwork()
        let classes = network.outputShape.last ?? 0
        manifest.labels = request.labels ?? base.labels ?? (0..<classes).map(String.init)
        guard manifest.labels.count == classes else {
            throw ZooKitError.invalidSetting(.labels, problem: "names \(manifest.labels.count) classes, the network has \(classes) outputs")
        }
        return (manifest, archive, network, try onnx?.mappedTensors() ?? request.mapping.apply(to: archive, network: network))
    }

    /// The output node's own activation made softmax, or a softmax node after it.
    static func addSoftmax(to description: inout NetworkDescription) throws {
        guard description.outputs.count == 1, let index = description.nodes.firstIndex(where: { $0.name == description.outputs[0] }) else {
            throw ZooKitError.invalidRequest("a softmax output needs a network with one output")
        }
        let node = description.nodes[index]
        switch node.layer.activation {
        case .linear?:
            description.nodes[index].layer = node.layer.with(activation: .softmax)
        case .softmax?:
            break
        default:
            let name = node.name + "_softmax"
            description.nodes.append(.init(name: name, layer: .activation(.softmax), inputs: [node.name]))
            description.outputs = [name]
        }
    }

    struct BaseArchitecture {
        var description: NetworkDescription
        var head: String?
        var cut: String?
        var labels: [String]?
        var summary: String?
        var task: String?
        var license: String?
        var preprocessing: Preprocessing?
        var image: ImageSpec?
    }

    static func architecture(for request: ImportRequest, archive: TensorArchive, registry: Registry) throws -> BaseArchitecture {
        switch request.architecture {
        case .weightsFile:
            guard let graph = try archive.kerasGraph() else {
                throw ZooKitError.settingRequired(.architectureSource, reason: "\(request.file) carries no architecture")
            }
            return try base(from: graph, inputShape: request.inputShape)
        case .like(let name):
            return base(from: try registry.entry(named: name).manifest)
        case .manifest(let manifest):
            return base(from: manifest)
        case .file(let path):
            if !FileManager.default.fileExists(atPath: path), let builtIn = Architecture(rawValue: path) {
                return try base(from: builtIn, inputShape: request.inputShape)
            }
            return try architecture(fromFile: path, inputShape: request.inputShape)
        }
    }

    static func base(from manifest: ModelManifest) -> BaseArchitecture {
        BaseArchitecture(
            description: manifest.architecture, head: manifest.head, cut: manifest.cut, labels: manifest.labels,
            summary: nil, task: manifest.task, license: nil, preprocessing: manifest.input.preprocessing, image: manifest.input.image)
    }

    /// A Keras model config as a graph (free input dimensions filled from `inputShape`).
    static func base(from graph: KerasGraph, inputShape: [Int]?) throws -> BaseArchitecture {
        if inputShape == nil, graph.inputs.contains(where: { $0.shape.contains(nil) }) {
            throw ZooKitError.settingRequired(.inputShape, reason: "the architecture does not say its input shape")
        }
        return BaseArchitecture(description: try KerasModelImporter.description(of: graph, inputShapes: inputShape.map { [$0] }))
    }

    /// A built-in architecture (its default classes; the input side from `inputShape`, if given).
    static func base(from architecture: Architecture, inputShape: [Int]?) throws -> BaseArchitecture {
        do {
            let network = try architecture.build(inputSize: inputShape?.first)
            return BaseArchitecture(description: try network.networkDescription())
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: architecture.rawValue, reason: error.description)
        }
    }

    /// A manifest, a Keras config JSON, or any Keras file carrying a config.
    static func architecture(fromFile path: String, inputShape: [Int]?) throws -> BaseArchitecture {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FormatError(file: path, .notFound)
        }
        if data.first == UInt8(ascii: "{") {
            if let manifest = try? ModelManifest.decode(data, file: path) { return base(from: manifest) }
            let json: JSONValue
            do {
                json = try JSONParser.parse(String(decoding: data, as: UTF8.self))
            } catch {
                throw FormatError(file: path, .malformed(at: .offset(error.offset), expected: error.expected, found: error.found))
            }
            let graph: KerasGraph
            do { graph = try KerasGraph(json) } catch {
                throw ZooKitError.invalidRequest("\(path): neither a manifest nor a Keras model config (\(error))")
            }
            return try base(from: graph, inputShape: inputShape)
        }
        guard let graph = try TensorArchive.open(path).kerasGraph() else {
            throw ZooKitError.invalidRequest("\(path) carries no Keras model config")
        }
        return try base(from: graph, inputShape: inputShape)
    }

    /// What the file says about its maker: Keras files carry their version.
    static func defaultProvenance(_ archive: TensorArchive) -> Provenance {
        let version = archive.metadata["keras_version"] ?? "unknown"
        switch archive.format {
        case .keras2H5: return Provenance(framework: version.hasPrefix("3") ? "keras" : "tf-keras", frameworkVersion: version)
        case .keras, .keras3WeightsH5: return Provenance(framework: "keras", frameworkVersion: version)
        default: return Provenance(framework: "unknown", frameworkVersion: "unknown")
        }
    }

    static func fileSize(_ path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path))[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Writes `ROOT/NAME/` (manifest + weights) through a temporary folder and a
    /// rename, holding the registry lock; an existing entry is replaced only with `force`.
    static func write(_ manifest: ModelManifest, weightsFrom source: String?, into root: String, force: Bool) throws -> String {
        try RegistryLock.withLock(on: root) {
            let manager = FileManager.default
            let destination = root + "/" + manifest.name
            if manager.fileExists(atPath: destination), !force {
                throw ZooKitError.alreadyRegistered(name: manifest.name, path: destination)
            }
            let staging = root + "/.import-\(manifest.name)-\(getpid())"
            try? manager.removeItem(atPath: staging)
            do {
                try manager.createDirectory(atPath: staging, withIntermediateDirectories: false)
                if let source { try AtomicWrite.copy(source, to: staging + "/" + manifest.weights.file) }
                try AtomicWrite.registryFile(try manifest.encoded(), to: staging + "/manifest.json")
                var replaced: String?
                if manager.fileExists(atPath: destination) {
                    replaced = root + "/.replaced-\(manifest.name)-\(getpid())"
                    try manager.moveItem(atPath: destination, toPath: replaced!)
                }
                try manager.moveItem(atPath: staging, toPath: destination)
                if let replaced { try? manager.removeItem(atPath: replaced) }
            } catch let error as ZooKitError {
                try? manager.removeItem(atPath: staging)
                throw error
            } catch let error as FormatError {
                try? manager.removeItem(atPath: staging)
                throw ZooKitError.registryNotWritable(path: root, reason: error.description)
            } catch {
                try? manager.removeItem(atPath: staging)
                throw ZooKitError.registryNotWritable(path: root, reason: (error as NSError).localizedDescription)
            }
            return destination
        }
    }
}
