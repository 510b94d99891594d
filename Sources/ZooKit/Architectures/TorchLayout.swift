import ZooNet

/// Running a built-in architecture the way its PyTorch module runs: NCHW in, NCHW out.
///
/// ZooNet computes in NHWC. The input batch `[n, c, h, w]` is transposed to `[n, h, w, c]`
/// (`x_nhwc[n, h, w, c] = x[n, c, h, w]`), and every 4-D output `[n, h, w, c]` back to
/// `[n, c, h, w]`; outputs of other ranks (logits `[n, classes]`) are returned as they are.
public enum TorchLayout {
    /// `[n, c, h, w]` → `[n, h, w, c]`.
    /// - Throws: `ZooKitError.invalidRequest` unless the tensor is 4-D.
    public static func channelsLast(_ x: Tensor) throws -> Tensor {
        guard x.shape.count == 4 else {
            throw ZooKitError.invalidRequest("a PyTorch image batch is 4-D [N, C, H, W]; this tensor is \(x.shape)")
        }
        let (values, shape) = TorchParameterLayout.permuted(x.scalars, shape: x.shape, to: [0, 2, 3, 1])
        return try Tensor(shape: shape, scalars: values)
    }

    /// `[n, h, w, c]` → `[n, c, h, w]`; tensors of any other rank unchanged.
    public static func channelsFirst(_ y: Tensor) throws -> Tensor {
        guard y.shape.count == 4 else { return y }
        let (values, shape) = TorchParameterLayout.permuted(y.scalars, shape: y.shape, to: [0, 3, 1, 2])
        return try Tensor(shape: shape, scalars: values)
    }

    /// Runs `network` (an `Architecture` build) on an NCHW batch `[n, 3, s, s]` and returns the
    /// outputs in `forward`'s order, feature maps as NCHW `[n, c, h, w]`.
    /// - Parameters:
    ///   - network: the network, input `[s, s, 3]`.
    ///   - x: the batch, NCHW `[n, 3, s, s]`.
    ///   - nodes: nodes whose values to return instead of the outputs (nil: the outputs).
    /// - Throws: `ZooKitError.invalidRequest` when the batch does not fit the network's
    ///   `[s, s, 3]` input (naming both shapes); engine errors otherwise.
    public static func predict(_ network: Network, nchw x: Tensor, nodes: [String]? = nil) throws -> [Tensor] {
        let input = try channelsLast(x)
        guard Array(input.shape.dropFirst()) == network.inputShape else {
            let s = network.inputShape
            let wanted = s.count == 3 ? "[N, \(s[2]), \(s[0]), \(s[1])] (NCHW)" : "\(s) per sample (NHWC)"
            throw ZooKitError.invalidRequest("the input is \(x.shape); the network takes \(wanted)")
        }
        let outputs = try nodes.map { try network.predict([input], outputs: $0) } ?? network.predict([input])
        return try outputs.map(channelsFirst)
    }
}
