/// One step of an inference or training plan and its time (`Network.profileInference(_:repeats:)`,
/// `Network.profileTraining(_:repeats:)`).
public struct StepProfile: Sendable, Equatable {
    /// Which pass a step belongs to.
    public enum Pass: String, Sendable, Equatable {
        /// The forward pass (of inference, or of a training step).
        case forward
        /// The backward pass of a training step: input and variable gradients.
        case backward
    }

    /// How a step runs.
    public enum Kind: String, Sendable, Equatable {
        /// One layer or merge on its own.
        case layer
        /// A batch norm and the activation after it, in one pass.
        case batchNormActivation = "batch norm + activation"
        /// A convolution with the batch norm, activation and residual add after it folded in.
        case fusedConvolution = "fused convolution"
        /// Expansion → depthwise → projection convolutions run a stripe at a time.
        case depthFirstBlock = "depth-first block"
    }

    /// The step's nodes in order (one, or the chain the step runs at once).
    public let nodes: [String]
    /// How the step runs.
    public let kind: Kind
    /// Median seconds of the step over the timed runs, for the whole batch.
    public let seconds: Double
    /// The pass the step belongs to.
    public var pass: Pass = .forward
    /// What computes a fused convolution step of an inference profile: `Winograd`, `own
    /// direct`, `pixel runs`, or oneDNN with its implementation (`oneDNN jit:avx2`); nil for
    /// other steps.
    public var kernel: String? = nil
    /// When the fused convolution's kernel was picked by timing its candidates
    /// (`ComputeBackend.kernelTuning`): each candidate's least time then, seconds per sample,
    /// by kernel name (`Winograd`, `own direct`, `pixel runs`, `oneDNN`); nil where the rules
    /// picked it and for other steps.
    public var tuningSeconds: [String: Double]? = nil
}

extension Network {
    /// Times each step of the inference plan (what `predict` runs) on `inputs`, one tensor per
    /// network input, `[n] + inputShapes[k]`, run as one pass of `n` samples: one untimed run,
    /// then `repeats` runs with the clock read between steps. Steps in plan order, input nodes
    /// left out; a step's time is the median over the runs, so the steps' sum is close to a
    /// run's time less the inputs' staging. For finding where the time goes, as PyTorch's
    /// profiler or ONNX Runtime's `enable_profiling` do (one clock read per step).
    /// - Throws: `ZooNetError.invalidArgument` for `repeats` < 1 or no samples,
    ///   `ZooNetError.shapeMismatch` for inputs of the wrong shape, `ZooNetError.backend` if
    ///   a oneDNN primitive fails.
    public func profileInference(_ inputs: [Tensor], repeats: Int = 10) throws -> [StepProfile] {
        let n = try profiledSamples(inputs, repeats: repeats)
        let plan = plan(outputs: outputIndices, training: false)
        let steps = forwardSteps(plan)
        try prepare(plan, batch: n)
        stage(inputs, plan, from: 0, count: n)
        forward(plan, batch: n)
        try OneDNN.throwRecordedFailure()
        var times = [[Double]](repeating: [], count: steps.count)
        for _ in 0..<repeats {
            timeEach(steps.count, into: &times) { forward(steps[$0], plan, batch: n) }
            try OneDNN.throwRecordedFailure()
        }
        return zip(steps, times).map { step, stepTimes in
            var profile = StepProfile(nodes: stepNodes(step).map { nodes[$0].name }, kind: kind(of: step), seconds: median(stepTimes))
            if case .fusedConvolution(let fused, _, _) = step {
                profile.kernel = fused.kernelDescription(batch: n)
                profile.tuningSeconds = fused.tunedChoice(batch: n)?.secondsByName
            }
            return profile
        }
    }

    /// Times each step of a training step's forward and backward passes on `inputs` (one tensor
    /// per network input, `[n] + inputShapes[k]`, one batch of `n`), as `profileInference` does
    /// for inference: the training plan forward (training mode: batch statistics, dropout
    /// masks), then its backward steps from an output gradient of 1/(n·outputs) per element (a
    /// step's cost does not depend on the gradient's values), clock read between steps. Forward
    /// steps first, then backward steps, each in plan order; the loss and the optimizer update
    /// are not included, and the variables are not changed (their gradients are).
    /// - Throws: `ZooNetError.invalidArgument` for `repeats` < 1, no samples, or a network with
    ///   nothing to train, `ZooNetError.shapeMismatch` for inputs of the wrong shape,
    ///   `ZooNetError.backend` if a oneDNN primitive fails.
    public func profileTraining(_ inputs: [Tensor], repeats: Int = 10) throws -> [StepProfile] {
        let n = try profiledSamples(inputs, repeats: repeats)
        let plan = plan(outputs: outputIndices, training: true)
        let outputs = outputIndices.filter { plan.gradientSlot[$0] >= 0 }
        guard !outputs.isEmpty else { throw ZooNetError.invalidArgument("no output's gradient reaches a trainable variable") }
        let steps = forwardSteps(plan)
        try prepare(plan, batch: n)
        stage(inputs, plan, from: 0, count: n)
        let seedGradients = {
            for output in outputs {
                let count = self.sizes[output] * n
                self.gradient(plan, node: output).update(repeating: 1 / Float(count), count: count)
            }
        }
        forward(plan, batch: n)
        seedGradients()
        backward(plan, batch: n)
        try OneDNN.throwRecordedFailure()
        var forwardTimes = [[Double]](repeating: [], count: steps.count)
        var backwardTimes = [[Double]](repeating: [], count: plan.backward.count)
        for _ in 0..<repeats {
            timeEach(steps.count, into: &forwardTimes) { forward(steps[$0], plan, batch: n) }
            seedGradients()
            timeEach(plan.backward.count, into: &backwardTimes) { backward(plan.backward[$0], plan, batch: n) }
            try OneDNN.throwRecordedFailure()
        }
        return zip(steps, forwardTimes).map { step, times in
            StepProfile(nodes: stepNodes(step).map { nodes[$0].name }, kind: kind(of: step), seconds: median(times))
        } + zip(plan.backward, backwardTimes).map { step, times in
            StepProfile(nodes: stepNodes(step.step).map { nodes[$0].name }, kind: kind(of: step.step), seconds: median(times), pass: .backward)
        }
    }

    /// The samples in `inputs`, checked for profiling (`repeats` ≥ 1, at least one sample).
    private func profiledSamples(_ inputs: [Tensor], repeats: Int) throws -> Int {
        guard repeats >= 1 else { throw ZooNetError.invalidArgument("repeats must be at least 1, got \(repeats)") }
        let n = try sampleCount(inputs)
        guard n > 0 else { throw ZooNetError.invalidArgument("profiling needs at least one sample") }
        return n
    }

    /// The plan's forward steps but its input nodes (staging, not computing).
    private func forwardSteps(_ plan: ExecutionPlan) -> [ExecutionPlan.Step] {
        plan.steps.filter { if case .node(let i) = $0, case .input = nodes[i].operation { return false } else { return true } }
    }

    /// Runs `run(k)` for k in 0 ..< count, appending each call's seconds to `times[k]` (the clock
    /// read once between calls).
    private func timeEach(_ count: Int, into times: inout [[Double]], _ run: (Int) -> Void) {
        let clock = ContinuousClock()
        var last = clock.now
        for k in 0..<count {
            run(k)
            let now = clock.now
            times[k].append(last.duration(to: now).inSeconds)
            last = now
        }
    }

    private func median(_ times: [Double]) -> Double { times.sorted()[times.count / 2] }

    private func stepNodes(_ step: ExecutionPlan.Step) -> [Int] {
        switch step {
        case .node(let i): return [i]
        case .batchNormActivation(let b, let a): return [b, a]
        case .fusedConvolution(_, let chain, _), .depthFirst(_, let chain, _): return chain
        }
    }

    private func kind(of step: ExecutionPlan.Step) -> StepProfile.Kind {
        switch step {
        case .node: return .layer
        case .batchNormActivation: return .batchNormActivation
        case .fusedConvolution: return .fusedConvolution
        case .depthFirst: return .depthFirstBlock
        }
    }
}
