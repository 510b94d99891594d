import Testing
@testable import ZooNet

/// Fused convolutions picking their kernel by the clock (`ConvolutionKernelChoice`): the pick
/// keeps the rules' kernel unless another is clearly faster, a choice is measured once per
/// process and key, and tuned steps run a candidate and compute what the rules' steps compute.
@Suite struct KernelChoiceTests {
    @Test func pickKeepsTheRuleUnlessAnotherIsClearlyFaster() {
        typealias Choice = ConvolutionKernelChoice
        // Within the 3 % margin the rule stays; beyond it the fastest wins.
        #expect(Choice.pick([.oneDNN: 1.0, .winograd: 0.98], rule: .oneDNN) == .oneDNN)
        #expect(Choice.pick([.oneDNN: 1.0, .winograd: 0.96, .ownDirect: 0.97], rule: .oneDNN) == .winograd)
        #expect(Choice.pick([.oneDNN: 0.5, .winograd: 1.0, .ownDirect: 0.8], rule: .winograd) == .oneDNN)
        #expect(Choice.pick([.oneDNN: 1.0, .ownDirect: 1.0], rule: .ownDirect) == .ownDirect)
        // Equal times and no rule among them: the same kernel every time (by name).
        #expect(Choice.pick([.oneDNN: 1.0, .ownDirect: 1.0], rule: .pixelRuns) == .oneDNN)
        #expect(Choice.pick([:], rule: .winograd) == .winograd)
    }

    @Test func aChoiceIsMeasuredOncePerKey() throws {
        // A shape no other test uses, so the process's table has no choice for it yet.
        let shape = convolutionShape(height: 37, width: 41, channels: 23, outputChannels: 29, kernel: 3, stride: 1, dilation: 1,
                                     pads: (1, 1, 1, 1))
        let key = ConvolutionKernelChoice.Key(shape: shape, batch: 3, threads: 2, sum: false, candidates: [.winograd, .oneDNN])
        var measured = 0
        let first = ConvolutionKernelChoice.choice(for: key, rule: .oneDNN) {
            measured += 1
            return [.winograd: 0.5, .oneDNN: 1.0]
        }
        let second = ConvolutionKernelChoice.choice(for: key, rule: .oneDNN) {
            measured += 1
            return [.winograd: 1.0, .oneDNN: 0.5]
        }
        #expect(first.kernel == .winograd && second == first && measured == 1)
        #expect(first.seconds == [.winograd: 0.5, .oneDNN: 1.0])
        // Another batch size is another key.
        let other = ConvolutionKernelChoice.Key(shape: shape, batch: 4, threads: 2, sum: false, candidates: [.winograd, .oneDNN])
        #expect(ConvolutionKernelChoice.choice(for: other, rule: .oneDNN) { [.winograd: 1.0, .oneDNN: 0.5] }.kernel == .oneDNN)
        // The timer keeps each candidate's least time; close candidates run round after round
        // (a warm-up and 7 rounds while they take < 50 ms in all), one 1.5× slower stops after a
        // round, and a round of large layers ends the timing after 3 rounds.
        var runs: [ConvolutionKernel: Int] = [:]
        let small: [ConvolutionKernel: Double] = [.ownDirect: 0.0002, .oneDNN: 0.00021, .winograd: 0.0003]
        let times = ConvolutionKernelChoice.time([.ownDirect, .oneDNN, .winograd]) { kernel in
            runs[kernel, default: 0] += 1
            return small[kernel]! * (runs[kernel] == 1 ? 3 : 1)  // a slow first run (packing)
        }
        #expect(times == small)
        #expect(runs == [.ownDirect: 8, .oneDNN: 8, .winograd: 2], "\(runs)")
        runs = [:]
        let large = ConvolutionKernelChoice.time([.winograd, .oneDNN]) { kernel in
            runs[kernel, default: 0] += 1
            return kernel == .winograd ? 0.05 : 0.055
        }
        #expect(large == [.winograd: 0.05, .oneDNN: 0.055] && runs == [.winograd: 4, .oneDNN: 4], "\(runs)")
        // A clear winner ends the timing after one round.
        runs = [:]
        _ = ConvolutionKernelChoice.time([.winograd, .oneDNN]) { kernel in
            runs[kernel, default: 0] += 1
            return kernel == .winograd ? 0.1 : 0.2
        }
        #expect(runs == [.winograd: 2, .oneDNN: 2], "\(runs)")
        // Large layers are timed on as few samples as make 2 GFLOP.
        #expect(ConvolutionKernelChoice.timedBatch(32, flopPerSample: 3_700_000_000) == 1)
        #expect(ConvolutionKernelChoice.timedBatch(32, flopPerSample: 231_211_008) == 9)
        #expect(ConvolutionKernelChoice.timedBatch(6, flopPerSample: 231_211_008) == 6)
    }

    /// A ResNet-like block — a 3×3 stride-2 convolution + batch norm + ReLU, a 3×3 stride-1 one +
    /// batch norm + residual add + ReLU, a lone 3×3 — tuned at batch 3: every step runs one of
    /// its candidates, the network computes what it computes node by node on oneDNN, and its profile
    /// names each fused step's kernel.
    @Test func tunedStepsRunACandidateAndMatchNodeByNode() throws {
        let x = Input(shape: [12, 10, 16], name: "x")
        let down = ActivationLayer(.relu)(BatchNorm(name: "down_bn")(
            Conv2D(filters: 32, kernelSize: (3, 3), strides: (2, 2), padding: .same, useBias: false, name: "down")(x)))
        let body = BatchNorm(name: "body_bn")(Conv2D(filters: 32, kernelSize: (3, 3), padding: .same, useBias: false, name: "body")(down))
        let merged = ActivationLayer(.relu)(Add()([body, down]))
        let y = Conv2D(filters: 16, kernelSize: (3, 3), padding: .same, name: "lone")(merged)
        let net = try Network(inputs: [x], outputs: [y], seed: 5)
        for bn in ["down_bn", "body_bn"] {
            try net.assign("\(bn)/moving_mean", values: randomValues(32, seed: 7, scale: 0.3))
            try net.assign("\(bn)/moving_variance", values: randomValues(32, seed: 8).map { 0.5 + abs($0) })
        }
        let batch = 3
        let plan = net.plan(training: false)
        #expect(plan.fused.count >= 2)
        for fused in plan.fused {
            try fused.prepare(batch: batch, tuning: true, choices: nil)
            let candidates = fused.candidateKernels(batch: batch)
            #expect(candidates.last == .oneDNN)
            #expect(candidates.contains(fused.kernel(batch: batch)), "\(fused.shape)")
            // The times it was picked on: one per candidate, when there was a choice.
            let times = fused.tunedChoice(batch: batch)?.seconds
            #expect(candidates.count == 1 ? times == nil : times.map { Set($0.keys) } == Set(candidates), "\(fused.shape)")
            if DirectConvolutionTests.kernelRuns && ComputeBackend.ownDirect {
                #expect(candidates.count > 1, "\(fused.shape)")  // the own direct kernel at least
            }
        }
        let input = try tensor([batch, 12, 10, 16], seed: 11)
        let tuned = try net.predict(input, batchSize: batch)
        net.fusesConvolutions = false
        net.allowsWinograd = false
        #expect(closeness(tuned.scalars, try net.predict(input, batchSize: batch).scalars, relative: 1e-5, absolute: 1e-5) <= 1)
        // Profiles name the kernel of each fused convolution step, and of no other step.
        net.fusesConvolutions = true
        net.allowsWinograd = true
        let profile = try net.profileInference([input], repeats: 1)
        #expect(profile.contains { $0.kind == .fusedConvolution })
        for step in profile {
            let named = ConvolutionKernel.allCases.contains { step.kernel?.hasPrefix($0.rawValue) == true }
            #expect(named == (step.kind == .fusedConvolution), "\(step.nodes): \(step.kernel ?? "nil")")
            if let times = step.tuningSeconds {  // a tuned step's kernel is one of those it timed
                #expect(times.keys.contains { step.kernel?.hasPrefix($0) == true } && times.values.allSatisfy { $0 > 0 })
            }
        }
    }
}
