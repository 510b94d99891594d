import Testing
@testable import ZooNet

/// `Network.profileInference`: one entry per step of the inference plan, every node in exactly
/// one step, and the network's buffers left as `predict` needs them.
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

    @Test func badRequestsThrow() throws {
        let net = try DepthFirstTests.network(DepthFirstTests.Block(), seed: 3, head: 4)
        let x = try tensor([1, 11, 9, 5], seed: 7)
        #expect(throws: ZooNetError.self) { try net.profileInference([x], repeats: 0) }
        #expect(throws: ZooNetError.self) { try net.profileInference([try tensor([1, 9, 11, 5], seed: 7)]) }
        #expect(throws: ZooNetError.self) { try net.profileInference([x, x]) }
        #expect(throws: ZooNetError.self) { try net.profileInference([try Tensor(shape: [0, 11, 9, 5], scalars: [])]) }
    }
}
