import ZooFormat

/// Turns a Keras model description (from a `.h5` `model_config` or a `.keras`
/// `config.json`) into a manifest's architecture.
public enum KerasArchitecture {
    /// The layers and input shape of `model`.
    /// - Throws: `unsupportedLayer` naming every layer (and the topology) the engine cannot build.
    public static func layers(of model: KerasModelConfig) throws -> (inputShape: [Int]?, layers: [LayerSpec]) {
        if let first = model.unsupported.first {
            let all = model.unsupported.map(\.description).joined(separator: "; ")
            throw ZooKitError.unsupportedLayer(name: first.layer, type: first.className, reason: model.unsupported.count == 1 ? first.reason : all)
        }
        let specs = model.layers.map { layer -> LayerSpec in
            var spec = LayerSpec(type: "", name: layer.name)
            switch layer.kind {
            case .dense(let units, let activation, let useBias):
                spec = .dense(layer.name, units: units, activation: activation, useBias: useBias)
            case .batchNormalization(let momentum, let epsilon, let center, let scale):
                spec.type = "batch_normalization"
                spec.momentum = momentum
                spec.epsilon = epsilon
                spec.center = center
                spec.scale = scale
            case .activation(let name):
                spec.type = "activation"
                spec.activation = name
            case .leakyReLU(let alpha):
                spec.type = "leaky_relu"
                spec.alpha = alpha
            case .elu(let alpha):
                spec.type = "elu"
                spec.alpha = alpha
            case .prelu:
                spec.type = "prelu"
            case .dropout(let rate):
                spec.type = "dropout"
                spec.rate = rate
            case .flatten:
                spec.type = "flatten"
            case .conv2D(let filters, let kernelSize, let strides, let padding, let activation, let useBias):
                spec.type = "conv2d"
                spec.filters = filters
                spec.kernelSize = kernelSize
                spec.strides = strides
                spec.padding = padding
                spec.activation = activation
                spec.useBias = useBias
            case .maxPooling2D(let poolSize, let strides, let padding):
                spec.type = "max_pooling2d"
                spec.poolSize = poolSize
                spec.strides = strides
                spec.padding = padding
            case .unsupported(let reason):
                spec.type = "unsupported: \(reason)"
            }
            return spec
        }
        let shape = model.inputShape.flatMap { dims in dims.allSatisfy { $0 != nil } ? dims.compactMap { $0 } : nil }
        return (shape, specs)
    }
}
