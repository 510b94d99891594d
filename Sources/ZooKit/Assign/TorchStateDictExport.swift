import ZooFormat
import ZooNet

/// A network's variables as a PyTorch `state_dict`: the inverse of the `pytorch` name mapping,
/// from the same table (`TorchParameterLayout`). Layer `X`'s variable `v` becomes `X.p`
/// (a nested model's `/` becomes `.`, as module paths; the `.` Zoo's tf-keras writer puts before a
/// leading `_` is dropped), in PyTorch's layout (HWIO → OIHW,
/// `[in, out]` → `[out, in]`, a depthwise `[kh, kw, c, m]` → `[c·m, 1, kh, kw]`, a PReLU's
/// `[1, …, 1, c]` → `[c]`); every batch norm also gets `X.num_batches_tracked` (int64, 0), which
/// `load_state_dict(strict=True)` expects. Tensors come in the network's variable order.
public enum TorchStateDictExport {
    /// The state dict's tensors, and the variables of kinds PyTorch has no parameters for
    /// (kept under `X.v` in the engine's layout).
    /// - Throws: `FormatError` only for internal inconsistencies (a variable's values not fitting its shape).
    public static func tensors(of network: Network) throws -> (tensors: [StoredTensor], untranslated: [String]) {
        var tensors: [StoredTensor] = []
        var untranslated: [String] = []
        let variables = Dictionary(network.variables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for layer in network.layersInOrder where !layer.variables.isEmpty {
            // tf-keras refuses names starting with `_`, so Zoo's tf-keras writer puts a `.` before them
            // (`._conv_stem`); a module path never starts with `.`.
            var module = layer.name.replacingOccurrences(of: "/", with: ".")
            if module.hasPrefix(".") { module.removeFirst() }
            for variable in layer.variables where variables[variable.name] === variable {
                let leaf = String(variable.name[variable.name.index(after: variable.name.lastIndex(of: "/") ?? variable.name.startIndex)...])
                guard let entry = TorchParameterLayout.entry(forVariable: leaf, of: layer) else {
                    untranslated.append(variable.name)
                    tensors.append(try StoredTensor(name: "\(module).\(leaf)", shape: variable.shape, floats: variable.values))
                    continue
                }
                let shape = TorchParameterLayout.torchShape(ofVariable: variable.shape, entry: entry, layer: layer)
                var values = variable.values
                if let permutation = entry.permutation, permutation.count == shape.count {
                    // The engine tensor (as the permuted PyTorch one) taken back: PyTorch axis permutation[i] is engine axis i.
                    var inverse = [Int](repeating: 0, count: permutation.count)
                    for (engineAxis, torchAxis) in permutation.enumerated() { inverse[torchAxis] = engineAxis }
                    let engineShape = permutation.map { shape[$0] }
                    values = TorchParameterLayout.permuted(values, shape: engineShape, to: inverse).0
                }
                tensors.append(try StoredTensor(name: "\(module).\(entry.parameter)", shape: shape, floats: values))
            }
            if layer is BatchNorm { tensors.append(try StoredTensor(name: "\(module).num_batches_tracked", shape: [], int64s: [0])) }
        }
        return (tensors, untranslated)
    }
}
