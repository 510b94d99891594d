extension Network {
    /// This network as data, what `init(description:seed:)` builds again: its inputs (a cut
    /// network's input is the node it was cut at, with that node's shape), every node's
    /// `LayerConfig` and inputs in topological order (the extra calls of a shared layer
    /// `shares` the first), its outputs. Variables' values are not part of it, nor are
    /// initializers and regularizers.
    /// - Throws: `ZooNetError.graph` naming a node whose layer is not a built-in one (it has no
    ///   `LayerConfig`).
    public func networkDescription() throws -> NetworkDescription {
        let inputSet = Set(inputIndices)
        var described: [NetworkDescription.NodeDescription] = []
        for (i, node) in nodes.enumerated() where !inputSet.contains(i) {
            guard let configurable = node.layerObject as? any ConfigurableLayer else {
                throw ZooNetError.graph(node: node.name, problem: "a custom layer has no LayerConfig: the network cannot be described as data")
            }
            described.append(.init(name: node.name, layer: configurable.configuration, inputs: inputsOf[i].map { nodes[$0].name },
                                   shares: node.sharing?.name))
        }
        return NetworkDescription(
            inputs: inputIndices.map { .init(name: nodes[$0].name, shape: nodes[$0].outputShape!) }, nodes: described,
            outputs: outputIndices.map { nodes[$0].name })
    }
}
