/// Training: mini-batch gradient descent with seeded shuffling, metrics and callbacks, for a
/// network with one input and one output.
///
/// One step on a batch X with targets T: forward in training mode, loss ℓ(f(X), T) plus
/// regularization penalties, backward through the nodes that lead to a trainable variable,
/// optimizer update of the trainable variables, then their constraints. No allocation happens
/// per step once the buffers hold the batch size.
extension Network {
    /// Checks that `x` is `[n] + inputShape` and returns n.
    func sampleCount(of x: Tensor) throws -> Int {
        guard x.shape.count == inputShape.count + 1, Array(x.shape.dropFirst()) == inputShape else {
            throw ZooNetError.shapeMismatch(expected: [-1] + inputShape, actual: x.shape, context: "input")
        }
        return x.shape[0]
    }

    /// Per-sample floats of the (single) input and output.
    var inputSize: Int { sizes[inputIndices[0]] }
    var outputSize: Int { sizes[outputIndices[0]] }

    private func validate(_ data: Dataset, loss: Loss) throws {
        guard inputIndices.count == 1, outputIndices.count == 1 else {
            throw ZooNetError.invalidArgument(
                "training and evaluation need a network with one input and one output (this one has \(inputIndices.count) and \(outputIndices.count))")
        }
        _ = try sampleCount(of: data.inputs)
        let width = outputShape.last ?? 1
        switch data.labels {
        case .classes(let labels):
            guard loss == .softmaxCrossEntropy, outputShape.count == 1 else {
                throw ZooNetError.invalidArgument("integer labels need softmaxCrossEntropy and a rank-1 output")
            }
            if let bad = labels.first(where: { $0 < 0 || $0 >= width }) {
                throw ZooNetError.labelOutOfRange(label: bad, classCount: width)
            }
        case .values(let t):
            guard Array(t.shape.dropFirst()) == outputShape else {
                throw ZooNetError.shapeMismatch(expected: [-1] + outputShape, actual: t.shape, context: "targets")
            }
        }
    }

    /// Loss rows: the output viewed as `[rows, last axis]`.
    private var lossGeometry: (rowsPerSample: Int, width: Int) {
        let width = outputShape.last ?? 1
        return (outputSize / width, width)
    }

    /// Sum of regularization penalties (adding their gradients to trainable variables if asked).
    private func regularization(addGradients: Bool) -> Double {
        var total = 0.0
        for v in variables {
            guard let r = v.regularizer else { continue }
            total += Double(r.apply(v.value.pointer, count: v.count, gradient: addGradients && v.isTrainable ? v.gradient.pointer : nil))
        }
        return total
    }

    /// Forward + loss + backward on the batch staged in the plan's input buffer; returns
    /// (loss, accuracy sum).
    private func step(_ plan: ExecutionPlan, batch: Int, loss: Loss, targets: TargetBatch) throws -> (Double, Double) {
        forward(plan, batch: batch)
        let output = outputIndices[0]
        let (perSample, width) = lossGeometry
        let hasGradient = plan.gradientSlot[output] >= 0
        let (value, accuracy) = loss.evaluate(activation(plan, node: output), batch: batch * perSample, width: width,
                                              targets: targets, gradient: hasGradient ? gradient(plan, node: output) : nil)
        if hasGradient { backward(plan, batch: batch) }
        try OneDNN.throwRecordedFailure()
        return (value + regularization(addGradients: true), accuracy / Double(perSample))
    }

    /// Runs one optimizer step on the whole dataset as a single batch; returns the loss
    /// (including regularization) before the update.
    @discardableResult
    public func trainStep(_ data: Dataset, loss: Loss, optimizer: Optimizer) throws -> Double {
        try validate(data, loss: loss)
        let n = data.count
        guard n > 0 else { throw ZooNetError.invalidArgument("empty batch") }
        let plan = plan(training: true)
        try prepare(plan, batch: n)
        let stager = BatchStager()
        stager.stage(data, indices: Array(0..<n)[...], sampleSize: inputSize, targetSize: outputSize,
                     into: inputBuffer(plan))
        let trainable = trainableVariables
        let (value, _) = try stager.withTargets(data.labels) { try step(plan, batch: n, loss: loss, targets: $0) }
        optimizer.apply(to: trainable)
        for v in trainable { v.constraint?.apply(v.value.pointer, shape: v.shape) }
        return value
    }

    /// Loss and gradients without updating (for checks). Returns the loss and dLoss/dInput.
    func lossAndGradients(_ data: Dataset, loss: Loss) throws -> (loss: Double, inputGradient: [Float]) {
        try validate(data, loss: loss)
        let n = data.count
        let plan = plan(training: true, inputGradient: true)
        try prepare(plan, batch: n)
        let stager = BatchStager()
        stager.stage(data, indices: Array(0..<n)[...], sampleSize: inputSize, targetSize: outputSize,
                     into: inputBuffer(plan))
        let (value, _) = try stager.withTargets(data.labels) { try step(plan, batch: n, loss: loss, targets: $0) }
        let input = inputIndices[0]
        guard plan.gradientSlot[input] >= 0 else { return (value, [Float](repeating: 0, count: n * inputSize)) }
        return (value, Array(UnsafeBufferPointer(start: gradient(plan, node: input), count: n * inputSize)))
    }

    /// Inference-mode loss and accuracy (nil for MSE) over `data`, including regularization.
    public func evaluate(_ data: Dataset, loss: Loss, batchSize: Int = 256) throws -> (loss: Double, accuracy: Double?) {
        try validate(data, loss: loss)
        guard batchSize > 0, data.count > 0 else { throw ZooNetError.invalidArgument("need data and batchSize > 0") }
        let plan = plan(training: false)
        var preparedBatch = 0
        let stager = BatchStager()
        let (perSample, width) = lossGeometry
        var total = 0.0, correct = 0.0, start = 0
        let all = Array(0..<data.count)
        while start < data.count {
            let b = Swift.min(batchSize, data.count - start)
            if b != preparedBatch { try prepare(plan, batch: b); preparedBatch = b }
            stager.stage(data, indices: all[start..<(start + b)], sampleSize: inputSize,
                         targetSize: outputSize, into: inputBuffer(plan))
            forward(plan, batch: b)
            try OneDNN.throwRecordedFailure()
            let output = activation(plan, node: outputIndices[0])
            let (value, accuracy) = stager.withTargets(data.labels) {
                loss.evaluate(output, batch: b * perSample, width: width, targets: $0, gradient: nil)
            }
            total += value * Double(b)
            correct += accuracy / Double(perSample)
            start += b
        }
        let n = Double(data.count)
        return (total / n + regularization(addGradients: false), loss.hasAccuracy ? correct / n : nil)
    }

    /// Trains epochs `initialEpoch..<epochs` (Keras' `epochs` / `initial_epoch`: a run continued
    /// from a checkpoint of epoch k passes `initialEpoch: k + 1` and gets the batches and epoch
    /// numbers of an uninterrupted run) of mini-batches of `batchSize` (last batch may be
    /// smaller). Samples are shuffled each epoch with a `SplitMix64` Fisher–Yates shuffle of the
    /// sample order derived from `shuffleSeed` and the epoch number (nil: no shuffling).
    /// Callbacks run after each epoch and may stop training. Returns the metrics of every
    /// completed epoch, numbered from `initialEpoch`.
    @discardableResult
    public func fit(
        _ data: Dataset, validation: Dataset? = nil, loss: Loss, optimizer: Optimizer, epochs: Int,
        initialEpoch: Int = 0, batchSize: Int = 32, shuffleSeed: UInt64? = 0, callbacks: [any Callback] = [],
        progress: ProgressReporter? = nil
    ) throws -> [EpochMetrics] {
        try validate(data, loss: loss)
        if let validation { try validate(validation, loss: loss) }
        guard epochs >= 0, batchSize > 0, data.count > 0 else {
            throw ZooNetError.invalidArgument("need data, epochs >= 0 and batchSize > 0")
        }
        guard initialEpoch >= 0, initialEpoch <= epochs else {
            throw ZooNetError.invalidArgument("initialEpoch must be in 0...epochs (\(epochs)), got \(initialEpoch)")
        }
        let n = data.count, steps = (n + batchSize - 1) / batchSize
        let stager = BatchStager()
        var order = Array(0..<n)
        var history: [EpochMetrics] = []
        let context = TrainingContext(network: self, optimizer: optimizer)
        for callback in callbacks { try callback.trainingWillBegin(context) }
        let clock = ContinuousClock()
        // Each epoch shuffles the previous epoch's order; a continued run replays the shuffles
        // of the epochs before `initialEpoch` (n swaps each) to reach the same order.
        func shuffle(_ epoch: Int) {
            guard let shuffleSeed else { return }
            var rng = SplitMix64(seed: SplitMix64.derive(shuffleSeed, UInt64(epoch)))
            for i in stride(from: n - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
        }
        for epoch in 0..<initialEpoch { shuffle(epoch) }
        for epoch in initialEpoch..<epochs {
            let started = clock.now
            shuffle(epoch)
            let trainable = trainableVariables
            let plan = plan(training: true)  // per epoch: a callback may have changed what is frozen
            var preparedBatch = 0
            var lossSum = 0.0, accuracySum = 0.0
            for s in 0..<steps {
                let start = s * batchSize, b = Swift.min(batchSize, n - start)
                if b != preparedBatch { try prepare(plan, batch: b); preparedBatch = b }
                stager.stage(data, indices: order[start..<(start + b)], sampleSize: inputSize,
                             targetSize: outputSize, into: inputBuffer(plan))
                let (value, accuracy) = try stager.withTargets(data.labels) { try step(plan, batch: b, loss: loss, targets: $0) }
                optimizer.apply(to: trainable)
                for v in trainable { v.constraint?.apply(v.value.pointer, shape: v.shape) }
                lossSum += value * Double(b)
                accuracySum += accuracy
                progress?.batchDidEnd(epoch: epoch, epochs: epochs, step: s + 1, steps: steps,
                                      loss: lossSum / Double(start + b),
                                      accuracy: loss.hasAccuracy ? accuracySum / Double(start + b) : nil)
            }
            var metrics = EpochMetrics(
                epoch: epoch, loss: lossSum / Double(n), accuracy: loss.hasAccuracy ? accuracySum / Double(n) : nil,
                validationLoss: nil, validationAccuracy: nil, learningRate: optimizer.currentLearningRate, seconds: 0)
            if let validation {
                let (vl, va) = try evaluate(validation, loss: loss, batchSize: Swift.max(batchSize, 256))
                metrics.validationLoss = vl
                metrics.validationAccuracy = va
            }
            let elapsed = clock.now - started
            metrics.seconds = elapsed.inSeconds
            history.append(metrics)
            progress?.epochDidEnd(metrics, epochs: epochs)
            var stop = false
            for callback in callbacks where try callback.epochDidEnd(metrics, context: context) == .stop { stop = true }
            if stop { break }
        }
        for callback in callbacks { try callback.trainingDidEnd(context) }
        return history
    }
}
