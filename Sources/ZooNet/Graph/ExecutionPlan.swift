/// Which plan: the requested outputs, training or inference, and whether dLoss/dInput is wanted.
struct PlanKey: Hashable {
    let outputs: [Int]
    let training: Bool
    let inputGradient: Bool
}

/// The order in which a network's nodes run and the buffer ("slot") each output and gradient
/// lives in, worked out once per `PlanKey`.
///
/// - Only the nodes the requested outputs depend on run (reading features at an inner node
///   runs the nodes before it and nothing else).
/// - A `BatchNorm` whose only consumer is an activation layer runs fused with it (one pass
///   each way; the normalized values are never stored) when the activation's derivative can be
///   computed from its output.
/// - Inference: a slot is released when the last consumer of the output in it has run and is
///   reused for a later output (best fit by size), so the memory is the weights plus the
///   largest set of activations alive at once, not the sum of all of them.
/// - Training: every output backward needs keeps its own slot. Backward runs in reverse order
///   over the nodes whose output *requires a gradient* — the nodes with a trainable variable
///   and everything after them — so frozen layers below the lowest trainable one cost nothing.
///   The gradient of a tensor with several consumers is written by the first consumer to run
///   backward and **summed** into by the others (through a scratch slot). Gradient slots are
///   reused once the node they belong to has run backward.
struct ExecutionPlan {
    enum Step {
        case node(Int)
        /// A BatchNorm node and the activation node that is its only consumer.
        case batchNormActivation(batchNorm: Int, activation: Int)

        /// The node whose output the step writes.
        var output: Int {
            switch self {
            case .node(let i): return i
            case .batchNormActivation(_, let a): return a
            }
        }
        /// The node whose inputs the step reads.
        var first: Int {
            switch self {
            case .node(let i): return i
            case .batchNormActivation(let b, _): return b
            }
        }
    }

    /// Where the gradient for one input of a step goes.
    enum GradientTarget {
        /// The first contribution: written straight into the input's gradient slot.
        case write(slot: Int)
        /// A later one: written into scratch slot `scratch`, then added into `slot`.
        case accumulate(slot: Int, scratch: Int)
    }

    struct BackwardStep {
        let step: Step
        /// One per input of `step.first` (nil: no gradient needed for that input).
        let targets: [GradientTarget?]
    }

    let key: PlanKey
    let steps: [Step]
    /// Per node: its output's slot, or −1 (not computed, or fused away).
    let activationSlot: [Int]
    /// Per-sample floats of each activation slot.
    let activationSlotSizes: [Int]
    let backward: [BackwardStep]
    /// Per node: its gradient's slot, or −1.
    let gradientSlot: [Int]
    let gradientSlotSizes: [Int]
    let scratchSizes: [Int]
    /// Layers that build per-batch-size resources before running.
    let preparing: [any BatchPreparing]

    /// Per-sample floats of all activation slots together (for memory reports).
    var activationFloatsPerSample: Int { activationSlotSizes.reduce(0, +) }

    init(network: Network, key: PlanKey) {
        self.key = key
        let count = network.nodes.count
        let inputs = Set(network.inputIndices)
        // Nodes the outputs depend on.
        var needed = [Bool](repeating: false, count: count)
        var stack = key.outputs
        while let i = stack.popLast() {
            if needed[i] { continue }
            needed[i] = true
            stack.append(contentsOf: network.inputsOf[i])
        }
        for i in network.inputIndices { needed[i] = true }
        var consumers = [[Int]](repeating: [], count: count)
        for i in 0..<count where needed[i] { for j in network.inputsOf[i] { consumers[j].append(i) } }
        let requested = Set(key.outputs)

        // Steps, fusing BatchNorm → activation.
        var steps: [Step] = []
        var fusedAway = Set<Int>()
        for i in 0..<count where needed[i] && !inputs.contains(i) && !fusedAway.contains(i) {
            if case .layer(let layer) = network.nodes[i].operation, layer is BatchNorm, !requested.contains(i),
               consumers[i].count == 1, case .layer(let next) = network.nodes[consumers[i][0]].operation,
               let activation = next as? ActivationLayer,
               !key.training || activation.activation.derivativeFromOutput {
                steps.append(.batchNormActivation(batchNorm: i, activation: consumers[i][0]))
                fusedAway.insert(consumers[i][0])
            } else {
                steps.append(.node(i))
            }
        }

        // Activation slots.
        var slot = [Int](repeating: -1, count: count)
        var activations = SlotAllocator()
        if key.training {
            for i in network.inputIndices { slot[i] = activations.fresh(network.sizes[i]) }
            for step in steps { slot[step.output] = activations.fresh(network.sizes[step.output]) }
        } else {
            var lastUse = [Int](repeating: -1, count: count)
            for (s, step) in steps.enumerated() {
                for j in network.inputsOf[step.first] { lastUse[j] = s }
            }
            for i in requested { lastUse[i] = Int.max }
            for i in network.inputIndices { slot[i] = activations.take(network.sizes[i]) }
            for i in network.inputIndices where lastUse[i] == -1 { activations.release(slot[i]) }
            for (s, step) in steps.enumerated() {
                slot[step.output] = activations.take(network.sizes[step.output])
                for j in Set(network.inputsOf[step.first]) where lastUse[j] == s { activations.release(slot[j]) }
            }
        }
        activationSlot = slot
        activationSlotSizes = activations.sizes

        // Backward.
        var backward: [BackwardStep] = []
        var gradientSlot = [Int](repeating: -1, count: count)
        var gradients = SlotAllocator()
        var scratchSizes: [Int] = []
        if key.training {
            var requiresGradient = [Bool](repeating: false, count: count)
            for i in network.inputIndices { requiresGradient[i] = key.inputGradient }
            for i in 0..<count where needed[i] && !inputs.contains(i) {
                requiresGradient[i] = network.nodes[i].variables.contains { $0.isTrainable }
                    || network.inputsOf[i].contains { requiresGradient[$0] }
            }
            for step in steps {
                if case let .batchNormActivation(b, a) = step { requiresGradient[a] = requiresGradient[b] }
            }
            for o in key.outputs where requiresGradient[o] { gradientSlot[o] = gradients.take(network.sizes[o]) }
            for step in steps.reversed() where requiresGradient[step.output] {
                var scratch = 0
                let targets: [GradientTarget?] = network.inputsOf[step.first].map { j in
                    guard requiresGradient[j] else { return nil }
                    if gradientSlot[j] == -1 {
                        gradientSlot[j] = gradients.take(network.sizes[j])
                        return .write(slot: gradientSlot[j])
                    }
                    if scratchSizes.count <= scratch { scratchSizes.append(0) }
                    scratchSizes[scratch] = Swift.max(scratchSizes[scratch], network.sizes[j])
                    scratch += 1
                    return .accumulate(slot: gradientSlot[j], scratch: scratch - 1)
                }
                backward.append(BackwardStep(step: step, targets: targets))
                if !requested.contains(step.output) { gradients.release(gradientSlot[step.output]) }
            }
        }
        self.backward = backward
        self.gradientSlot = gradientSlot
        self.gradientSlotSizes = gradients.sizes
        self.scratchSizes = scratchSizes
        self.steps = steps
        preparing = steps.flatMap { step -> [any BatchPreparing] in
            var nodes = [step.first]
            if step.output != step.first { nodes.append(step.output) }
            return nodes.compactMap { network.nodes[$0].layerObject as? any BatchPreparing }
        }
    }
}

/// Assigns buffers ("slots") to values: `fresh` always opens a new slot, `take` reuses the
/// released slot that fits best (the smallest that is large enough, else the largest, which
/// then grows).
struct SlotAllocator {
    private(set) var sizes: [Int] = []
    private var free: [Int] = []

    mutating func fresh(_ size: Int) -> Int {
        sizes.append(size)
        return sizes.count - 1
    }

    mutating func take(_ size: Int) -> Int {
        guard !free.isEmpty else { return fresh(size) }
        let fitting = free.indices.filter { sizes[free[$0]] >= size }
        let pick = fitting.min { sizes[free[$0]] < sizes[free[$1]] }
            ?? free.indices.max { sizes[free[$0]] < sizes[free[$1]] }!
        let slot = free.remove(at: pick)
        sizes[slot] = Swift.max(sizes[slot], size)
        return slot
    }

    mutating func release(_ slot: Int) {
        guard slot >= 0, !free.contains(slot) else { return }
        free.append(slot)
    }
}
