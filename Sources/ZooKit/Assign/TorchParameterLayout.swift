import ZooNet

/// How PyTorch names and lays out the variables of each engine layer kind: the one table the
/// `pytorch` name mapping and the built-in architectures' state-dict loader both read.
///
/// | layer | engine variable | PyTorch parameter | PyTorch layout → engine layout |
/// |---|---|---|---|
/// | `Conv2D` | `kernel`, `bias` | `weight`, `bias` | OIHW → HWIO (`[2, 3, 1, 0]`) |
/// | `DepthwiseConv2D` | `depthwise_kernel`, `bias` | `weight`, `bias` | `[c·m, 1, kh, kw]` → `[kh, kw, c, m]` (`[2, 3, 0, 1]`, then reshaped) |
/// | `Dense` | `kernel`, `bias` | `weight`, `bias` (`nn.Linear`) | `[out, in]` → `[in, out]` |
/// | `BatchNorm` | `gamma`, `beta`, `moving_mean`, `moving_variance` | `weight`, `bias`, `running_mean`, `running_var` | as they are (`num_batches_tracked` has no variable) |
/// | `LayerNormalization` | `gamma`, `beta` | `weight`, `bias` | as they are |
/// | `PReLU` | `alpha` | `weight` (`nn.PReLU(c)`) | `[c]` → the alpha's `[1, …, 1, c]` |
enum TorchParameterLayout {
    /// One row of the table.
    struct Entry: Sendable {
        /// The engine variable's last name part (`kernel`).
        let variable: String
        /// The PyTorch parameter's last name part (`weight`).
        let parameter: String
        /// Output axis i of the engine tensor is axis `permutation[i]` of PyTorch's; nil: the same layout.
        let permutation: [Int]?
    }

    /// The rows for `layer`'s kind (empty for kinds PyTorch has no parameters for).
    static func entries(for layer: AnyObject) -> [Entry] {
        switch layer {
        case is Conv2D: [Entry(variable: "kernel", parameter: "weight", permutation: [2, 3, 1, 0]), bias]
        case is DepthwiseConv2D: [Entry(variable: "depthwise_kernel", parameter: "weight", permutation: [2, 3, 0, 1]), bias]
        case is Dense: [Entry(variable: "kernel", parameter: "weight", permutation: [1, 0]), bias]
        case is BatchNorm:
            [Entry(variable: "gamma", parameter: "weight", permutation: nil), Entry(variable: "beta", parameter: "bias", permutation: nil),
             Entry(variable: "moving_mean", parameter: "running_mean", permutation: nil),
             Entry(variable: "moving_variance", parameter: "running_var", permutation: nil)]
        case is LayerNormalization:
            [Entry(variable: "gamma", parameter: "weight", permutation: nil), Entry(variable: "beta", parameter: "bias", permutation: nil)]
        case is PReLU: [Entry(variable: "alpha", parameter: "weight", permutation: nil)]
        default: []
        }
    }

    private static let bias = Entry(variable: "bias", parameter: "bias", permutation: nil)

    /// The row whose engine variable is `variable` (a last name part), for `layer`.
    static func entry(forVariable variable: String, of layer: AnyObject) -> Entry? {
        entries(for: layer).first { $0.variable == variable }
    }

    /// The row whose PyTorch parameter is `parameter` (a last name part), for `layer`.
    static func entry(forParameter parameter: String, of layer: AnyObject) -> Entry? {
        entries(for: layer).first { $0.parameter == parameter }
    }

    /// The engine shape of a PyTorch tensor of `shape` for a variable of shape `target`:
    /// permuted, then the variable's shape where the two differ only as the table says (a
    /// depthwise `[kh, kw, c·m, 1]` is `[kh, kw, c, m]`; PReLU's `[c]` is `[1, …, 1, c]`).
    /// - Returns: nil when the rank does not fit the permutation.
    static func engineShape(of shape: [Int], entry: Entry, layer: AnyObject, target: [Int]) -> [Int]? {
        var shape = shape
        if let permutation = entry.permutation {
            guard shape.count == permutation.count else { return nil }
            shape = permutation.map { shape[$0] }
        }
        if layer is DepthwiseConv2D, shape.count == 4, target.count == 4, shape[3] == 1, shape[2] == target[2] * target[3],
           shape[0] == target[0], shape[1] == target[1] {
            shape = target
        }
        if layer is PReLU, shape.filter({ $0 != 1 }) == target.filter({ $0 != 1 }) { shape = target }
        return shape
    }

    /// PyTorch values in the engine's layout (see ``engineShape(of:entry:layer:target:)``).
    /// - Returns: nil when the rank does not fit the permutation.
    static func engineLayout(_ values: [Float], shape: [Int], entry: Entry, layer: AnyObject, target: [Int]) -> (values: [Float], shape: [Int])? {
        guard let engine = engineShape(of: shape, entry: entry, layer: layer, target: target) else { return nil }
        return (entry.permutation.map { permuted(values, shape: shape, to: $0).0 } ?? values, engine)
    }

    /// The shape PyTorch stores for an engine variable of shape `shape` (for messages and writers).
    static func torchShape(ofVariable shape: [Int], entry: Entry, layer: AnyObject) -> [Int] {
        if layer is DepthwiseConv2D, shape.count == 4 { return [shape[2] * shape[3], 1, shape[0], shape[1]] }
        if layer is PReLU { return shape.filter { $0 != 1 } }
        guard let permutation = entry.permutation, permutation.count == shape.count else { return shape }
        var torch = shape
        for (engineAxis, torchAxis) in permutation.enumerated() { torch[torchAxis] = shape[engineAxis] }
        return torch
    }

    /// Transposes a row-major tensor: output axis i is input axis `permutation[i]`.
    static func permuted(_ values: [Float], shape: [Int], to permutation: [Int]) -> ([Float], [Int]) {
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
