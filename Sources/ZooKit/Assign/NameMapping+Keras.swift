import ZooFormat
import ZooNet

extension NameMapping {
    /// Keras files' tensors under the engine's variable names: Keras canonical names
    /// (`layer/kernel`), with the names that differ between Keras 2 and 3 and the engine mapped
    /// (Keras 3 names a `DepthwiseConv2D`'s kernel `kernel`, Keras 2 and the engine `depthwise_kernel`).
    static func keras(_ tensors: [StoredTensor], network: Network) -> [MappedTensor] {
        var aliases: [String: String] = [:]  // name in the file → variable name
        for (name, layer) in network.layersByName where layer is DepthwiseConv2D {
            aliases["\(name)/kernel"] = "\(name)/depthwise_kernel"
        }
        // Keras 2 files name a nested model's weights by the inner layer alone (`c1/kernel` for
        // the engine's `base/c1/kernel`): take the one variable with that suffix.
        let variables = Set(network.variables.map(\.name))
        var bySuffix: [String: [String]] = [:]
        for name in variables {
            var rest = Substring(name)
            while let slash = rest.firstIndex(of: "/") {
                rest = rest[rest.index(after: slash)...]
                if rest.contains("/") { bySuffix[String(rest), default: []].append(name) }
            }
        }
        // Keras 2.0 files name weights by TensorFlow scopes, which it made unique with a
        // suffix: `conv2d_1_1/kernel` holds layer `conv2d_1`'s kernel (fer's mini-Xception).
        func withoutScopeSuffix(_ name: String) -> String? {
            guard let slash = name.firstIndex(of: "/"), let underscore = name[..<slash].lastIndex(of: "_"),
                  name[name.index(after: underscore)..<slash].allSatisfy(\.isNumber), name.index(after: underscore) < slash
            else { return nil }
            return String(name[..<underscore]) + String(name[slash...])
        }
        // ConvNeXt's LayerScale runs as a 1×1 depthwise convolution: its γ `[C]` (Keras 2
        // `layer/gamma`, Keras 3 `layer/0`) is the kernel `[1, 1, C, 1]`, the same values.
        var layerScales: Set<String> = []
        for (name, layer) in network.layersByName {
            if let depthwise = layer as? DepthwiseConv2D, depthwise.kernelSize == (1, 1), !depthwise.useBias { layerScales.insert(name) }
        }
        return tensors.map { tensor in
            let plain = dropIndexSuffix(tensor.name)
            if let slash = plain.lastIndex(of: "/"), ["gamma", "0"].contains(plain[plain.index(after: slash)...]),
               layerScales.contains(String(plain[..<slash])), tensor.shape.count == 1, !variables.contains(plain) {
                let name = String(plain[..<slash]) + "/depthwise_kernel"
                return MappedTensor(name: name, source: tensor.name, shape: [1, 1, tensor.shape[0], 1], isOptimizerState: false) {
                    try tensor.floats()
                }
            }
            var name = plain
            if !variables.contains(plain) {
                if let alias = aliases[plain] { name = alias }
                else if let candidates = bySuffix[plain], candidates.count == 1 { name = candidates[0] }
                else if let unscoped = withoutScopeSuffix(plain), variables.contains(unscoped) { name = unscoped }
            }
            return direct(tensor, name: name)
        }
    }
}
