/// A linear stack of layers with named variables (Keras `Sequential`).
///
/// Per-sample shapes: `shapes[0] = inputShape`, `shapes[i + 1]` = output of `layers[i]`.
/// The network owns one activation and one gradient buffer per boundary, sized for the largest
/// batch seen; steps with the same (or smaller) batch size allocate nothing.
///
/// Variables are exposed in layer order (`variables`, `snapshots`) with TF scope names
/// (`hidden1/kernel`, `bn1/moving_mean`, ...) so weights can be assigned by name.
public final class Sequential {
    public let layers: [any Layer]
    /// Per-sample shapes at each layer boundary (count = layers.count + 1).
    public let shapes: [[Int]]
    public var inputShape: [Int] { shapes[0] }
    public var outputShape: [Int] { shapes[shapes.count - 1] }
    public let variables: [Variable]

    let sizes: [Int]
    let activations: [FloatBuffer]
    let gradients: [FloatBuffer]
    private(set) var capacity = 0
    /// Index of the lowest layer with a trainable variable (`layers.count` if none).
    private(set) var lowestTrainableLayer = 0

    /// Builds every layer in order (Keras-style default names for unnamed layers) and
    /// initializes variables from `seed`. Throws on shape errors or duplicate names.
    public init(inputShape: [Int], layers: [any Layer], seed: UInt64 = 0) throws {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ZooNetError.invalidArgument("input shape must be non-empty and positive, got \(inputShape)")
        }
        var shapes = [inputShape], counts: [String: Int] = [:], names = Set<String>()
        for (index, layer) in layers.enumerated() {
            if layer.name.isEmpty {
                let n = counts[layer.kind, default: 0]
                counts[layer.kind] = n + 1
                layer.name = n == 0 ? layer.kind : "\(layer.kind)_\(n)"
            }
            guard names.insert(layer.name).inserted else { throw ZooNetError.duplicateVariable(layer.name) }
            let next = try layer.build(inputShape: shapes[index], seed: SplitMix64.derive(seed, UInt64(index)))
            guard next.allSatisfy({ $0 > 0 }) else {
                throw ZooNetError.invalidArgument("\(layer.name): empty output shape \(next)")
            }
            shapes.append(next)
        }
        self.layers = layers
        self.shapes = shapes
        self.sizes = shapes.map { $0.reduce(1, *) }
        self.variables = layers.flatMap { $0.variables }
        self.activations = sizes.map { _ in FloatBuffer(count: 0) }
        self.gradients = sizes.map { _ in FloatBuffer(count: 0) }
        updateLowestTrainableLayer()
    }

    /// Immutable copies of all variables, in order.
    public var snapshots: [VariableSnapshot] { variables.map(\.snapshot) }

    /// The variable with this exact name.
    public func variable(named name: String) throws -> Variable {
        guard let v = variables.first(where: { $0.name == name }) else { throw ZooNetError.unknownVariable(name) }
        return v
    }

    /// Assigns values by name (shape must match element count).
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
    /// (Python `re.match`, as TF's `get_collection(scope=)`), e.g. `hidden[34]|outputs`.
    /// Everything else is frozen: no gradient is computed for it, and no backward pass runs
    /// below the lowest layer holding a trainable variable. A BN layer whose gamma and beta are
    /// frozen runs in inference mode.
    /// - Throws: ``ZooNetError/invalidPattern(_:)`` when `pattern` does not compile.
    public func freeze(trainable pattern: String) throws {
        freeze(trainable: try NamePattern(pattern))
    }

    /// Makes trainable exactly the variables `pattern` matches; everything else is frozen
    /// (see ``freeze(trainable:)-(String)``).
    public func freeze(trainable pattern: NamePattern) {
        for v in variables { v.isFrozen = !pattern.matches(v.name) }
        updateLowestTrainableLayer()
    }

    /// Makes every trainable-kind variable trainable again.
    public func unfreezeAll() {
        for v in variables { v.isFrozen = false }
        updateLowestTrainableLayer()
    }

    /// Variables that receive updates, in order.
    public var trainableVariables: [Variable] { variables.filter(\.isTrainable) }

    private func updateLowestTrainableLayer() {
        lowestTrainableLayer = layers.firstIndex { $0.hasTrainableVariables } ?? layers.count
    }

    /// Grows the boundary buffers to hold `batch` samples (no-op once large enough).
    func reserve(batch: Int) {
        guard batch > capacity else { return }
        for (i, size) in sizes.enumerated() {
            activations[i].reserve(batch * size)
            gradients[i].reserve(batch * size)
        }
        capacity = batch
    }

    /// The activation of an `ActivationLayer` at `i + 1` that the `BatchNorm` at `i` applies
    /// itself (fused: one pass instead of two each way); nil if layer i is not such a BN.
    private func fusedActivation(after i: Int) -> (BatchNorm, Activation)? {
        guard i + 1 < layers.count, let bn = layers[i] as? BatchNorm,
              let next = layers[i + 1] as? ActivationLayer else { return nil }
        return (bn, next.activation)
    }

    /// Runs all layers on the batch already stored in `activations[0]`; returns the output.
    /// A BN → activation pair runs fused, writing only the activation's output (the BN-only
    /// boundary buffer between them is not updated).
    @discardableResult
    func forward(batch: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        var i = 0
        while i < layers.count {
            if let (bn, activation) = fusedActivation(after: i) {
                bn.forward(activations[i].pointer, into: activations[i + 2].pointer, batch: batch, training: training,
                           activation: activation)
                i += 2
                continue
            }
            layers[i].forward(activations[i].pointer, into: activations[i + 1].pointer, batch: batch, training: training)
            i += 1
        }
        return activations[layers.count].pointer
    }

    /// Back-propagates `gradients[layers.count]` (dLoss/dOutput) down to the lowest trainable
    /// layer, or to the input if `inputGradient` is true (then `gradients[0]` holds dLoss/dInput).
    func backward(batch: Int, inputGradient: Bool = false) {
        let lowest = inputGradient ? 0 : lowestTrainableLayer
        var i = layers.count - 1
        while i >= lowest {
            if i >= 1, i - 1 >= lowest, let (bn, activation) = fusedActivation(after: i - 1) {
                let needsInput = i - 1 > lowest || inputGradient
                bn.backward(input: activations[i - 1].pointer, activationOutput: activations[i + 1].pointer,
                            outputGradient: gradients[i + 1].pointer, activation: activation,
                            inputGradient: needsInput ? gradients[i - 1].pointer : nil, batch: batch)
                i -= 2
                continue
            }
            let needsInput = i > lowest || inputGradient
            layers[i].backward(
                input: activations[i].pointer, output: activations[i + 1].pointer,
                outputGradient: gradients[i + 1].pointer,
                inputGradient: needsInput ? gradients[i].pointer : nil, batch: batch)
            i -= 1
        }
    }

    /// Checks that `x` is `[n] + inputShape` and returns n.
    func sampleCount(of x: Tensor) throws -> Int {
        guard x.shape.count == inputShape.count + 1, Array(x.shape.dropFirst()) == inputShape else {
            throw ZooNetError.shapeMismatch(expected: [-1] + inputShape, actual: x.shape, context: "input")
        }
        return x.shape[0]
    }

    /// Inference: runs every sample through the network in batches of `batchSize`
    /// (BN uses moving statistics, dropout is inactive). Returns `[n] + outputShape`.
    public func predict(_ x: Tensor, batchSize: Int = 256) throws -> Tensor {
        let n = try sampleCount(of: x)
        guard batchSize > 0 else { throw ZooNetError.invalidArgument("batchSize must be positive") }
        let inSize = sizes[0], outSize = sizes[sizes.count - 1]
        var result = [Float](repeating: 0, count: n * outSize)
        reserve(batch: Swift.min(batchSize, Swift.max(n, 1)))
        var start = 0
        while start < n {
            let b = Swift.min(batchSize, n - start)
            x.scalars.withUnsafeBufferPointer { activations[0].pointer.update(from: $0.baseAddress! + start * inSize, count: b * inSize) }
            let out = forward(batch: b, training: false)
            result.withUnsafeMutableBufferPointer { ($0.baseAddress! + start * outSize).update(from: out, count: b * outSize) }
            start += b
        }
        return try Tensor(shape: [n] + outputShape, scalars: result)
    }
}
