import ZooFormat
import ZooNet

/// Loads a PyTorch `state_dict` (any format Zoo reads: `.pt`, `.pth`, safetensors, `.npz`)
/// into a network whose node names are the module paths (the `Architecture` catalog), strictly:
/// variable `X/v` of layer `X` comes from `X.p`, named and laid out as `TorchParameterLayout`
/// says (`num_batches_tracked` is ignored). Every variable must get a tensor of its shape and
/// every tensor a variable.
enum TorchStateDict {
    /// The state-dict key and the table row for one variable, nil for kinds without one.
    static func source(of variable: Variable, layer: AnyObject) -> (key: String, entry: TorchParameterLayout.Entry)? {
        guard let slash = variable.name.lastIndex(of: "/") else { return nil }
        let module = String(variable.name[..<slash]), leaf = String(variable.name[variable.name.index(after: slash)...])
        return TorchParameterLayout.entry(forVariable: leaf, of: layer).map { ("\(module).\($0.parameter)", $0) }
    }

    /// Assigns every variable of `network` from `archive`.
    /// - Parameter architecture: the name the error message gives the network.
    /// - Throws: `ZooKitError.stateDictMismatch` listing missing, unexpected and mis-shaped keys.
    static func load(_ archive: TensorArchive, into network: Network, layers: [String: AnyObject], architecture: String? = nil) throws {
        var byName: [String: Int] = [:]
        for (i, t) in archive.tensors.enumerated() { byName[t.name] = i }
        var used = Set<String>(), missing: [String] = [], misshaped: [String] = []
        for variable in network.variables {
            guard let slash = variable.name.lastIndex(of: "/"), let layer = layers[String(variable.name[..<slash])],
                  let (key, entry) = source(of: variable, layer: layer) else { missing.append(variable.name); continue }
            guard let index = byName[key] else { missing.append(key); continue }
            used.insert(key)
            let stored = archive.tensors[index]
            guard let (values, shape) = TorchParameterLayout.engineLayout(try stored.floats(), shape: stored.shape, entry: entry, layer: layer,
                                                                          target: variable.shape),
                  shape == variable.shape else {
                misshaped.append("\(key): the architecture expects \(TorchParameterLayout.torchShape(ofVariable: variable.shape, entry: entry, layer: layer)), "
                    + "the file has \(stored.shape)")
                continue
            }
            try variable.assign(values)
        }
        let unexpected = archive.tensors.map(\.name).filter { !used.contains($0) && !$0.hasSuffix("num_batches_tracked") }
        guard missing.isEmpty, unexpected.isEmpty, misshaped.isEmpty else {
            throw ZooKitError.stateDictMismatch(architecture: architecture, missing: missing, unexpected: unexpected, misshaped: misshaped)
        }
    }
}
