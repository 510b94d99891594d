/// The Keras layouts of HDF5 weights, recognized from the file's structure,
/// with canonical variable names `layer/weight` in the order Keras assigns them.
///
/// Keras 2 (tf-keras) — `model.save("m.h5")` puts the weights under
/// `/model_weights`, `model.save_weights("w.h5")` at `/`:
///
///     @layer_names = ["hidden1", "bn1", …]            (or split: layer_names0, layer_names1, …)
///     hidden1/@weight_names = ["hidden1/kernel:0", "hidden1/bias:0"]
///     hidden1/hidden1/kernel:0                         → tensor "hidden1/kernel"
///
/// Keras 3 — `model.save_weights("m.weights.h5")`, and `model.weights.h5` inside `.keras`:
///
///     layers/dense/vars/@name = "hidden1"              (the layer's real name)
///     layers/dense/vars/0, …/1                         → "hidden1/kernel", "hidden1/bias"
///     layers/functional/layers/dense/vars/0            → nested models: "functional_name/hidden1/kernel"
///
/// Keras 3 stores variables by index; their names come from the model config
/// when there is one (`.keras`), else from the layer class in the group name.
enum KerasH5Layout {
    struct Result {
        let format: TensorFileFormat
        let metadata: [String: String]
        let tensors: [StoredTensor]
        let skipped: [SkippedEntry]
        let modelConfig: JSONValue?
    }

    /// The Keras reading of `file`, or nil when it follows no Keras layout.
    static func read(_ file: HDF5File, modelConfig: JSONValue?) throws -> Result? {
        if try splitAttribute("layer_names", of: "/", in: file) != nil {
            return try readKeras2(file, weightsGroup: "/", modelConfig: modelConfig)
        }
        if file.exists("/model_weights"), try splitAttribute("layer_names", of: "/model_weights", in: file) != nil {
            return try readKeras2(file, weightsGroup: "/model_weights", modelConfig: modelConfig)
        }
        if file.exists("/layers") || (file.exists("/vars") && modelConfig != nil) {
            return try readKeras3(file, modelConfig: modelConfig)
        }
        return nil
    }

    // MARK: - Keras 2

    private static func readKeras2(_ file: HDF5File, weightsGroup: String, modelConfig: JSONValue?) throws -> Result {
        let group = weightsGroup == "/" ? "" : weightsGroup
        var tensors: [StoredTensor] = []
        var skipped: [SkippedEntry] = []
        var claimed: Set<String> = []
        for layer in try splitAttribute("layer_names", of: weightsGroup, in: file) ?? [] {
            let layerPath = group + "/" + layer
            guard file.exists(layerPath) else {
                throw FormatError(file: file.path, .malformed(at: .key(weightsGroup + "@layer_names"), expected: "a group for layer '\(layer)'", found: "none"))
            }
            for weightName in try splitAttribute("weight_names", of: layerPath, in: file) ?? [] {
                let datasetPath = layerPath + "/" + weightName
                guard file.exists(datasetPath) else {
                    throw FormatError(file: file.path, .malformed(at: .key(layerPath + "@weight_names"), expected: "a dataset '\(weightName)'", found: "none"))
                }
                claimed.insert(datasetPath)
                switch try HDF5Reader.tensor(file, datasetPath: datasetPath, name: canonicalKeras2Name(weightName)) {
                case .tensor(let tensor): tensors.append(tensor)
                case .skipped(let entry): skipped.append(entry)
                }
            }
        }
        // Optimizer state of a compiled full model.
        if weightsGroup != "/", file.exists("/optimizer_weights") {
            for case .dataset(let path) in try file.walk(from: "/optimizer_weights") where !claimed.contains(path) {
                let name = canonicalKeras2Name(String(path.dropFirst("/optimizer_weights/".count)))
                if case .tensor(let tensor) = try HDF5Reader.tensor(file, datasetPath: path, name: name, attributes: ["role": "optimizer"]) {
                    tensors.append(tensor)
                }
            }
        }
        var metadata: [String: String] = ["keras_layout": weightsGroup == "/" ? "weights" : "model"]
        for key in ["keras_version", "backend"] {
            if let text = try file.attribute(key, of: "/")?.text ?? file.attribute(key, of: weightsGroup)?.text { metadata[key] = text }
        }
        var config = modelConfig
        if config == nil, let text = try file.attribute("model_config", of: "/")?.text {
            config = try parseConfig(text, file: file.path, key: "/@model_config")
        }
        return Result(format: .keras2H5, metadata: metadata, tensors: tensors, skipped: skipped, modelConfig: config)
    }

    /// `hidden1/kernel:0` → `hidden1/kernel`.
    static func canonicalKeras2Name(_ weightName: String) -> String {
        guard let colon = weightName.lastIndex(of: ":"), weightName[weightName.index(after: colon)...].allSatisfy(\.isNumber) else {
            return weightName
        }
        return String(weightName[..<colon])
    }

    /// An attribute holding a list of names, possibly split by Keras into
    /// `NAME0`, `NAME1`, … when it exceeded HDF5's 64 KiB attribute limit.
    static func splitAttribute(_ name: String, of objectPath: String, in file: HDF5File) throws -> [String]? {
        if let value = try file.attribute(name, of: objectPath) {
            if case .strings(let names) = value { return names }
            return []  // Keras writes an empty float array for a layer without weights.
        }
        var names: [String] = []
        var index = 0
        while let value = try file.attribute("\(name)\(index)", of: objectPath) {
            if case .strings(let part) = value { names += part }
            index += 1
        }
        return index > 0 ? names : nil
    }

    // MARK: - Keras 3

    private static func readKeras3(_ file: HDF5File, modelConfig: JSONValue?) throws -> Result {
        var tensors: [StoredTensor] = []
        var skipped: [SkippedEntry] = []
        var claimed: Set<String> = []
        let configLayers = KerasConfigIndex(modelConfig)
        try readKeras3Layers(file, group: "", prefix: "", configLayers: configLayers, tensors: &tensors, skipped: &skipped, claimed: &claimed)
        // Everything else (the optimizer's variables, a model's own vars): listed under its path.
        for node in try file.walk() {
            guard case .dataset(let path) = node, !claimed.contains(path) else { continue }
            let attributes = path.hasPrefix("/optimizer/") ? ["role": "optimizer"] : [:]
            switch try HDF5Reader.tensor(file, datasetPath: path, name: String(path.dropFirst()), attributes: attributes) {
            case .tensor(let tensor): tensors.append(tensor)
            case .skipped(let entry): skipped.append(entry)
            }
        }
        return Result(format: .keras3WeightsH5, metadata: ["keras_layout": "keras3"], tensors: tensors, skipped: skipped, modelConfig: modelConfig)
    }

    private static func readKeras3Layers(
        _ file: HDF5File, group: String, prefix: String, configLayers: KerasConfigIndex,
        tensors: inout [StoredTensor], skipped: inout [SkippedEntry], claimed: inout Set<String>
    ) throws {
        let layersPath = group + "/layers"
        guard file.exists(layersPath) else { return }
        // Model order: from the config when it names every layer; otherwise the
        // order the data was written in (h5py lists groups by name, and group
        // headers may reuse freed space, but dataset storage is appended).
        var children: [(name: String, realName: String, position: UInt64)] = []
        for name in try file.linkNames(inGroup: layersPath) {
            let layerPath = layersPath + "/" + name
            var realName = name
            if file.exists(layerPath + "/vars"), let text = try file.attribute("name", of: layerPath + "/vars")?.text, !text.isEmpty {
                realName = text
            }
            let position = try file.walk(from: layerPath).compactMap { node -> UInt64? in
                guard case .dataset(let path) = node else { return nil }
                return file.objectPosition(path)
            }.min() ?? UInt64.max
            children.append((name, realName, position))
        }
        if children.allSatisfy({ configLayers.order($0.realName) != nil }) {
            children.sort { configLayers.order($0.realName)! < configLayers.order($1.realName)! }
        } else {
            children.sort { $0.position < $1.position }
        }
        for child in children {
            let layerPath = layersPath + "/" + child.name
            let varsPath = layerPath + "/vars"
            let realName = child.realName
            if file.exists(varsPath) {
                let indices = try file.linkNames(inGroup: varsPath).compactMap(Int.init).sorted()
                let names = keras3VariableNames(groupName: child.name, count: indices.count, config: configLayers[realName])
                for (position, index) in indices.enumerated() {
                    let datasetPath = varsPath + "/\(index)"
                    claimed.insert(datasetPath)
                    switch try HDF5Reader.tensor(file, datasetPath: datasetPath, name: prefix + realName + "/" + names[position]) {
                    case .tensor(let tensor): tensors.append(tensor)
                    case .skipped(let entry): skipped.append(entry)
                    }
                }
            }
            try readKeras3Layers(file, group: layerPath, prefix: prefix + realName + "/", configLayers: configLayers, tensors: &tensors, skipped: &skipped, claimed: &claimed)
        }
    }

    /// Names of a Keras 3 layer's variables, in the order Keras saves them.
    ///
    /// From the layer's config when known (`use_bias`, `center`, `scale`), else
    /// from its class, which Keras puts in the group name (`batch_normalization_1`).
    static func keras3VariableNames(groupName: String, count: Int, config: KerasConfigIndex.Layer?) -> [String] {
        let className = config.map { snakeCase($0.className) } ?? stripCounter(groupName)
        let flags = config?.settings
        var names: [String]
        switch className {
        case "dense", "conv1d", "conv2d", "conv3d", "conv1d_transpose", "conv2d_transpose", "conv3d_transpose", "einsum_dense":
            names = ["kernel"] + ((flags?["use_bias"]?.boolValue ?? (count >= 2)) ? ["bias"] : [])
        case "depthwise_conv2d", "depthwise_conv1d":
            names = ["depthwise_kernel"] + ((flags?["use_bias"]?.boolValue ?? (count >= 2)) ? ["bias"] : [])
        case "separable_conv2d", "separable_conv1d":
            names = ["depthwise_kernel", "pointwise_kernel"] + ((flags?["use_bias"]?.boolValue ?? (count >= 3)) ? ["bias"] : [])
        case "batch_normalization":
            let scale = flags?["scale"]?.boolValue ?? (count == 4)
            let center = flags?["center"]?.boolValue ?? (count >= 3)
            names = (scale ? ["gamma"] : []) + (center ? ["beta"] : []) + ["moving_mean", "moving_variance"]
        case "layer_normalization":
            names = ((flags?["scale"]?.boolValue ?? true) ? ["gamma"] : []) + ((flags?["center"]?.boolValue ?? true) ? ["beta"] : [])
        case "normalization":
            names = ["mean", "variance", "count"]
        case "p_re_lu", "prelu":
            names = ["alpha"]
        case "embedding":
            names = ["embeddings"]
        default:
            names = []
        }
        if names.count != count { names = (0..<count).map(String.init) }
        return names
    }

    /// `batch_normalization_12` → `batch_normalization`.
    static func stripCounter(_ name: String) -> String {
        guard let underscore = name.lastIndex(of: "_"), name[name.index(after: underscore)...].allSatisfy(\.isNumber),
            name.index(after: underscore) < name.endIndex
        else { return name }
        return String(name[..<underscore])
    }

    /// `BatchNormalization` → `batch_normalization`, `PReLU` → `p_re_lu` (Keras' own rule).
    static func snakeCase(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0,
                characters[index - 1].isLowercase || (index + 1 < characters.count && characters[index + 1].isLowercase)
            {
                result.append("_")
            }
            result.append(contentsOf: character.lowercased())
        }
        return result
    }

    static func parseConfig(_ text: String, file: String, key: String) throws -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw FormatError(file: file, .malformed(at: .key(key), expected: "\(error.expected) in the model config JSON (offset \(error.offset))", found: error.found))
        }
    }
}

/// The layers of a Keras model config, by name (nested models included).
struct KerasConfigIndex {
    struct Layer {
        let className: String
        let settings: JSONValue
    }

    private var layers: [String: Layer] = [:]
    private var orders: [String: Int] = [:]

    init(_ config: JSONValue?) {
        if let config { collect(config) }
    }

    subscript(name: String) -> Layer? { layers[name] }

    /// The position of the layer named `name` in the config (depth first).
    func order(_ name: String) -> Int? { orders[name] }

    private mutating func collect(_ value: JSONValue) {
        guard let className = value["class_name"]?.stringValue, let settings = value["config"] else { return }
        if let name = settings["name"]?.stringValue {
            layers[name] = Layer(className: className, settings: settings)
            orders[name] = orders.count
        }
        for layer in settings["layers"]?.arrayValue ?? [] { collect(layer) }
    }
}
