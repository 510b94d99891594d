import ZooNet

/// One layer of a manifest's architecture, as JSON:
///
///     {"type": "dense", "name": "hidden1", "units": 100, "activation": "elu"}
///     {"type": "batch_normalization", "name": "bn1", "momentum": 0.9, "epsilon": 0.001}
///     {"type": "activation", "name": "act1", "activation": "elu"}
///     {"type": "leaky_relu", "alpha": 0.01}   {"type": "elu", "alpha": 1}   {"type": "prelu"}
///     {"type": "dropout", "rate": 0.5}        {"type": "flatten"}
///     {"type": "conv2d", "filters": 32, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same", "activation": "relu"}
///     {"type": "max_pooling2d", "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"}
///
/// Activations: linear, relu, elu, selu, sigmoid, tanh, softmax, leaky_relu.
public struct LayerSpec: Codable, Sendable, Equatable {
    /// The layer kind: `dense`, `batch_normalization`, `activation`, `leaky_relu`, `elu`,
    /// `prelu`, `dropout`, `flatten`, `conv2d`, `max_pooling2d`.
    public var type: String
    /// The layer's name, the scope of its variables (`hidden1` → `hidden1/kernel`).
    public var name: String
    /// Dense: the output units.
    public var units: Int?
    /// Dense, conv2d, activation: the activation's Keras name.
    public var activation: String?
    /// Dense, conv2d: whether a bias exists (default true).
    public var useBias: Bool?
    /// Batch normalization: the moving averages' decay (default 0.99).
    public var momentum: Double?
    /// Batch normalization: ε (default 0.001).
    public var epsilon: Double?
    /// Batch normalization: whether β exists (default true).
    public var center: Bool?
    /// Batch normalization: whether γ exists (default true).
    public var scale: Bool?
    /// Leaky ReLU's slope (default 0.3), ELU's α (default 1).
    public var alpha: Double?
    /// Dropout: the drop probability.
    public var rate: Double?
    /// Conv2d: the output channels.
    public var filters: Int?
    /// Conv2d: (kh, kw), or one number for both.
    public var kernelSize: [Int]?
    /// Conv2d, max pooling: (sh, sw) (default 1 for conv2d, the pool size for pooling).
    public var strides: [Int]?
    /// Conv2d, max pooling: `valid` (default) or `same`.
    public var padding: String?
    /// Max pooling: the window (default 2 × 2).
    public var poolSize: [Int]?

    enum CodingKeys: String, CodingKey {
        case type, name, units, activation, momentum, epsilon, center, scale, alpha, rate, filters, strides, padding
        case useBias = "use_bias"
        case kernelSize = "kernel_size"
        case poolSize = "pool_size"
    }

    /// A layer of `type` named `name`, every setting at its default.
    public init(type: String, name: String) {
        self.type = type
        self.name = name
    }

    /// A dense layer: Y = f(X·W + b), W `[in, units]`.
    /// - Parameters:
    ///   - name: the layer's name.
    ///   - units: the output units.
    ///   - activation: f's Keras name (`linear`, `relu`, `softmax`, …).
    ///   - useBias: add b.
    public static func dense(_ name: String, units: Int, activation: String = "linear", useBias: Bool = true) -> LayerSpec {
        var spec = LayerSpec(type: "dense", name: name)
        spec.units = units
        spec.activation = activation
        spec.useBias = useBias
        return spec
    }

    /// A dropout layer: in training, each input is zeroed with probability `rate` and the rest
    /// scaled by 1/(1 − rate); in inference it passes its input through.
    public static func dropout(_ name: String, rate: Double) -> LayerSpec {
        var spec = LayerSpec(type: "dropout", name: name)
        spec.rate = rate
        return spec
    }

    /// A batch-normalization layer over the last axis (Keras' defaults: momentum 0.99, epsilon 0.001).
    public static func batchNormalization(_ name: String, momentum: Double = 0.99, epsilon: Double = 0.001) -> LayerSpec {
        var spec = LayerSpec(type: "batch_normalization", name: name)
        spec.momentum = momentum
        spec.epsilon = epsilon
        return spec
    }

    /// An activation layer (`"relu"`, `"elu"`, `"softmax"`, … as in the type's documentation).
    public static func activation(_ name: String, _ activation: String) -> LayerSpec {
        var spec = LayerSpec(type: "activation", name: name)
        spec.activation = activation
        return spec
    }

    /// Whether this is a hidden layer in the seed's sense (dense or convolutional).
    public var isHiddenLayer: Bool { type == "dense" || type == "conv2d" }

    /// Whether the layer has variables a pretrained file must supply.
    public var hasWeights: Bool { ["dense", "batch_normalization", "prelu", "conv2d"].contains(type) }

    /// The ZooNet layer this spec describes.
    /// - Throws: `ZooKitError.unsupportedLayer` naming the layer and what is wrong.
    public func makeLayer(kernelRegularizer: Regularizer? = nil, kernelInitializer: Initializer? = nil) throws -> any Layer {
        func need<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw ZooKitError.unsupportedLayer(name: name, type: type, reason: "'\(key)' is required") }
            return value
        }
        func pair(_ values: [Int]?, _ key: String, default fallback: (Int, Int)? = nil) throws -> (height: Int, width: Int) {
            guard let values else {
                if let fallback { return fallback }
                throw ZooKitError.unsupportedLayer(name: name, type: type, reason: "'\(key)' is required")
            }
            guard values.count == 2 || values.count == 1, values.allSatisfy({ $0 > 0 }) else {
                throw ZooKitError.unsupportedLayer(name: name, type: type, reason: "'\(key)' must be one or two positive integers, not \(values)")
            }
            return (values[0], values.count == 2 ? values[1] : values[0])
        }
        func paddingMode() throws -> Padding {
            switch padding ?? "valid" {
            case "valid": return .valid
            case "same": return .same
            case let other: throw ZooKitError.unsupportedLayer(name: name, type: type, reason: "padding '\(other)' (expected valid or same)")
            }
        }
        switch type {
        case "dense":
            let units = try need(units, "units")
            guard units > 0 else { throw ZooKitError.unsupportedLayer(name: name, type: type, reason: "units must be positive") }
            return Dense(
                outputCount: units, activation: try Self.activation(activation ?? "linear", layer: name), useBias: useBias ?? true,
                kernelInitializer: kernelInitializer ?? .glorotUniform, kernelRegularizer: kernelRegularizer, name: name)
        case "batch_normalization":
            return BatchNorm(momentum: Float(momentum ?? 0.99), epsilon: Float(epsilon ?? 0.001), center: center ?? true, scale: scale ?? true, name: name)
        case "activation":
            return ActivationLayer(try Self.activation(try need(activation, "activation"), layer: name), name: name)
        case "leaky_relu":
            return ActivationLayer(.leakyReLU(alpha: Float(alpha ?? 0.3)), name: name)
        case "elu":
            return ActivationLayer(.elu(alpha: Float(alpha ?? 1)), name: name)
        case "prelu":
            return PReLU(name: name)
        case "dropout":
            return Dropout(rate: Float(try need(rate, "rate")), name: name)
        case "flatten":
            return Flatten(name: name)
        case "conv2d":
            return Conv2D(
                filters: try need(filters, "filters"), kernelSize: try pair(kernelSize, "kernel_size"),
                strides: try pair(strides, "strides", default: (1, 1)), padding: try paddingMode(),
                activation: try Self.activation(activation ?? "linear", layer: name), useBias: useBias ?? true,
                kernelInitializer: kernelInitializer ?? .glorotUniform, kernelRegularizer: kernelRegularizer, name: name)
        case "max_pooling2d":
            let pool = try pair(poolSize, "pool_size", default: (2, 2))
            return MaxPooling2D(poolSize: pool, strides: try pair(strides, "strides", default: pool), padding: try paddingMode(), name: name)
        default:
            throw ZooKitError.unsupportedLayer(name: name, type: type, reason: "the engine has no '\(type)' layer")
        }
    }

    /// A Keras activation name → the engine's activation.
    static func activation(_ name: String, layer: String) throws -> Activation {
        switch name {
        case "linear", "": return .linear
        case "relu": return .relu
        case "elu": return .elu(alpha: 1)
        case "selu": return .selu
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softmax": return .softmax
        case "leaky_relu": return .leakyReLU(alpha: 0.2)  // Keras 3's activation default
        default: throw ZooKitError.unsupportedLayer(name: layer, type: "activation", reason: "activation '\(name)' is not supported")
        }
    }
}

extension ModelManifest {
    /// A freshly initialized network with this architecture (variables seeded by `seed`).
    public func buildNetwork(seed: UInt64 = 0) throws -> Sequential {
        let layers = try architecture.map { try $0.makeLayer() }
        do {
            return try Sequential(inputShape: input.shape, layers: layers, seed: seed)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: name, reason: error.description)
        }
    }
}

extension Array where Element == LayerSpec {
    /// The layers without their final activation, so that the network outputs logits (the
    /// values a softmax or sigmoid would turn into probabilities): a trailing `activation`
    /// layer is removed (if other layers remain), else the last layer's activation becomes
    /// `linear`. Layers without weights keep their variables' names, so a network built from
    /// the result takes the same weights.
    public var withoutFinalActivation: [LayerSpec] {
        var specs = self
        guard let last = specs.last else { return specs }
        if last.type == "activation", specs.count > 1 {
            specs.removeLast()
        } else if last.activation != nil {
            specs[specs.count - 1].activation = "linear"
        }
        return specs
    }
}
