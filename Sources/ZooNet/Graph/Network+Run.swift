/// Running a network's plans: buffers, forward, backward.
extension Network {
    /// The plan for these outputs and mode (built once, then cached).
    /// `backward` defaults to `training` (a training step); a backward pass after an
    /// inference-mode forward (Keras' `model(x, training=False)` under a tape) passes both.
    func plan(outputs: [Int]? = nil, training: Bool, backward: Bool? = nil, inputGradient: Bool = false) -> ExecutionPlan {
        let backward = backward ?? training
        let key = PlanKey(outputs: outputs ?? outputIndices, training: training, backward: backward,
                          inputGradient: inputGradient && backward)
        if let plan = plans[key] { return plan }
        let plan = ExecutionPlan(network: self, key: key)
        plans[key] = plan
        return plan
    }

    /// Sizes the plan's buffers for `batch` samples and lets layers build their per-batch
    /// resources (oneDNN primitives). - Throws: `ZooNetError.backend` if a primitive cannot be made.
    func prepare(_ plan: ExecutionPlan, batch: Int) throws {
        activationBuffers.reserve(plan.activationSlotSizes.map { $0 * batch })
        if plan.key.backward {
            gradientBuffers.reserve(plan.gradientSlotSizes.map { $0 * batch })
            scratchBuffers.reserve(plan.scratchSizes.map { $0 * batch })
        }
        // Layers make backward-capable resources whenever backward runs (an inference-mode
        // forward under a backward pass needs the max pool's workspace too).
        for layer in plan.preparing { try layer.prepare(batch: batch, training: plan.key.backward) }
        let measured = ConvolutionKernelChoice.measurements
        for fused in plan.fused { try fused.prepare(batch: batch) }
        if ConvolutionKernelChoice.measurements != measured { ConvolutionKernelChoice.saveMeasured() }
        for block in plan.depthFirst { try block.prepare(batch: batch) }
    }

    /// Where the plan reads input k (`inputIndices[k]`) from: stage the batch here.
    func inputBuffer(_ plan: ExecutionPlan, _ k: Int = 0) -> UnsafeMutablePointer<Float> {
        activationBuffers[plan.activationSlot[inputIndices[k]]]
    }

    /// The output of node `node` after a forward pass of `plan`.
    func activation(_ plan: ExecutionPlan, node: Int) -> UnsafeMutablePointer<Float> {
        activationBuffers[plan.activationSlot[node]]
    }

    /// dLoss/d(output of `node`) during or after a backward pass of `plan` (the loss writes
    /// the requested output's gradient here before `backward`).
    func gradient(_ plan: ExecutionPlan, node: Int) -> UnsafeMutablePointer<Float> {
        gradientBuffers[plan.gradientSlot[node]]
    }

    /// Runs the plan's steps on the staged batch (after `prepare`).
    func forward(_ plan: ExecutionPlan, batch: Int) {
        for step in plan.steps { forward(step, plan, batch: batch) }
    }

    /// Runs one step of `plan` on the staged batch.
    @inline(__always)
    func forward(_ step: ExecutionPlan.Step, _ plan: ExecutionPlan, batch: Int) {
        let training = plan.key.training
        switch step {
        case .node(let i):
            let output = activationBuffers[plan.activationSlot[i]]
            switch nodes[i].operation {
            case .input: break
            case .layer(let layer):
                layer.forward(activationBuffers[plan.activationSlot[inputsOf[i][0]]], into: output,
                              batch: batch, training: training)
            case .merge(let layer):
                let pointers = inputPointers[i]
                for (k, j) in inputsOf[i].enumerated() { pointers[k] = UnsafePointer(activationBuffers[plan.activationSlot[j]]) }
                layer.forward(UnsafeBufferPointer(rebasing: pointers[0..<inputsOf[i].count]), into: output,
                              batch: batch, training: training)
            }
        case let .batchNormActivation(b, a):
            guard case .layer(let bn as BatchNorm) = nodes[b].operation,
                  case .layer(let act as ActivationLayer) = nodes[a].operation else { return }
            bn.forward(activationBuffers[plan.activationSlot[inputsOf[b][0]]],
                       into: activationBuffers[plan.activationSlot[a]], batch: batch, training: training,
                       activation: act.activation)
        case let .fusedConvolution(fused, chain, addend):
            let output = activationBuffers[plan.activationSlot[step.output]]
            if let addend, plan.activationSlot[addend] != plan.activationSlot[step.output] {
                output.update(from: activationBuffers[plan.activationSlot[addend]], count: sizes[addend] * batch)
            }
            fused.run(activationBuffers[plan.activationSlot[inputsOf[chain[0]][0]]], into: output, batch: batch)
        case let .depthFirst(block, chain, addend):
            let output = activationBuffers[plan.activationSlot[step.output]]
            let separate = addend.flatMap { plan.activationSlot[$0] != plan.activationSlot[step.output] ? $0 : nil }
            block.run(activationBuffers[plan.activationSlot[inputsOf[chain[0]][0]]],
                      addend: separate.map { UnsafePointer(activationBuffers[plan.activationSlot[$0]]) }, into: output, batch: batch)
        }
    }

    /// Back-propagates the gradient the loss wrote for the plan's output (see `gradient(_:node:)`).
    func backward(_ plan: ExecutionPlan, batch: Int) {
        for backwardStep in plan.backward { backward(backwardStep, plan, batch: batch) }
        // A shared layer's gradient is the sum over its calls (of those that ran backward).
        for tie in plan.tiedGradients where !tie.primaryRan { tie.primary.gradient.fill(0, count: tie.primary.count) }
        for tie in plan.tiedGradients where tie.aliasRan {
            addInPlace(tie.primary.gradient.pointer, tie.alias.gradient.pointer, count: tie.primary.count)
        }
    }

    /// One step of the backward pass: the step's input gradients from its output gradient
    /// (written, or summed into where a value fans out), its variables' gradients.
    func backward(_ backwardStep: ExecutionPlan.BackwardStep, _ plan: ExecutionPlan, batch: Int) {
        let step = backwardStep.step
        let first = step.first
        let targets = backwardStep.targets
        @inline(__always) func target(_ k: Int) -> UnsafeMutablePointer<Float>? {
            switch targets[k] {
            case nil: return nil
            case .write(let slot)?: return gradientBuffers[slot]
            case .accumulate(_, let scratch)?: return scratchBuffers[scratch]
            }
        }
        let outputGradient = gradientBuffers[plan.gradientSlot[step.output]]
        switch step {
        case .node(let i):
            switch nodes[i].operation {
            case .input: break
            case .layer(let layer):
                layer.backward(input: activationBuffers[plan.activationSlot[inputsOf[i][0]]],
                               output: activationBuffers[plan.activationSlot[i]], outputGradient: outputGradient,
                               inputGradient: target(0), batch: batch)
            case .merge(let layer):
                let count = inputsOf[i].count
                let pointers = inputPointers[i], gradients = inputGradientPointers[i]
                for (k, j) in inputsOf[i].enumerated() {
                    pointers[k] = UnsafePointer(activationBuffers[plan.activationSlot[j]])
                    gradients[k] = target(k)
                }
                layer.backward(inputs: UnsafeBufferPointer(rebasing: pointers[0..<count]),
                               output: activationBuffers[plan.activationSlot[i]], outputGradient: outputGradient,
                               inputGradients: UnsafeBufferPointer(rebasing: gradients[0..<count]), batch: batch)
            }
        case let .batchNormActivation(b, a):
            guard case .layer(let bn as BatchNorm) = nodes[b].operation,
                  case .layer(let act as ActivationLayer) = nodes[a].operation else { return }
            bn.backward(input: activationBuffers[plan.activationSlot[inputsOf[b][0]]],
                        activationOutput: activationBuffers[plan.activationSlot[a]], outputGradient: outputGradient,
                        activation: act.activation, inputGradient: target(0), batch: batch)
        case .fusedConvolution, .depthFirst:
            break  // fused only where no gradient flows
        }
        for (k, t) in targets.enumerated() {
            if case let .accumulate(slot, scratch)? = t {
                addInPlace(gradientBuffers[slot], scratchBuffers[scratch], count: sizes[inputsOf[first][k]] * batch)
            }
        }
    }

    /// Runs `plan` forward on the batches of `inputs` (`[n] + inputShapes[k]` each) and returns
    /// the requested outputs as `[n] + shape`.
    func run(_ inputs: [Tensor], outputs: [Int], batchSize: Int) throws -> [Tensor] {
        guard batchSize > 0 else { throw ZooNetError.invalidArgument("batchSize must be positive") }
        let n = try sampleCount(inputs)
        let plan = plan(outputs: outputs, training: false)
        let passSize = InferenceMicroBatch.samples(workingSetFloatsPerSample: largestStepWorkingSet(plan), limit: batchSize)
        var results = outputs.map { [Float](repeating: 0, count: n * sizes[$0]) }
        var start = 0
        var preparedBatch = 0
        while start < n {
            let b = Swift.min(passSize, n - start)
            if b != preparedBatch { try prepare(plan, batch: b); preparedBatch = b }
            stage(inputs, plan, from: start, count: b)
            forward(plan, batch: b)
            try OneDNN.throwRecordedFailure()
            for (r, o) in outputs.enumerated() {
                let size = sizes[o], source = activation(plan, node: o)
                results[r].withUnsafeMutableBufferPointer { ($0.baseAddress! + start * size).update(from: source, count: b * size) }
            }
            start += b
        }
        return try zip(outputs, results).map { o, values in try Tensor(shape: [n] + nodes[o].outputShape!, scalars: values) }
    }

    /// Copies samples `start ..< start + count` of each input into the plan's input buffers.
    func stage(_ inputs: [Tensor], _ plan: ExecutionPlan, from start: Int, count: Int) {
        for (k, x) in inputs.enumerated() {
            let size = sizes[inputIndices[k]]
            x.scalars.withUnsafeBufferPointer { inputBuffer(plan, k).update(from: $0.baseAddress! + start * size, count: count * size) }
        }
    }

    /// The samples in `inputs` (one tensor per network input, `[n] + inputShapes[k]` each).
    /// - Throws: `ZooNetError` if the count of tensors, a shape or the sample counts disagree.
    func sampleCount(_ inputs: [Tensor]) throws -> Int {
        guard inputs.count == inputIndices.count else {
            throw ZooNetError.invalidArgument("the network takes \(inputIndices.count) input(s), got \(inputs.count)")
        }
        var n = -1
        for (k, x) in inputs.enumerated() {
            let shape = nodes[inputIndices[k]].outputShape!
            guard x.shape.count == shape.count + 1, Array(x.shape.dropFirst()) == shape else {
                throw ZooNetError.shapeMismatch(expected: [-1] + shape, actual: x.shape, context: "input '\(nodes[inputIndices[k]].name)'")
            }
            guard n == -1 || x.shape[0] == n else {
                throw ZooNetError.invalidArgument("inputs have different sample counts: \(n) and \(x.shape[0])")
            }
            n = x.shape[0]
        }
        return n
    }

    /// Inference (BN uses moving statistics, dropout is off) on every sample, in passes of at
    /// most `batchSize` samples (fewer when the largest layer's feature maps for `batchSize`
    /// samples would not fit the last-level cache, `ZOONET_CACHE_BYTES` to override): one
    /// tensor per network input, `[n] + inputShapes[k]`; returns one tensor per network
    /// output, `[n] + outputShapes[k]`.
    public func predict(_ inputs: [Tensor], batchSize: Int = 256) throws -> [Tensor] {
        try run(inputs, outputs: outputIndices, batchSize: batchSize)
    }

    /// Inference of the first output only, for a network with one input (a classifier's
    /// probabilities; a detector's other outputs are not computed).
    public func predictFirstOutput(_ x: Tensor, batchSize: Int = 256) throws -> Tensor {
        try run([x], outputs: [outputIndices[0]], batchSize: batchSize)[0]
    }

    /// Inference for a network with one input and one output.
    public func predict(_ x: Tensor, batchSize: Int = 256) throws -> Tensor {
        guard outputIndices.count == 1 else {
            throw ZooNetError.invalidArgument("the network has \(outputIndices.count) outputs: use predict(_:[Tensor])")
        }
        return try run([x], outputs: outputIndices, batchSize: batchSize)[0]
    }

    /// The outputs of the named nodes (any node: features at a cut point), in inference mode.
    /// Only the nodes they depend on run.
    public func predict(_ inputs: [Tensor], outputs names: [String], batchSize: Int = 256) throws -> [Tensor] {
        try run(inputs, outputs: names.map { try nodeIndex(named: $0) }, batchSize: batchSize)
    }

    /// Floats of activation memory per sample an inference pass of these outputs keeps at
    /// once, and what it would take without reuse (for memory reports and tests).
    public func inferenceActivationFloats(outputs names: [String]? = nil) throws -> (planned: Int, unshared: Int) {
        let outputs = try names.map { try $0.map { try nodeIndex(named: $0) } } ?? outputIndices
        let plan = plan(outputs: outputs, training: false)
        let computed = plan.steps.map(\.output) + inputIndices
        return (plan.activationFloatsPerSample, computed.reduce(0) { $0 + sizes[$1] })
    }
}

/// `target += source` over `count` floats, split across the compute team.
func addInPlace(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, count: Int) {
    let pool = WorkerPool.shared
    let parts = pool.parts(work: count, grain: WorkerPool.elementGrain)
    pool.parallel(parts, AddBands(target: target, source: source, count: count, parts: parts))
}

private struct AddBands: ParallelJob {
    let target: UnsafeMutablePointer<Float>, source: UnsafePointer<Float>, count: Int, parts: Int
    func run(_ part: Int) {
        let range = partRange(part, of: parts, count: count)
        for i in range { target[i] += source[i] }
    }
}

extension Network {
    /// One forward pass on `inputs` (mode `training`) and the backward pass of the given
    /// dLoss/dOutput (`[n] + outputShape` of the first output): returns the output and
    /// dLoss/dInput for every input; the trainable variables' gradients are left in their
    /// `gradient` buffers. What Keras computes with `model(x, training=…)` under a
    /// `GradientTape` and `tape.gradient(y, …, output_gradients=dy)` — for parity tests.
    func vectorJacobianProduct(_ inputs: [Tensor], outputGradient: Tensor, training: Bool) throws
        -> (output: Tensor, inputGradients: [Tensor]) {
        let n = inputs.first?.shape.first ?? 0
        let output = outputIndices[0]
        guard outputGradient.shape == [n] + nodes[output].outputShape! else {
            throw ZooNetError.shapeMismatch(expected: [n] + nodes[output].outputShape!, actual: outputGradient.shape,
                                            context: "output gradient")
        }
        let plan = plan(outputs: [output], training: training, backward: true, inputGradient: true)
        try prepare(plan, batch: n)
        for (k, x) in inputs.enumerated() {
            x.scalars.withUnsafeBufferPointer { inputBuffer(plan, k).update(from: $0.baseAddress!, count: n * sizes[inputIndices[k]]) }
        }
        forward(plan, batch: n)
        let y = Array(UnsafeBufferPointer(start: activation(plan, node: output), count: n * sizes[output]))
        if plan.gradientSlot[output] >= 0 {
            outputGradient.scalars.withUnsafeBufferPointer { gradient(plan, node: output).update(from: $0.baseAddress!, count: y.count) }
            backward(plan, batch: n)
        }
        try OneDNN.throwRecordedFailure()
        let gradients = try inputIndices.map { i -> Tensor in
            let count = n * sizes[i]
            let values = plan.gradientSlot[i] >= 0 ? Array(UnsafeBufferPointer(start: gradient(plan, node: i), count: count))
                                                   : [Float](repeating: 0, count: count)
            return try Tensor(shape: [n] + nodes[i].outputShape!, scalars: values)
        }
        return (try Tensor(shape: [n] + nodes[output].outputShape!, scalars: y), gradients)
    }
}
