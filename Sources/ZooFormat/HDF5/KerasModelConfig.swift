/// A typed description of a Keras model, parsed from the `model_config`
/// attribute of a Keras 2 `.h5` or the `config.json` of a `.keras` archive.
///
/// Sequential models and linear Functional models (each layer fed by the one
/// before) are described layer by layer; anything else is listed in
/// `unsupported` with the layer's name and class, so an engine can say
/// exactly what it cannot build.
public struct KerasModelConfig: Sendable, Equatable {
    /// How the layers connect.
    public enum Topology: String, Sendable {
        /// `keras.Sequential`: each layer feeds the next.
        case sequential
        /// A functional `keras.Model`; described only when it is a chain.
        case functional
    }

    /// The model's name (`config.name`).
    public let name: String
    /// Sequential or functional.
    public let topology: Topology
    /// Input shape without the batch dimension; nil entries are free dimensions.
    public let inputShape: [Int?]?
    /// The layers in order, the input layer excluded.
    public let layers: [KerasLayerConfig]
    /// Layers (or the topology) the description cannot express: `(name, class)`.
    public let unsupported: [Unsupported]

    /// A layer (or the topology) the description cannot express, and why.
    public struct Unsupported: Sendable, Equatable, CustomStringConvertible {
        /// The layer's name (or the model's, for the topology).
        public let layer: String
        /// The Keras class (`LSTM`, `Add`, …).
        public let className: String
        /// Why it is not described.
        public let reason: String
        /// `LAYER (CLASS): REASON`.
        public var description: String { "\(layer) (\(className)): \(reason)" }
    }

    /// Parses a Keras model config (`{"class_name": "Sequential", "config": {…}}`).
    /// - Throws: `KerasConfigError` when the JSON is not a Keras model config at all.
    public init(_ json: JSONValue) throws(KerasConfigError) {
        guard let className = json["class_name"]?.stringValue, let config = json["config"] else {
            throw .notAModelConfig("no class_name and config at the top level")
        }
        guard ["Sequential", "Functional", "Model"].contains(className) else {
            throw .notAModelConfig("the top level is a \(className), not a Sequential or Functional model")
        }
        guard let layerList = config["layers"]?.arrayValue else { throw .notAModelConfig("no layers list") }
        name = config["name"]?.stringValue ?? ""
        topology = className == "Sequential" ? .sequential : .functional
        var layers: [KerasLayerConfig] = []
        var unsupported: [Unsupported] = []
        var inputShape: [Int?]? = Self.shape(config["build_config"]?["input_shape"])
        var previous: String?
        for layer in layerList {
            let layerClass = layer["class_name"]?.stringValue ?? "?"
            let settings = layer["config"] ?? .object([])
            let layerName = settings["name"]?.stringValue ?? "?"
            if topology == .functional, let inbound = Self.inboundNames(layer), !(inbound.isEmpty && previous == nil), inbound != previous.map({ [$0] }) {
                unsupported.append(Unsupported(layer: layerName, className: layerClass, reason: "takes \(inbound.isEmpty ? "no input" : inbound.joined(separator: ", ")), not the previous layer's output (only linear models are described)"))
            }
            previous = layerName
            if layerClass == "InputLayer" {
                inputShape = Self.shape(settings["batch_shape"] ?? settings["batch_input_shape"]) ?? inputShape
                continue
            }
            if inputShape == nil, let shape = Self.shape(settings["batch_input_shape"] ?? settings["batch_shape"]) {
                inputShape = shape
            }
            let parsed = KerasLayerConfig(name: layerName, className: layerClass, settings: settings)
            if case .unsupported(let reason) = parsed.kind {
                unsupported.append(Unsupported(layer: layerName, className: layerClass, reason: reason))
            }
            layers.append(parsed)
        }
        self.inputShape = inputShape
        self.layers = layers
        self.unsupported = unsupported
    }

    /// `[null, 28, 28]` → `[28, 28]` (the batch dimension dropped).
    static func shape(_ value: JSONValue?) -> [Int?]? {
        guard let dims = value?.arrayValue, !dims.isEmpty else { return nil }
        return dims.dropFirst().map { $0.intValue }
    }

    /// Names of the layers feeding `layer` in a Functional config (Keras 2 and 3 forms).
    static func inboundNames(_ layer: JSONValue) -> [String]? {
        guard let nodes = layer["inbound_nodes"]?.arrayValue else { return nil }
        var names: [String] = []
        for node in nodes {
            if let history = node["args"]?.arrayValue {  // Keras 3: {"args": [{"config": {"keras_history": [name, 0, 0]}}]}
                for argument in history {
                    for item in argument.arrayValue ?? [argument] {
                        if let name = item["config"]?["keras_history"]?.arrayValue?.first?.stringValue { names.append(name) }
                    }
                }
            } else if let entries = node.arrayValue {  // Keras 2: [[name, 0, 0, {}], …]
                for entry in entries {
                    if let name = entry.arrayValue?.first?.stringValue { names.append(name) }
                }
            }
        }
        return names
    }
}

/// A JSON value that is not a Keras model config.
public enum KerasConfigError: Error, Equatable, CustomStringConvertible {
    /// What is missing or wrong (no `class_name`, not a model class, …).
    case notAModelConfig(String)

    /// `not a Keras model config: WHY`.
    public var description: String {
        switch self {
        case .notAModelConfig(let why): "not a Keras model config: \(why)"
        }
    }
}

/// One layer of a Keras model config, with the settings the engine needs.
public struct KerasLayerConfig: Sendable, Equatable {
    /// The layer's name (`hidden1`), the prefix of its variables' names.
    public let name: String
    /// The Keras class (`Dense`, `BatchNormalization`, …).
    public let className: String
    /// What the layer is, with its settings.
    public let kind: Kind

    /// The layers the engine can build, with Keras' config keys as parameters.
    public enum Kind: Sendable, Equatable {
        /// `Dense(units, activation, use_bias)`.
        case dense(units: Int, activation: String, useBias: Bool)
        /// `BatchNormalization(momentum, epsilon, center, scale)` over the last axis.
        case batchNormalization(momentum: Double, epsilon: Double, center: Bool, scale: Bool)
        /// `Activation(name)`: `relu`, `elu`, `softmax`, ….
        case activation(String)
        /// Keras 2 calls the slope `alpha` (default 0.3); Keras 3 `negative_slope` (default 0.3).
        case leakyReLU(alpha: Double)
        /// `ELU(alpha)`.
        case elu(alpha: Double)
        /// `PReLU()` with a learned slope per feature.
        case prelu
        /// `Dropout(rate)`.
        case dropout(rate: Double)
        /// `Flatten()`.
        case flatten
        /// `Conv2D(filters, kernel_size, strides, padding, activation, use_bias)`, channels last.
        case conv2D(filters: Int, kernelSize: [Int], strides: [Int], padding: String, activation: String, useBias: Bool)
        /// `MaxPooling2D(pool_size, strides, padding)`.
        case maxPooling2D(poolSize: [Int], strides: [Int], padding: String)
        /// Any other class, or settings the engine does not support; the text says which.
        case unsupported(String)
    }

    init(name: String, className: String, settings: JSONValue) {
        self.name = name
        self.className = className
        func number(_ key: String, _ fallback: Double) -> Double { settings[key]?.doubleValue ?? fallback }
        func flag(_ key: String, _ fallback: Bool) -> Bool { settings[key]?.boolValue ?? fallback }
        func pair(_ key: String) -> [Int]? {
            if let single = settings[key]?.intValue { return [single, single] }
            return settings[key]?.arrayValue?.compactMap(\.intValue)
        }
        let activation = Self.activationName(settings["activation"])
        switch className {
        case "Dense":
            if let units = settings["units"]?.intValue {
                kind = .dense(units: units, activation: activation, useBias: flag("use_bias", true))
            } else {
                kind = .unsupported("Dense without units")
            }
        case "BatchNormalization":
            kind = .batchNormalization(momentum: number("momentum", 0.99), epsilon: number("epsilon", 0.001), center: flag("center", true), scale: flag("scale", true))
        case "Activation":
            kind = .activation(activation)
        case "LeakyReLU":
            kind = .leakyReLU(alpha: settings["negative_slope"]?.doubleValue ?? number("alpha", 0.3))
        case "ELU":
            kind = .elu(alpha: number("alpha", 1.0))
        case "PReLU":
            kind = .prelu
        case "Dropout":
            kind = .dropout(rate: number("rate", 0))
        case "Flatten":
            kind = .flatten
        case "Conv2D":
            if let filters = settings["filters"]?.intValue, let size = pair("kernel_size") {
                kind = .conv2D(filters: filters, kernelSize: size, strides: pair("strides") ?? [1, 1], padding: settings["padding"]?.stringValue ?? "valid", activation: activation, useBias: flag("use_bias", true))
            } else {
                kind = .unsupported("Conv2D without filters or kernel_size")
            }
        case "MaxPooling2D":
            let pool = pair("pool_size") ?? [2, 2]
            kind = .maxPooling2D(poolSize: pool, strides: pair("strides") ?? pool, padding: settings["padding"]?.stringValue ?? "valid")
        default:
            kind = .unsupported("layer class \(className) is not supported")
        }
    }

    /// `"relu"`, or a Keras 3 serialized activation `{"config": {"name": "relu"}}` → `relu`; none → `linear`.
    static func activationName(_ value: JSONValue?) -> String {
        if let name = value?.stringValue { return name }
        if let name = value?["config"]?["name"]?.stringValue ?? value?["class_name"]?.stringValue { return name }
        return "linear"
    }
}

extension TensorArchive {
    /// The typed model description, when the file carries a Keras model config.
    public func kerasModel() throws -> KerasModelConfig? {
        guard let modelConfig else { return nil }
        do {
            return try KerasModelConfig(modelConfig)
        } catch {
            throw FormatError(file: file, .malformed(at: .key("model_config"), expected: "a Keras model config", found: error.description))
        }
    }
}
