import ZooNet

/// One layer of a chain: its name (the scope of its variables, `hidden1` → `hidden1/kernel`)
/// and its kind with typed settings, a `LayerConfig` (the engine's one catalog of layer kinds).
/// The layers of a linear model (`NetworkDescription.chainLayers`), the head layers
/// ``TransferOptions/Head/layers(_:)`` takes, and the `architecture` list of a schema-1 manifest.
///
/// JSON: the node form of a schema-2 manifest without `inputs`, `{"name": "hidden1", "kind":
/// "dense", "units": 100, "activation": "elu"}`. Schema-1 manifests spell the kind `type` and
/// have two kinds of their own, read as activation layers:
///
///     {"type": "dense", "name": "hidden1", "units": 100, "activation": "elu"}
///     {"type": "leaky_relu", "name": "act", "alpha": 0.01}     // activation leaky_relu (α default 0.3)
///     {"type": "elu", "name": "act", "alpha": 1}               // activation elu (α default 1)
public struct LayerSpec: Codable, Sendable, Equatable {
    /// The layer's name.
    public var name: String
    /// The layer's kind and settings.
    public var layer: LayerConfig

    /// The layer `layer` named `name`.
    public init(_ name: String, _ layer: LayerConfig) {
        self.name = name
        self.layer = layer
    }

    /// The kind's name as JSON writes it (`dense`, `batch_normalization`, …).
    public var kind: String { layer.kind }

    /// A dense layer: Y = f(X·W + b), W `[in, units]`.
    /// - Parameters:
    ///   - name: the layer's name.
    ///   - units: the output units.
    ///   - activation: f.
    ///   - useBias: add b.
    public static func dense(_ name: String, units: Int, activation: Activation = .linear, useBias: Bool = true) -> LayerSpec {
        LayerSpec(name, .dense(units: units, activation: activation, useBias: useBias))
    }

    /// A dropout layer: in training, each input is zeroed with probability `rate` and the rest
    /// scaled by 1/(1 − rate); in inference it passes its input through.
    public static func dropout(_ name: String, rate: Float) -> LayerSpec {
        LayerSpec(name, .dropout(rate: rate, noiseShape: nil))
    }

    /// A batch-normalization layer over the last axis (Keras' defaults: momentum 0.99, epsilon 0.001).
    public static func batchNormalization(_ name: String, momentum: Float = 0.99, epsilon: Float = 0.001) -> LayerSpec {
        LayerSpec(name, .batchNormalization(momentum: momentum, epsilon: epsilon, center: true, scale: true))
    }

    /// An activation layer.
    public static func activation(_ name: String, _ activation: Activation) -> LayerSpec {
        LayerSpec(name, .activation(activation))
    }

    /// Whether this is a hidden layer in the seed's sense (dense or convolutional): what
    /// `--drop-layers` counts and regularizers apply to.
    public var isHiddenLayer: Bool {
        switch layer {
        case .dense, .conv2d, .depthwiseConv2d, .separableConv2d, .conv2dTranspose: true
        default: false
        }
    }

    /// Whether the layer has variables a pretrained file must supply.
    public var hasWeights: Bool { layer.hasVariables }

    /// The ZooNet layer this spec describes; dense and convolution kernels take `kernelRegularizer`
    /// and `kernelInitializer` (default Glorot uniform, as Keras).
    /// - Throws: `ZooKitError.unsupportedLayer` naming the layer and what is wrong (a merge kind,
    ///   which takes several inputs, or settings the engine rejects).
    public func makeLayer(kernelRegularizer: Regularizer? = nil, kernelInitializer: Initializer? = nil) throws -> any Layer {
        func fail(_ reason: String) -> ZooKitError { .unsupportedLayer(name: name, type: kind, reason: reason) }
        switch layer {
        case let .dense(units, activation, useBias):
            guard units > 0 else { throw fail("units must be positive") }
            return Dense(outputCount: units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer ?? .glorotUniform,
                         kernelRegularizer: kernelRegularizer, name: name)
        case .conv2d(let s) where kernelRegularizer != nil || kernelInitializer != nil:
            guard s.filters > 0 else { throw fail("'filters' is required") }
            guard [1, 2].contains(s.kernelSize.count), [1, 2].contains(s.strides.count), [1, 2].contains(s.dilation.count) else {
                throw fail("kernel_size, strides and dilation_rate take one or two values")
            }
            func pair(_ v: [Int]) -> (height: Int, width: Int) { (v[0], v.count == 2 ? v[1] : v[0]) }
            return Conv2D(filters: s.filters, kernelSize: pair(s.kernelSize), strides: pair(s.strides), dilation: pair(s.dilation),
                          groups: s.groups, padding: s.padding, activation: s.activation, useBias: s.useBias,
                          kernelInitializer: kernelInitializer ?? .glorotUniform, kernelRegularizer: kernelRegularizer, name: name)
        case .conv2d(let s), .separableConv2d(let s), .conv2dTranspose(let s):
            guard s.filters > 0 else { throw fail("'filters' is required") }
        default:
            break
        }
        do {
            switch try layer.makeLayer(name: name) {
            case .layer(let built): return built
            case .merge: throw fail("\(kind) takes several inputs: it is a graph node, not a layer of a chain")
            }
        } catch let error as ZooNetError {
            throw fail(error.description)
        }
    }

    enum Key: String, CodingKey { case name, type, kind, alpha }

    /// Decodes `{"name", "kind" (or schema 1's "type"), …settings}`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        name = try c.decode(String.self, forKey: .name)
        switch try c.decodeIfPresent(String.self, forKey: .type) {
        case "leaky_relu": layer = .activation(.leakyReLU(alpha: try c.decodeIfPresent(Float.self, forKey: .alpha) ?? 0.3))
        case "elu": layer = .activation(.elu(alpha: try c.decodeIfPresent(Float.self, forKey: .alpha) ?? 1))
        default: layer = try LayerConfig(from: decoder)
        }
    }

    /// Encodes `{"name", "kind", …settings}`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: .name)
        try layer.encode(to: encoder)
    }
}

extension Array where Element == LayerSpec {
    /// The layers without their final activation, so that the network outputs logits (the
    /// values a softmax or sigmoid would turn into probabilities): a trailing activation layer
    /// is removed (if other layers remain), else the last layer's activation becomes linear.
    /// Layers without weights keep their variables' names, so a network built from the result
    /// takes the same weights.
    public var withoutFinalActivation: [LayerSpec] {
        var specs = self
        guard let last = specs.last else { return specs }
        if case .activation = last.layer, specs.count > 1 {
            specs.removeLast()
        } else if last.layer.activation != nil {
            specs[specs.count - 1].layer = last.layer.with(activation: .linear)
        }
        return specs
    }
}
