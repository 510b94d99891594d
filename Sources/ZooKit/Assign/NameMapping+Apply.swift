import ZooFormat
import ZooNet

/// A tensor of a weights file after name mapping and layout conversion:
/// the name the network should know it by, its shape and values.
public struct MappedTensor: Sendable {
    /// The variable name it maps to (`hidden1/kernel`).
    public let name: String
    /// The name in the file.
    public let source: String
    /// Its shape after layout conversion (what the variable must have).
    public let shape: [Int]
    /// Optimizer state and the like: never assigned unless asked.
    public let isOptimizerState: Bool
    /// Reads the values, in `shape` (conversions such as transposes applied).
    let values: @Sendable () throws -> [Float]
}

extension NameMapping {
    /// The layout presets' names, as `zoo import --layout` accepts them.
    public static let layouts = Layout.allCases.map(\.rawValue)

    /// Maps the tensors of `archive` to the variable names of `network`.
    ///
    /// - `keras`: Keras canonical names as Zoo's readers give them; a `:0` suffix is dropped,
    ///   and where a name is not a variable, the names Keras 2, Keras 3 and the engine spell
    ///   differently are matched (a depthwise `kernel`, a nested model's inner names, Keras
    ///   2.0's `_1` scope suffixes, LayerScale's γ as a 1×1 depthwise kernel).
    /// - `tf`: TensorFlow checkpoint names; TF2 object keys
    ///   (`layer_with_weights-N/kernel/.ATTRIBUTES/VARIABLE_VALUE`) map to the N-th layer with weights.
    /// - `pytorch`: modules (`0.weight`, `fc1.weight`) map to the network's layers with
    ///   weights, by name when they match and in order otherwise; Linear `[out, in]` becomes
    ///   `[in, out]`, Conv `OIHW` becomes `HWIO`, and `weight/bias/running_mean/running_var`
    ///   become `kernel`/`bias`, `gamma`/`beta`, `moving_mean`/`moving_variance` by layer kind.
    /// Then the `rules` (`REGEX=REPLACEMENT`) apply in order.
    public func apply(to archive: TensorArchive, network: Network) throws -> [MappedTensor] {
        let rules: [TensorRenameRule]
        do {
            rules = try self.rules.map { rule throws(TensorRuleError) in try TensorRenameRule(rule) }
        } catch {
            throw ZooKitError.invalidSetting(.mappingRules, problem: "\(error)")
        }
        var mapped: [MappedTensor]
        switch layout {
        case .none: mapped = archive.tensors.map { Self.direct($0, name: $0.name) }
        case .keras: mapped = Self.keras(archive.tensors, network: network)
        case .tf: mapped = Self.tensorflow(archive.tensors, network: network)
        case .pytorch: mapped = try Self.pytorch(archive.tensors, network: network)
        }
        guard !rules.isEmpty else { return mapped }
        return mapped.map { tensor in
            let name = rules.reduce(tensor.name) { $1.apply(to: $0) }
            return MappedTensor(name: name, source: tensor.source, shape: tensor.shape, isOptimizerState: tensor.isOptimizerState, values: tensor.values)
        }
    }

    /// Optimizer state: tagged so by the reader (Keras, TF, PyTorch checkpoints), or named
    /// `optimizer/…` (Keras 3's layout, and the slots in Zoo's own fine-tuning checkpoints).
    static func isOptimizerState(_ tensor: StoredTensor) -> Bool {
        tensor.attributes["role"] == "optimizer" || tensor.name.hasPrefix("optimizer/")
    }

    static func direct(_ tensor: StoredTensor, name: String) -> MappedTensor {
        MappedTensor(name: name, source: tensor.name, shape: tensor.shape, isOptimizerState: isOptimizerState(tensor)) {
            try tensor.floats()
        }
    }

    /// `dense/kernel:0` → `dense/kernel`.
    static func dropIndexSuffix(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isNumber), name.index(after: colon) < name.endIndex else { return name }
        return String(name[..<colon])
    }

    static func tensorflow(_ tensors: [StoredTensor], network: Network) -> [MappedTensor] {
        let weighted = network.layersInOrder.filter { !$0.variables.isEmpty }.map(\.name)
        return tensors.map { tensor in
            var name = tensor.name
            if name.hasSuffix("/.ATTRIBUTES/VARIABLE_VALUE") { name = String(name.dropLast("/.ATTRIBUTES/VARIABLE_VALUE".count)) }
            var parts = name.split(separator: "/").map(String.init)
            if let index = parts.firstIndex(where: { $0.hasPrefix("layer_with_weights-") }),
                let n = Int(parts[index].dropFirst("layer_with_weights-".count)), n < weighted.count
            {
                parts = [weighted[n]] + parts[(index + 1)...]
                name = parts.joined(separator: "/")
            }
            return direct(tensor, name: name)
        }
    }

    static func pytorch(_ tensors: [StoredTensor], network: Network) throws -> [MappedTensor] {
        // Modules in file order: "features.0.weight" → module "features.0", parameter "weight".
        var modules: [(prefix: String, members: [StoredTensor])] = []
        for tensor in tensors {
            let dot = tensor.name.lastIndex(of: ".")
            let prefix = dot.map { String(tensor.name[..<$0]) } ?? ""
            if let index = modules.firstIndex(where: { $0.prefix == prefix }) {
                modules[index].members.append(tensor)
            } else {
                modules.append((prefix, [tensor]))
            }
        }
        // nn.Sequential modules are numbered: order them by number (safetensors files list
        // tensors by size and name, not in module order).
        if modules.allSatisfy({ Int($0.prefix.split(separator: ".").last ?? "") != nil }) {
            modules.sort { naturalOrder($0.prefix, $1.prefix) }
        }
        let weighted = network.layersInOrder.filter { !$0.variables.isEmpty }
        let byName = Dictionary(weighted.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var result: [MappedTensor] = []
        var next = 0
        for module in modules {
            let parameters = module.members.filter { !$0.name.hasSuffix("num_batches_tracked") }
            let layer: (any Layer)?
            if let named = byName[module.prefix] ?? byName[module.prefix.replacingOccurrences(of: ".", with: "/")] {
                layer = named
            } else if next < weighted.count, !parameters.isEmpty {
                layer = weighted[next]
            } else {
                layer = nil
            }
            if let layer, let position = weighted.firstIndex(where: { $0 === layer }) { next = position + 1 }
            for tensor in module.members {
                let parameter = String(tensor.name[(tensor.name.lastIndex(of: ".").map { tensor.name.index(after: $0) } ?? tensor.name.startIndex)...])
                guard let layer else {
                    result.append(direct(tensor, name: tensor.name))
                    continue
                }
                if parameter == "num_batches_tracked" { continue }
                result.append(pytorchParameter(tensor, parameter: parameter, layer: layer))
            }
        }
        return result
    }

    /// One PyTorch parameter renamed and re-laid-out for `layer`, as `TorchParameterLayout`
    /// says; a parameter the table does not know keeps its name under the layer's scope (and
    /// the strict assignment reports it).
    static func pytorchParameter(_ tensor: StoredTensor, parameter: String, layer: any Layer) -> MappedTensor {
        guard let entry = TorchParameterLayout.entry(forParameter: parameter, of: layer),
              let target = layer.variables.first(where: { $0.name.hasSuffix("/" + entry.variable) })?.shape
        else { return direct(tensor, name: layer.name + "/" + parameter) }
        let name = layer.name + "/" + entry.variable
        // A tensor whose shape does not fit keeps it (permuted when it can be), so that the assignment names both.
        let shape = TorchParameterLayout.engineShape(of: tensor.shape, entry: entry, layer: layer, target: target) ?? tensor.shape
        let permutation = entry.permutation.flatMap { $0.count == tensor.shape.count ? $0 : nil }
        return MappedTensor(name: name, source: tensor.name, shape: shape, isOptimizerState: isOptimizerState(tensor)) {
            let values = try tensor.floats()
            return permutation.map { TorchParameterLayout.permuted(values, shape: tensor.shape, to: $0).0 } ?? values
        }
    }
}

/// `features.2` before `features.10`: dot-separated parts, numbers compared as numbers.
func naturalOrder(_ a: String, _ b: String) -> Bool {
    let left = a.split(separator: "."), right = b.split(separator: ".")
    for (x, y) in zip(left, right) where x != y {
        if let i = Int(x), let j = Int(y) { return i < j }
        return x < y
    }
    return left.count < right.count
}
