import ZooNet

extension ModelManifest {
    /// A freshly initialized network with this architecture (variables seeded by `seed`): a
    /// `Sequential` when the architecture is a chain, else a `Network`.
    /// - Throws: ``ZooKitError/unsupportedLayer(name:type:reason:)`` for a layer the engine
    ///   rejects, ``ZooKitError/architecture(model:reason:)`` for a graph that does not build.
    public func buildNetwork(seed: UInt64 = 0) throws -> Network {
        do {
            if let layers = architecture.chainLayers {
                return try Sequential(inputShape: input.shape, layers: layers.map { try $0.makeLayer() }, seed: seed)
            }
            return try Network(description: architecture, seed: seed)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: name, reason: error.description)
        }
    }

    /// The node a new head goes on: ``cut``, else the head's (first) input.
    public var featureNode: String? {
        cut ?? architecture.nodes.first { $0.name == head }?.inputs.first
    }
}
