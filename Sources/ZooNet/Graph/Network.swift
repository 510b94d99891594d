/// A network as a directed acyclic graph of layers (Keras' functional `Model`).
///
/// Built from the symbolic tensors of the functional API (`Network(inputs:outputs:)`), from a
/// declarative `NetworkDescription`, or as a chain (`Sequential`). Building checks the whole
/// graph at once — cycles, inputs that are not the network's, shape mismatches at merges —
/// and throws `ZooNetError.graph` naming the nodes and shapes; nothing is checked at run time.
///
/// Execution follows a topological plan (`ExecutionPlan`): inference reuses activation buffers
/// once their last consumer has run (memory ≈ weights + the largest set of live activations);
/// training keeps the activations backward needs, sums gradients where a tensor fans out, and
/// runs backward only through nodes that lead to a trainable variable (frozen layers below
/// the lowest trainable one cost nothing). Any node's output can be read (`predict(_:outputs:)`),
/// which is where a transfer model cuts a pretrained one.
///
/// Variables keep TensorFlow scope names (`conv1/kernel`, `bn1/moving_mean`) so weights are
/// assigned by name. Per-sample shapes exclude the batch dimension; feature maps are NHWC.
public class Network {
    /// The nodes in topological order, inputs first.
    let nodes: [GraphNode]
    /// Positions in `nodes` of the inputs and outputs, in the order given.
    let inputIndices: [Int]
    let outputIndices: [Int]
    /// For each node, the positions of its inputs.
    let inputsOf: [[Int]]
    /// Per-sample element counts of each node's output.
    let sizes: [Int]
    /// Every variable, in topological order of the layers (Keras' `model.weights` order).
    public let variables: [Variable]
    /// The variables of shared layers' extra calls and the ones they are tied to: same values,
    /// own gradients (summed into the primary's after backward).
    let ties: [(alias: Variable, primary: Variable)]

    /// Buffers shared by the plans (slot k of any plan is buffer k).
    let activationBuffers = BufferPool()
    let gradientBuffers = BufferPool()
    let scratchBuffers = BufferPool()
    /// The Winograd convolutions' transform blocks (one step runs at a time).
    let winogradScratch = WinogradScratch()
    /// The blocked-layout convolutions' input and output buffers (one step runs at a time).
    let blockedActivations = BlockedActivations()
    /// The depth-first blocks' per-thread stripe buffers (one step runs at a time).
    let depthFirstScratch = DepthFirstScratch()
    /// Per node: pointer arrays handed to merge layers (allocated once).
    let inputPointers: [UnsafeMutableBufferPointer<UnsafePointer<Float>>]
    let inputGradientPointers: [UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>?>]
    /// Plans by (outputs, training, input gradient); training plans depend on what is frozen.
    var plans: [PlanKey: ExecutionPlan] = [:]

    /// Whether plans fuse convolutions with the batch norm, activations and residual add that
    /// follow them where no gradient flows (on by default; off to compare, in tests).
    var fusesConvolutions = true {
        didSet { plans = [:] }
    }

    /// Whether fused expansion → depthwise → projection steps run depth-first, a stripe at a
    /// time (`DepthFirstBlock`; on by default, off to compare node by node, in tests and benchmarks).
    var runsDepthFirst = true {
        didSet { plans = [:] }
    }

    /// Whether 3×3 stride-1 convolutions may run as Winograd F(2×2, 3×3) (on by default, within
    /// `ComputeBackend.winograd`; off to compare against oneDNN's direct convolution, in tests).
    var allowsWinograd = true {
        didSet {
            plans = [:]
            for node in nodes { (node.layerObject as? Conv2D)?.core?.allowsWinograd = allowsWinograd }
        }
    }

    /// Builds the network between `inputs` and `outputs`: every node between them gets a
    /// Keras-style default name if it has none (`conv2d`, `conv2d_1`, …) and is built in
    /// topological order, its variables initialized from `seed` (the k-th layer from
    /// `SplitMix64.derive(seed, k)`). Nodes already built by another network (a pretrained base
    /// reused under a new head) keep their variables. An input may be any node's output
    /// (`tensor(named:)` of another network): the nodes before it are not part of this network.
    ///
    /// - Throws: `ZooNetError.graph` for a cycle, an input of a node that is not among
    ///   `inputs`, duplicate names, a layer used by two nodes, or shapes a layer rejects
    ///   (naming the node, its inputs and their shapes).
    public init(inputs: [SymbolicTensor], outputs: [SymbolicTensor], seed: UInt64 = 0) throws {
        guard !inputs.isEmpty, !outputs.isEmpty else {
            throw ZooNetError.graph(node: "", problem: "a network needs at least one input and one output")
        }
        let order = try GraphBuilder.topologicalOrder(inputs: inputs.map(\.node), outputs: outputs.map(\.node))
        try GraphBuilder.separateSharedLayers(order)
        try GraphBuilder.assignNames(order)
        try GraphBuilder.build(order, inputs: Set(inputs.map { ObjectIdentifier($0.node) }), seed: seed)
        var position: [ObjectIdentifier: Int] = [:]
        for (i, node) in order.enumerated() { position[ObjectIdentifier(node)] = i }
        let inputSet = Set(inputs.map { ObjectIdentifier($0.node) })
        nodes = order
        inputIndices = inputs.map { position[ObjectIdentifier($0.node)]! }
        outputIndices = outputs.map { position[ObjectIdentifier($0.node)]! }
        inputsOf = order.map { node in inputSet.contains(ObjectIdentifier(node)) ? [] : node.inputs.map { position[ObjectIdentifier($0)]! } }
        sizes = order.map { $0.outputShape!.reduce(1, *) }
        variables = try GraphBuilder.variables(of: order, excluding: inputSet)
        ties = GraphBuilder.ties(of: order, excluding: inputSet)
        for (alias, primary) in ties { alias.isFrozen = primary.isFrozen }
        inputPointers = inputsOf.map { list in
            let buffer = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: Swift.max(list.count, 1))
            buffer.initialize(repeating: UnsafePointer(bitPattern: 16)!)
            return buffer
        }
        inputGradientPointers = inputsOf.map { list in
            let buffer = UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>?>.allocate(capacity: Swift.max(list.count, 1))
            buffer.initialize(repeating: nil)
            return buffer
        }
    }

    deinit {
        for buffer in inputPointers { buffer.deallocate() }
        for buffer in inputGradientPointers { buffer.deallocate() }
    }

    // MARK: - Structure

    /// Per-sample shapes of the inputs and outputs, in order.
    public var inputShapes: [[Int]] { inputIndices.map { nodes[$0].outputShape! } }
    /// Per-sample shapes of the outputs, in order.
    public var outputShapes: [[Int]] { outputIndices.map { nodes[$0].outputShape! } }
    /// The first input's per-sample shape.
    public var inputShape: [Int] { inputShapes[0] }
    /// The first output's per-sample shape (`[classes]` for a classifier).
    public var outputShape: [Int] { outputShapes[0] }
    /// The names of the output nodes, in order.
    public var outputNames: [String] { outputIndices.map { nodes[$0].name } }

    /// Node names in topological order (inputs first).
    public var nodeNames: [String] { nodes.map(\.name) }

    /// The output of the node named `name`, to build further layers on (a new head on a
    /// pretrained base) or to use as another network's input (a cut).
    /// - Throws: `ZooNetError.graph` if no node has that name.
    public func tensor(named name: String) throws -> SymbolicTensor {
        SymbolicTensor(nodes[try nodeIndex(named: name)])
    }

    /// The network's inputs and outputs as symbolic tensors (to extend the network).
    public var inputTensors: [SymbolicTensor] { inputIndices.map { SymbolicTensor(nodes[$0]) } }
    /// The network's outputs as symbolic tensors (to put a head on them).
    public var outputTensors: [SymbolicTensor] { outputIndices.map { SymbolicTensor(nodes[$0]) } }

    /// The layer object of every node, by node name (inputs excluded): `Conv2D`, `Add`, ….
    public var layersByName: [String: AnyObject] {
        var result: [String: AnyObject] = [:]
        for node in nodes { if let layer = node.layerObject { result[node.name] = layer } }
        return result
    }

    /// The single-input layers of the nodes in topological order (merges, inputs and the extra
    /// calls of shared layers excluded): the order of Keras' `model.layers` for the layers with
    /// variables, which is what positional weight names (`layer_with_weights-3`) count.
    public var layersInOrder: [any Layer] {
        nodes.compactMap { node in
            guard node.sharing == nil, case .layer(let layer) = node.operation else { return nil }
            return layer
        }
    }

    /// Floating-point operations of one sample's forward pass in the convolutions and dense
    /// layers (2 per multiply-add; element-wise work is not counted): what GFLOP/s figures of
    /// benchmarks divide by.
    public var forwardFLOPPerSample: Int {
        var total = 0
        for node in nodes {
            switch node.layerObject {
            case let conv as any SingleConvolution: total += conv.convolutionShape?.flopPerSample ?? 0
            case let separable as SeparableConv2D: total += separable.flopPerSample
            case let transpose as Conv2DTranspose: total += transpose.flopPerSample
            case let dense as Dense:
                total += 2 * (dense.inputCount ?? 0) * dense.outputCount * (node.outputShape!.reduce(1, *) / dense.outputCount)
            default: break
            }
        }
        return total
    }

    /// The per-sample output shape of node `name`.
    public func shape(ofNode name: String) throws -> [Int] { nodes[try nodeIndex(named: name)].outputShape! }

    /// The names of the nodes whose outputs node `name` takes.
    public func inputNames(ofNode name: String) throws -> [String] {
        inputsOf[try nodeIndex(named: name)].map { nodes[$0].name }
    }

    func nodeIndex(named name: String) throws -> Int {
        guard let i = nodes.firstIndex(where: { $0.name == name }) else {
            throw ZooNetError.graph(node: name, problem: "no node has this name (nodes: \(nodes.prefix(12).map(\.name).joined(separator: ", "))\(nodes.count > 12 ? ", …" : ""))")
        }
        return i
    }

    // MARK: - Variables

    /// Immutable copies of all variables, in order.
    public var snapshots: [VariableSnapshot] { variables.map(\.snapshot) }

    /// The variable with this exact name.
    public func variable(named name: String) throws -> Variable {
        guard let v = variables.first(where: { $0.name == name }) else { throw ZooNetError.unknownVariable(name) }
        return v
    }

    /// Assigns values by name (element count must match).
    public func assign(_ name: String, values: [Float]) throws {
        try variable(named: name).assign(values)
    }

    /// Assigns every snapshot by name; shapes must match exactly.
    public func assign(_ snapshots: [VariableSnapshot]) throws {
        for s in snapshots {
            let v = try variable(named: s.name)
            guard v.shape == s.shape else { throw ZooNetError.shapeMismatch(expected: v.shape, actual: s.shape, context: s.name) }
            try v.assign(s.values)
        }
    }

    /// Makes trainable exactly the variables whose name matches `pattern` at its start
    /// (Python `re.match`, as TF's `get_collection(scope=)`), e.g. `hidden[34]|outputs` or
    /// `block_1[6-9]|Conv_1`. Everything else is frozen: no gradient is computed for it, and
    /// backward runs only through nodes that lead to a trainable variable. A BN layer whose
    /// gamma and beta are frozen runs in inference mode.
    /// - Throws: `ZooNetError.invalidPattern` if the pattern does not compile.
    public func freeze(trainable pattern: String) throws {
        freeze(trainable: try NamePattern(pattern))
    }

    /// Makes trainable exactly the variables `pattern` matches; everything else is frozen
    /// (see ``freeze(trainable:)-(String)``).
    public func freeze(trainable pattern: NamePattern) {
        for v in variables { v.isFrozen = !pattern.matches(v.name) }
        trainabilityDidChange()
    }

    /// Makes every trainable-kind variable trainable again.
    public func unfreezeAll() {
        for v in variables { v.isFrozen = false }
        trainabilityDidChange()
    }

    /// Variables that receive updates, in order.
    public var trainableVariables: [Variable] { variables.filter(\.isTrainable) }

    /// Drops the training plans (they depend on which variables are trainable); tied variables
    /// follow their primaries.
    func trainabilityDidChange() {
        for (alias, primary) in ties { alias.isFrozen = primary.isFrozen }
        plans = plans.filter { !$0.key.backward }
    }
}

/// Per-slot float buffers that grow to the largest size asked for.
final class BufferPool {
    private(set) var buffers: [FloatBuffer] = []

    /// Makes slot k hold at least `counts[k]` floats.
    func reserve(_ counts: [Int]) {
        while buffers.count < counts.count { buffers.append(FloatBuffer(count: 0)) }
        for (k, count) in counts.enumerated() { buffers[k].reserve(count) }
    }

    @inline(__always) subscript(slot: Int) -> UnsafeMutablePointer<Float> { buffers[slot].pointer }
}
