/// A linear stack of layers (Keras `Sequential`): a `Network` whose graph is a chain.
///
/// Per-sample shapes: `shapes[0] = inputShape`, `shapes[i + 1]` = output of `layers[i]`.
/// Layer i is built with seed `SplitMix64.derive(seed, i)` and unnamed layers get Keras-style
/// default names (`dense`, `dense_1`, …). Everything a `Network` does applies: plans with
/// buffer reuse, BN → activation fused, backward only down to the lowest trainable layer.
public final class Sequential: Network {
    public let layers: [any Layer]
    /// Per-sample shapes at each layer boundary (count = layers.count + 1).
    public var shapes: [[Int]] { nodes.map { $0.outputShape! } }

    /// Builds every layer in order and initializes variables from `seed`.
    /// - Throws: `ZooNetError` on shape errors or duplicate names.
    public init(inputShape: [Int], layers: [any Layer], seed: UInt64 = 0) throws {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ZooNetError.invalidArgument("input shape must be non-empty and positive, got \(inputShape)")
        }
        let input = Input(shape: inputShape, name: "input_layer")
        var tensor = input
        for layer in layers { tensor = layer(tensor) }
        self.layers = layers
        do {
            try super.init(inputs: [input], outputs: [tensor], seed: seed)
        } catch let ZooNetError.graph(_, problem) where problem.hasPrefix("two nodes have this name") {
            throw ZooNetError.duplicateVariable(layers.map(\.name).first { name in layers.filter { $0.name == name }.count > 1 } ?? "")
        } catch let ZooNetError.layerBuild(_, _, _, error) {
            throw error  // a chain has one obvious input: the layer's own error says it all
        }
    }

    /// Index of the lowest layer with a trainable variable (`layers.count` if none): no
    /// backward pass runs below it.
    public var lowestTrainableLayer: Int {
        layers.firstIndex { layer in layer.variables.contains { $0.isTrainable } } ?? layers.count
    }
}
