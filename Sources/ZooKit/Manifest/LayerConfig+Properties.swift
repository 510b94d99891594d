import ZooNet

/// What the transfer pipeline asks of a layer's kind: whether a pretrained file must supply
/// variables for it, and its own activation (which `--logits` turns linear).
extension LayerConfig {
    /// Whether the layer has variables (kernels, biases, batch-norm statistics, PReLU slopes,
    /// a `Normalization` without constant statistics).
    public var hasVariables: Bool {
        switch self {
        case .dense, .conv2d, .depthwiseConv2d, .separableConv2d, .conv2dTranspose, .batchNormalization, .prelu: true
        case let .layerNormalization(_, _, center, scale): center || scale
        case let .normalization(mean, variance): mean == nil || variance == nil
        default: false
        }
    }

    /// The activation the layer applies: an activation layer's, or the one fused into a dense
    /// or convolution layer; nil for kinds without one.
    public var activation: Activation? {
        switch self {
        case .dense(_, let activation, _), .activation(let activation): activation
        case .conv2d(let s), .depthwiseConv2d(let s), .separableConv2d(let s), .conv2dTranspose(let s): s.activation
        default: nil
        }
    }

    /// The same layer with `activation` instead of its own (kinds without one are returned as they are).
    public func with(activation: Activation) -> LayerConfig {
        switch self {
        case let .dense(units, _, useBias): return .dense(units: units, activation: activation, useBias: useBias)
        case .activation: return .activation(activation)
        case .conv2d(var s): s.activation = activation; return .conv2d(s)
        case .depthwiseConv2d(var s): s.activation = activation; return .depthwiseConv2d(s)
        case .separableConv2d(var s): s.activation = activation; return .separableConv2d(s)
        case .conv2dTranspose(var s): s.activation = activation; return .conv2dTranspose(s)
        default: return self
        }
    }
}
