import Testing
@testable import ZooNet

/// `Network.profileInference` and `profileTraining`: one entry per step of the plan, every node
/// in exactly one step, and the network's buffers and weights left as `predict` needs them.
@Suite struct ProfileTests {
    @Test func everyNodeInOneStepAndPredictUnchanged() throws {
        let net = try DepthFirstTests.network(DepthFirstTests.Block(), seed: 3, head: 4)
        let x = try tensor([2, 11, 9, 5], seed: 7)
        let before = try net.predict(x).scalars
        let profile = try net.profileInference([x], repeats: 3)
        let names = profile.flatMap(\.nodes)
        let layers = net.nodes.filter { if case .input = $0.operation { return false } else { return true } }.map(\.name)
        #expect(names.sorted() == layers.sorted(), "each node once: \(names)")
        #expect(profile.contains { $0.kind == .depthFirstBlock && $0.nodes.first == "expand" && $0.nodes.contains("add") })
        #expect(profile.last?.nodes.last == "head")
        #expect(profile.allSatisfy { $0.seconds >= 0 && $0.seconds.isFinite })
        #expect(profile.map(\.seconds).reduce(0, +) > 0)
        #expect(try net.predict(x).scalars == before)
    }

    /// `Network.profileTraining`: every node's forward step once, then the backward steps of the
    /// nodes that lead to a trainable variable (frozen lower layers pruned), and the weights
    /// unchanged.
    @Test func trainingStepsForwardThenBackward() throws {
        let net = try DepthFirstTests.network(DepthFirstTests.Block(), seed: 3, head: 4)
        let x = try tensor([3, 11, 9, 5], seed: 7)
        let before = try net.predict(x).scalars
        let profile = try net.profileTraining([x], repeats: 3)
        let forward = profile.filter { $0.pass == .forward }, backward = profile.filter { $0.pass == .backward }
        let layers = net.nodes.filter { if case .input = $0.operation { return false } else { return true } }.map(\.name)
        #expect(forward.flatMap(\.nodes).sorted() == layers.sorted())
        #expect(profile.prefix(forward.count).allSatisfy { $0.pass == .forward })
        #expect(backward.first?.nodes.last == "head")
        #expect(backward.contains { $0.nodes.contains("expand") })
        #expect(profile.allSatisfy { $0.seconds >= 0 && $0.seconds.isFinite })
        #expect(try net.predict(x).scalars == before)
        try net.freeze(trainable: "head")
        let pruned = try net.profileTraining([x], repeats: 1).filter { $0.pass == .backward }.flatMap(\.nodes)
        #expect(!pruned.contains("expand") && pruned.contains("head"))
        try net.freeze(trainable: "nothing_has_this_name")
        #expect(throws: ZooNetError.self) { try net.profileTraining([x], repeats: 1) }
        #expect(throws: ZooNetError.self) { try net.profileTraining([x], repeats: 0) }
    }

    @Test func badRequestsThrow() throws {
        let net = try DepthFirstTests.network(DepthFirstTests.Block(), seed: 3, head: 4)
        let x = try tensor([1, 11, 9, 5], seed: 7)
        #expect(throws: ZooNetError.self) { try net.profileInference([x], repeats: 0) }
        #expect(throws: ZooNetError.self) { try net.profileInference([try tensor([1, 9, 11, 5], seed: 7)]) }
        #expect(throws: ZooNetError.self) { try net.profileInference([x, x]) }
        #expect(throws: ZooNetError.self) { try net.profileInference([try Tensor(shape: [0, 11, 9, 5], scalars: [])]) }
    }
}
