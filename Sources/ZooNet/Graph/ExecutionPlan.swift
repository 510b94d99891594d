import Synchronization

/// Which plan: the requested outputs, the forward mode (training: batch statistics, dropout),
/// whether backward runs, and whether dLoss/dInput is wanted.
struct PlanKey: Hashable {
    let outputs: [Int]
    let training: Bool
    let backward: Bool
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
/// - Where no gradient flows, a 1×1 expansion → depthwise → 1×1 projection of fused steps runs as
///   one depth-first step (`DepthFirstBlock`): its inner maps get no slot at all.
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
        /// A convolution and the nodes fused into it (`FusedConvolution`); `nodes` in order,
        /// the last one's output written; `addend` the other input of a fused residual add.
        case fusedConvolution(FusedConvolution, nodes: [Int], addend: Int?)
        /// Two or three fused convolutions run a stripe at a time (`DepthFirstBlock`); `nodes`
        /// all their nodes in order, `addend` the projection's residual input.
        case depthFirst(DepthFirstBlock, nodes: [Int], addend: Int?)

        /// The node whose output the step writes.
        var output: Int {
            switch self {
            case .node(let i): return i
            case .batchNormActivation(_, let a): return a
            case .fusedConvolution(_, let nodes, _), .depthFirst(_, let nodes, _): return nodes[nodes.count - 1]
            }
        }
        /// The node whose inputs the step reads (a fused step also reads its addend).
        var first: Int {
            switch self {
            case .node(let i): return i
            case .batchNormActivation(let b, _): return b
            case .fusedConvolution(_, let nodes, _), .depthFirst(_, let nodes, _): return nodes[0]
            }
        }

        /// The residual input a fused step adds, if any.
        var addend: Int? {
            switch self {
            case .fusedConvolution(_, _, let addend), .depthFirst(_, _, let addend): return addend
            default: return nil
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

        // Which outputs need a gradient (training plans): nodes with a trainable variable and
        // everything after them, and the inputs when dLoss/dInput is asked for.
        var requiresGradient = [Bool](repeating: false, count: count)
        if key.backward {
            for i in network.inputIndices { requiresGradient[i] = key.inputGradient }
            for i in 0..<count where needed[i] && !inputs.contains(i) {
                requiresGradient[i] = network.nodes[i].variables.contains { $0.isTrainable }
                    || network.inputsOf[i].contains { requiresGradient[$0] }
            }
        }

        // Steps: convolutions with what follows them fused where no gradient flows, BatchNorm →
        // activation pairs, single nodes.
        var steps: [Step] = []
        let runsDepthFirst = network.runsDepthFirst && ComputeBackend.depthFirst
        var fusedAway = Set<Int>()
        var deferred: [Int: [Step]] = [:]  // fused steps placed at their last node's position
        // Inference: nodes that pass their input through (dropout, flatten, reshape) share its
        // buffer and run no step; `root` is the node whose buffer a node's output is.
        var root = Array(0..<count)
        let aliasing = !key.training && !key.backward
        /// The fused step starting at node `start` (a convolution, or a separable convolution
        /// run depth-first), with the `ZeroPadding2D` before it folded in.
        func fusedStep(from start: Int, padding: (node: Int, layer: ZeroPadding2D)? = nil) -> (Step, [Int])? {
            if let chain = ExecutionPlan.fusedChain(
                from: start, padding: padding, network: network, consumers: consumers, requested: requested,
                requiresGradient: requiresGradient, taken: fusedAway, training: key.training) { return chain }
            guard runsDepthFirst else { return nil }
            return ExecutionPlan.separableBlock(
                from: start, padding: padding, network: network, consumers: consumers, requested: requested,
                requiresGradient: requiresGradient, taken: fusedAway, training: key.training)
        }
        for i in 0..<count where needed[i] && !inputs.contains(i) && !fusedAway.contains(i) {
            if aliasing, case .layer(let layer) = network.nodes[i].operation, layer is any InferenceIdentity {
                root[i] = root[network.inputsOf[i][0]]
                continue
            }
            // A ZeroPadding2D whose one consumer is a convolution: folded into its pads.
            if network.fusesConvolutions, case .layer(let layer) = network.nodes[i].operation, let pad = layer as? ZeroPadding2D,
               !requested.contains(i), !requiresGradient[i], consumers[i].count == 1, !fusedAway.contains(consumers[i][0]),
               let (step, nodes) = fusedStep(from: consumers[i][0], padding: (i, pad)) {
                fusedAway.formUnion(nodes)
                deferred[nodes[nodes.count - 1], default: []].append(step)
                continue
            }
            if network.fusesConvolutions, let (step, nodes) = fusedStep(from: i) {
                fusedAway.formUnion(nodes)
                deferred[nodes[nodes.count - 1], default: []].append(step)
                continue
            }
            if case .layer(let layer) = network.nodes[i].operation, layer is BatchNorm, !requested.contains(i),
               consumers[i].count == 1, case .layer(let next) = network.nodes[consumers[i][0]].operation,
               let activation = next as? ActivationLayer,
               !key.backward || activation.activation.derivativeFromOutput {
                steps.append(.batchNormActivation(batchNorm: i, activation: consumers[i][0]))
                fusedAway.insert(consumers[i][0])
            } else {
                steps.append(.node(i))
            }
        }
        // Fused steps end at a node that was itself fused away: place them in topological order
        // of that node (all their inputs come earlier).
        for (end, waiting) in deferred.sorted(by: { $0.key < $1.key }) {
            let at = steps.firstIndex { $0.output > end } ?? steps.count
            steps.insert(contentsOf: waiting, at: at)
        }

        // What each step reads.
        func reads(_ step: Step) -> [Int] {
            (network.inputsOf[step.first] + (step.addend.map { [$0] } ?? [])).map { root[$0] }
        }
        if runsDepthFirst {
            steps = ExecutionPlan.depthFirstBlocks(steps, reads: reads, requested: Set(requested.map { root[$0] }),
                                                   scratch: network.depthFirstScratch)
        }

        // Activation slots.
        var slot = [Int](repeating: -1, count: count)
        var activations = SlotAllocator()
        if key.backward {
            for i in network.inputIndices { slot[i] = activations.fresh(network.sizes[i]) }
            for step in steps { slot[step.output] = activations.fresh(network.sizes[step.output]) }
        } else {
            var lastUse = [Int](repeating: -1, count: count)
            for (s, step) in steps.enumerated() {
                for j in reads(step) { lastUse[j] = s }
            }
            for i in requested { lastUse[root[i]] = Int.max }
            for i in network.inputIndices { slot[i] = activations.take(network.sizes[i]) }
            for i in network.inputIndices where lastUse[i] == -1 { activations.release(slot[i]) }
            for (s, step) in steps.enumerated() {
                // The sum post-op adds into the addend's own buffer when nothing reads the addend
                // later and the convolution does not read that buffer itself (a block whose one
                // convolution takes the tensor it is added to, as EfficientNetV2's fused-MBConv
                // blocks without expansion: in place, the convolution would overwrite its own input).
                if let addend = step.addend, lastUse[root[addend]] == s,
                   network.inputsOf[step.first].allSatisfy({ slot[root[$0]] != slot[root[addend]] }) {
                    slot[step.output] = slot[root[addend]]
                } else {
                    slot[step.output] = activations.take(network.sizes[step.output])
                }
                for j in Set(reads(step)) where lastUse[j] == s && slot[j] != slot[step.output] { activations.release(slot[j]) }
            }
        }
        for i in 0..<count where root[i] != i { slot[i] = slot[root[i]] }
        activationSlot = slot
        activationSlotSizes = activations.sizes

        // Backward.
        var backward: [BackwardStep] = []
        var gradientSlot = [Int](repeating: -1, count: count)
        var gradients = SlotAllocator()
        var scratchSizes: [Int] = []
        if key.backward {
            for step in steps {
                if case let .batchNormActivation(b, a) = step { requiresGradient[a] = requiresGradient[b] }
            }
            for o in key.outputs where requiresGradient[o] { gradientSlot[o] = gradients.take(network.sizes[o]) }
            for step in steps.reversed() where requiresGradient[step.output] {
                var scratch = 0
                // A batch norm's input gradient overwrites its output gradient when nothing
                // reads that later: dx then goes to lines its thread has just read (no second
                // buffer to fetch and write back), see `backwardRunsInPlace`.
                let inPlace = ExecutionPlan.backwardRunsInPlace(step, network: network) && !requested.contains(step.output)
                var handedOver = false
                let targets: [GradientTarget?] = network.inputsOf[step.first].map { j in
                    guard requiresGradient[j] else { return nil }
                    if gradientSlot[j] == -1, inPlace, network.sizes[j] == network.sizes[step.output] {
                        gradientSlot[j] = gradientSlot[step.output]
                        handedOver = true
                        return .write(slot: gradientSlot[j])
                    }
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
                if !requested.contains(step.output) && !handedOver { gradients.release(gradientSlot[step.output]) }
            }
        }
        self.backward = backward
        self.gradientSlot = gradientSlot
        self.gradientSlotSizes = gradients.sizes
        self.scratchSizes = scratchSizes
        self.steps = steps
        preparing = steps.flatMap { step -> [any BatchPreparing] in
            if case .fusedConvolution = step { return [] }
            if case .depthFirst = step { return [] }
            var nodes = [step.first]
            if step.output != step.first { nodes.append(step.output) }
            return nodes.compactMap { network.nodes[$0].layerObject as? any BatchPreparing }
        }
        fused = steps.compactMap { step in
            if case let .fusedConvolution(f, _, _) = step { return f }
            return nil
        }
        depthFirst = steps.compactMap { step in
            if case let .depthFirst(block, _, _) = step { return block }
            return nil
        }
        // Shared layers: which calls ran backward (their variables' gradients are summed).
        var ran = Set<Int>()
        for b in backward { ran.insert(b.step.first); ran.insert(b.step.output) }
        var owner: [ObjectIdentifier: Int] = [:]
        for i in 0..<count { owner[ObjectIdentifier(network.nodes[i])] = i }
        tiedGradients = network.nodes.indices.flatMap { i -> [TiedGradient] in
            guard key.backward, let sharing = network.nodes[i].sharing, let o = owner[ObjectIdentifier(sharing)] else { return [] }
            return zip(network.nodes[i].variables, network.nodes[o].variables).compactMap { alias, primary in
                primary.isTrainable ? TiedGradient(primary: primary, alias: alias, primaryRan: ran.contains(o), aliasRan: ran.contains(i)) : nil
            }
        }
    }

    /// Whether the step's backward pass may write its input gradient over its output gradient
    /// (`dx` = `dy`, same shape): a batch norm, alone or with the activation after it, computes
    /// each dx element from the dy element at the same place after its column sums are done.
    static func backwardRunsInPlace(_ step: Step, network: Network) -> Bool {
        guard batchNormBackwardInPlace.load(ordering: .relaxed) else { return false }
        switch step {
        case .batchNormActivation: return true
        case .node(let i): return network.nodes[i].layerObject is BatchNorm && network.inputsOf[i].count == 1
        default: return false
        }
    }

    /// Whether plans made from now on let batch norms write their input gradient in place
    /// (`backwardRunsInPlace`); tests turn it off to compare.
    static let batchNormBackwardInPlace = Atomic<Bool>(true)

    /// A trainable variable of a shared layer and the same variable of one of its extra calls.
    struct TiedGradient {
        let primary: Variable, alias: Variable
        let primaryRan: Bool, aliasRan: Bool
    }

    let tiedGradients: [TiedGradient]

    /// The fused convolution steps (prepared per batch size like the layers).
    let fused: [FusedConvolution]
    /// The depth-first blocks (prepared per batch size like the layers).
    let depthFirst: [DepthFirstBlock]

    /// `steps` with every expansion (optional) → depthwise → projection set of fused steps that
    /// `DepthFirstBlock.fits` replaced by one depth-first step, placed where the projection was
    /// (the steps between read neither inner map): the expansion's and the depthwise
    /// convolution's outputs must each be read by the next convolution only and not be
    /// requested (they are never stored). A step joins at most one block.
    static func depthFirstBlocks(_ steps: [Step], reads: (Step) -> [Int], requested: Set<Int>,
                                 scratch: DepthFirstScratch) -> [Step] {
        var producer: [Int: Int] = [:], readers: [Int: [Int]] = [:]
        for (index, step) in steps.enumerated() {
            producer[step.output] = index
            for value in Set(reads(step)) { readers[value, default: []].append(index) }
        }
        /// The one step reading `value` (nothing else may read it or ask for it).
        func onlyReader(of value: Int) -> Int? {
            guard !requested.contains(value), let list = readers[value], list.count == 1 else { return nil }
            return list[0]
        }
        var taken = Set<Int>(), blocks: [Int: Step] = [:]
        for (index, step) in steps.enumerated() {
            guard case let .fusedConvolution(depthwise, depthwiseNodes, nil) = step, !taken.contains(index),
                  let next = onlyReader(of: step.output), !taken.contains(next),
                  case let .fusedConvolution(projection, projectionNodes, addend) = steps[next],
                  reads(steps[next]).first == step.output else { continue }
            var expansion: (index: Int, fused: FusedConvolution, nodes: [Int])?
            if let input = reads(step).first, let previous = producer[input], !taken.contains(previous),
               onlyReader(of: input) == index, case let .fusedConvolution(f, nodes, nil) = steps[previous],
               DepthFirstBlock.fits(expansion: f, depthwise: depthwise, projection: projection) {
                expansion = (previous, f, nodes)
            }
            guard DepthFirstBlock.fits(expansion: expansion?.fused, depthwise: depthwise, projection: projection) else { continue }
            taken.formUnion([index, next] + (expansion.map { [$0.index] } ?? []))
            let block = DepthFirstBlock(expansion: expansion?.fused, depthwise: depthwise, projection: projection, scratch: scratch)
            blocks[next] = .depthFirst(block, nodes: (expansion?.nodes ?? []) + depthwiseNodes + projectionNodes, addend: addend)
        }
        return steps.indices.compactMap { blocks[$0] ?? (taken.contains($0) ? nil : steps[$0]) }
    }

    /// The chain fused into a convolution at node `i`, if any: a `ZeroPadding2D` before it
    /// (`padding`, folded into its pads), a following inference-mode BatchNorm (folded),
    /// activation, residual `Add` with one other input, and an activation after it — each the
    /// only consumer of the one before, none needing a gradient, none but the last a requested
    /// output. A convolution with nothing to fuse is a step of its own only when it has a
    /// kernel besides oneDNN's (`FusedConvolution.hasOwnKernels`: ZooNet's own direct kernel,
    /// the blocked layout, Winograd when tuning); otherwise it runs as its layer.
    static func fusedChain(from i: Int, padding: (node: Int, layer: ZeroPadding2D)? = nil, network: Network, consumers: [[Int]],
                           requested: Set<Int>, requiresGradient: [Bool], taken: Set<Int>, training: Bool) -> (Step, [Int])? {
        guard case .layer(let layer) = network.nodes[i].operation, let convolution = layer as? any SingleConvolution,
              let (fused, nodes, addend) = fusedTail(
                  of: convolution, at: i, padding: padding, network: network, consumers: consumers, requested: requested,
                  requiresGradient: requiresGradient, taken: taken, training: training),
              nodes.count > 1 || fused.hasOwnKernels else { return nil }
        return (.fusedConvolution(fused, nodes: nodes, addend: addend), nodes)
    }

    /// A `SeparableConv2D` at node `i` with the chain after it (as `fusedChain`) as one
    /// depth-first step: its depthwise stage (a `ZeroPadding2D` before it folded into the pads)
    /// and its pointwise stage with the batch norm, activations and residual add that follow.
    /// Nil when the layer needs a gradient or the stages do not fit a `DepthFirstBlock` (the
    /// layer then runs as its own node).
    static func separableBlock(from i: Int, padding: (node: Int, layer: ZeroPadding2D)? = nil, network: Network,
                               consumers: [[Int]], requested: Set<Int>, requiresGradient: [Bool], taken: Set<Int>,
                               training: Bool) -> (Step, [Int])? {
        guard case .layer(let layer) = network.nodes[i].operation, let separable = layer as? SeparableConv2D,
              !requiresGradient[i] else { return nil }
        let stages = SeparableStage.stages(of: separable)
        guard let depthwise = try? FusedConvolution(convolution: stages.depthwise, padding: padding?.layer, batchNorm: nil,
                                                    first: .linear, sum: false, second: .linear),
              let (pointwise, tail, addend) = fusedTail(
                  of: stages.pointwise, at: i, network: network, consumers: consumers, requested: requested,
                  requiresGradient: requiresGradient, taken: taken, training: training),
              DepthFirstBlock.fits(expansion: nil, depthwise: depthwise, projection: pointwise) else { return nil }
        let nodes = (padding.map { [$0.node] } ?? []) + tail
        let block = DepthFirstBlock(expansion: nil, depthwise: depthwise, projection: pointwise, scratch: network.depthFirstScratch)
        return (.depthFirst(block, nodes: nodes, addend: addend), nodes)
    }

    /// `convolution` (node `i`, or a stage of it) fused with what follows it, as `fusedChain`
    /// describes; the nodes taken in (the convolution's own first; the padding's before it)
    /// and the addend. The nodes may be the convolution's alone.
    private static func fusedTail(of convolution: any SingleConvolution, at i: Int, padding: (node: Int, layer: ZeroPadding2D)? = nil,
                                  network: Network, consumers: [[Int]], requested: Set<Int>, requiresGradient: [Bool],
                                  taken: Set<Int>, training: Bool) -> (FusedConvolution, [Int], Int?)? {
        guard convolution.convolutionShape != nil, !requiresGradient[i],
              FusedConvolution.canFuse(convolution.activation) else { return nil }
        var nodes = (padding.map { [$0.node] } ?? []) + [i]
        var batchNorm: BatchNorm?
        var first = convolution.activation, second = Activation.linear
        var addend: Int?
        /// The only consumer of the chain's last node, passing over (and taking in) nodes that
        /// are the identity in inference (dropout: stochastic depth before a residual add).
        func next() -> Int? {
            while true {
                let last = nodes[nodes.count - 1]
                guard !requested.contains(last), consumers[last].count == 1 else { return nil }
                let candidate = consumers[last][0]
                guard !requiresGradient[candidate], !taken.contains(candidate) else { return nil }
                if !training, case .layer(let l) = network.nodes[candidate].operation, l is any InferenceIdentity {
                    nodes.append(candidate)
                    continue
                }
                return candidate
            }
        }
        if first == .linear, let n = next(), case .layer(let l) = network.nodes[n].operation, let bn = l as? BatchNorm,
           !training || bn.isFrozen {
            batchNorm = bn
            nodes.append(n)
        }
        if first == .linear, let n = next(), case .layer(let l) = network.nodes[n].operation, let act = l as? ActivationLayer,
           FusedConvolution.canFuse(act.activation) {
            first = act.activation
            nodes.append(n)
        }
        // oneDNN 2.6's SSE4.1 depthwise kernel crashes with a sum post-op (reproduced in C):
        // below AVX2 a depthwise convolution's residual add runs as its own node.
        let sumAllowed = !convolution.isDepthwise || OneDNN.instructionSet >= .avx2
        if sumAllowed, let n = next(), case .merge(let m) = network.nodes[n].operation, m is Add, network.inputsOf[n].count == 2 {
            let last = nodes[nodes.count - 1]
            let others = network.inputsOf[n].filter { $0 != last }
            if others.count == 1 {
                addend = others[0]
                nodes.append(n)
                if let a = next(), case .layer(let l) = network.nodes[a].operation, let act = l as? ActivationLayer,
                   FusedConvolution.canFuse(act.activation) {
                    second = act.activation
                    nodes.append(a)
                }
            }
        }
        // Identity nodes taken in at the end are not part of the fused step (they may be
        // requested outputs, or feed several consumers).
        while nodes.count > 1, case .layer(let l) = network.nodes[nodes[nodes.count - 1]].operation, l is any InferenceIdentity {
            nodes.removeLast()
        }
        guard let fused = try? FusedConvolution(convolution: convolution, padding: padding?.layer, batchNorm: batchNorm, first: first,
                                                sum: addend != nil, second: second,
                                                winogradScratch: network.allowsWinograd ? network.winogradScratch : nil,
                                                blockedActivations: network.blockedActivations)
        else { return nil }
        return (fused, nodes, addend)
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
