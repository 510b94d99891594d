import ZooFormat
import ZooNet

/// Loads a PyTorch `state_dict` (any format Zoo reads: `.pt`, `.pth`, safetensors, `.npz`)
/// into a network whose node names are the module paths (the `Architecture` catalog), strictly.
///
/// Per layer kind: `Conv2D` `X/kernel` ← `X.weight` OIHW → HWIO; `DepthwiseConv2D`
/// `X/depthwise_kernel` ← `X.weight` `[c·m, 1, kh, kw]` → `[kh, kw, c, m]`; `Dense` `X/kernel` ←
/// `X.weight` `[out, in]` → `[in, out]`; `PReLU` `X/alpha` `[1, …, 1, c]` ← `X.weight` `[c]`
/// (`nn.PReLU(c)`); biases ← `X.bias`; `BatchNorm` gamma, beta,
/// moving_mean, moving_variance ← `weight`, `bias`, `running_mean`, `running_var`
/// (`num_batches_tracked` is ignored). Every variable must get a tensor of its shape and every
/// tensor a variable.
enum TorchStateDict {
    /// The state-dict key and layout change for one variable, nil for kinds without one.
    static func source(of variable: Variable, layer: AnyObject) -> (key: String, permutation: [Int]?)? {
        guard let slash = variable.name.lastIndex(of: "/") else { return nil }
        let module = String(variable.name[..<slash]), leaf = String(variable.name[variable.name.index(after: slash)...])
        switch (layer, leaf) {
        case (is Conv2D, "kernel"): return ("\(module).weight", [2, 3, 1, 0])       // OIHW → HWIO
        case (is DepthwiseConv2D, "depthwise_kernel"): return ("\(module).weight", [2, 3, 0, 1])  // [c·m, 1, kh, kw] → [kh, kw, c·m, 1]
        case (is Dense, "kernel"): return ("\(module).weight", [1, 0])
        case (is PReLU, "alpha"): return ("\(module).weight", nil)
        case (_, "bias") where !(layer is BatchNorm): return ("\(module).bias", nil)
        case (is BatchNorm, "gamma"): return ("\(module).weight", nil)
        case (is BatchNorm, "beta"): return ("\(module).bias", nil)
        case (is BatchNorm, "moving_mean"): return ("\(module).running_mean", nil)
        case (is BatchNorm, "moving_variance"): return ("\(module).running_var", nil)
        default: return nil
        }
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
                  let (key, permutation) = source(of: variable, layer: layer) else { missing.append(variable.name); continue }
            guard let index = byName[key] else { missing.append(key); continue }
            used.insert(key)
            let stored = archive.tensors[index]
            var values = try stored.floats()
            var shape = stored.shape
            if let permutation {
                guard shape.count == permutation.count else { misshaped.append(mismatch(key, variable, layer, permutation, stored.shape)); continue }
                (values, shape) = permute(values, shape: shape, to: permutation)
            }
            // A depthwise [kh, kw, c·m, 1] is the [kh, kw, c, m] kernel when m = 1; general m:
            if layer is DepthwiseConv2D, shape.count == 4, variable.shape.count == 4, shape[2] == variable.shape[2] * variable.shape[3] {
                shape = variable.shape
            }
            // PyTorch's per-channel `[c]` slope is the `[1, …, 1, c]` alpha shared over the other axes.
            if layer is PReLU, shape.filter({ $0 != 1 }) == variable.shape.filter({ $0 != 1 }) { shape = variable.shape }
            guard shape == variable.shape else { misshaped.append(mismatch(key, variable, layer, permutation, stored.shape)); continue }
            try variable.assign(values)
        }
        let unexpected = archive.tensors.map(\.name).filter { !used.contains($0) && !$0.hasSuffix("num_batches_tracked") }
        guard missing.isEmpty, unexpected.isEmpty, misshaped.isEmpty else {
            throw ZooKitError.stateDictMismatch(architecture: architecture, missing: missing, unexpected: unexpected, misshaped: misshaped)
        }
    }

    /// `key: the architecture expects [PyTorch shape], the file has [shape]`, the expected
    /// shape in PyTorch's layout (the variable's shape with the load's permutation undone).
    static func mismatch(_ key: String, _ variable: Variable, _ layer: AnyObject, _ permutation: [Int]?, _ found: [Int]) -> String {
        var expected = variable.shape
        if layer is DepthwiseConv2D, expected.count == 4 {
            expected = [expected[2] * expected[3], 1, expected[0], expected[1]]
        } else if layer is PReLU {
            expected = expected.filter { $0 != 1 }
        } else if let permutation, permutation.count == expected.count {
            var torch = expected
            for (i, p) in permutation.enumerated() { torch[p] = expected[i] }
            expected = torch
        }
        return "\(key): the architecture expects \(expected), the file has \(found)"
    }

    /// Transposes a row-major tensor: output axis i is input axis `permutation[i]`.
    static func permute(_ values: [Float], shape: [Int], to permutation: [Int]) -> ([Float], [Int]) {
        let outputShape = permutation.map { shape[$0] }
        var inputStrides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { inputStrides[d] = inputStrides[d + 1] * shape[d + 1] }
        let strides = permutation.map { inputStrides[$0] }
        var result = [Float](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: shape.count)
        var source = 0
        for target in 0..<values.count {
            result[target] = values[source]
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                source += strides[d]
                if index[d] < outputShape[d] { break }
                source -= strides[d] * outputShape[d]
                index[d] = 0
                d -= 1
            }
        }
        return (result, outputShape)
    }
}
