/// Everything an optimizer carries from one step to the next, so training can stop and
/// continue exactly (what Keras keeps in the optimizer's variables, PyTorch in
/// `optimizer.state_dict()`): the step count (schedules and bias corrections depend on it),
/// the base learning rate (`ReduceLROnPlateau` changes it), per-optimizer scalars (Nadam's
/// momentum-cache product) and the slots of each variable, named `<variable>/<slot index>`
/// (Adam: 0 = m, 1 = v, 2 = v̂ with AMSGrad; SGD: 0 = velocity; AdaGrad: 0 = accumulator;
/// RMSProp: 0 = mean square, 1 = momentum, 2 = mean gradient).
public struct OptimizerState: Sendable, Equatable {
    /// Updates applied so far.
    public var iterations: Int
    /// The base learning rate.
    public var learningRate: Float
    /// Per-optimizer scalars by name (Nadam: `u_product`).
    public var scalars: [String: Float]
    /// Each variable's slots, named `<variable>/<slot index>`.
    public var slots: [VariableSnapshot]

    /// A state from its parts (a checkpoint's).
    public init(iterations: Int, learningRate: Float, scalars: [String: Float] = [:], slots: [VariableSnapshot] = []) {
        self.iterations = iterations
        self.learningRate = learningRate
        self.scalars = scalars
        self.slots = slots
    }
}

extension Optimizer {
    /// The optimizer's state for `variables` (slots of variables never updated are absent).
    public func state(of variables: [Variable]) -> OptimizerState {
        var snapshots: [VariableSnapshot] = []
        for variable in variables {
            for (index, buffer) in existingSlots(of: variable).enumerated() {
                snapshots.append(VariableSnapshot(name: "\(variable.name)/\(index)", shape: variable.shape, trainable: false,
                                                  values: buffer.array(count: variable.count)))
            }
        }
        return OptimizerState(iterations: iterations, learningRate: learningRate, scalars: scalarState, slots: snapshots)
    }

    /// Continues from `state`: the step count, learning rate, scalars and the slots of
    /// `variables` (matched by name; a variable without saved slots starts fresh).
    /// - Throws: `invalidArgument` for a negative step count, an unknown scalar or a slot
    ///   count of another optimizer; `shapeMismatch` for a slot whose size does not match.
    public func restore(_ state: OptimizerState, for variables: [Variable]) throws {
        guard state.iterations >= 0 else {
            throw ZooNetError.invalidArgument("optimizer state: iterations must be >= 0, got \(state.iterations)")
        }
        let saved = Dictionary(state.slots.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        for variable in variables {
            var values: [[Float]] = []
            while let slot = saved["\(variable.name)/\(values.count)"] {
                guard slot.values.count == variable.count else {
                    throw ZooNetError.shapeMismatch(expected: variable.shape, actual: slot.shape, context: slot.name)
                }
                values.append(slot.values)
            }
            guard !values.isEmpty else { continue }
            guard values.count == slotCount else {
                throw ZooNetError.invalidArgument(
                    "optimizer state: \(variable.name) has \(values.count) slots, \(type(of: self)) keeps \(slotCount)")
            }
            setSlots(of: variable, values)
        }
        try restoreScalars(state.scalars)
        iterations = state.iterations
        learningRate = state.learningRate
    }
}
