import Foundation
import Testing
import ZooFormat
import ZooKit
import ZooNet

@Suite struct AssignmentTests {
    /// The seed's `scope="hidden[123]"`: only the matching variables are taken.
    @Test func scopeTakesOnlyMatchingVariables() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let entry = try temporary.importSeed()
        let network = try entry.manifest.buildNetwork(seed: 7)
        let before = try network.variable(named: "outputs/kernel").values
        let tensors = try entry.manifest.weights.mapping.apply(to: TensorArchive.open(entry.weightsPath), network: network)
        let report = try WeightAssigner.assign(tensors, to: network, options: AssignmentOptions(scope: "hidden[12]"))
        #expect(report.assigned.map(\.variable) == ["hidden1/kernel", "hidden1/bias", "hidden2/kernel", "hidden2/bias"])
        #expect(report.missing.isEmpty && report.unexpected.isEmpty)
        #expect(report.skipped.contains("outputs/kernel") && report.skipped.contains("bn1/gamma"))
        #expect(try network.variable(named: "outputs/kernel").values == before)
    }

    @Test func optimizerStateIsSkippedByDefault() throws {
        let archive = try TensorArchive.open(Paths.keras("compiled_k2_model.h5"))
        let network = try Sequential(inputShape: [3], layers: [Dense(outputCount: 2, name: "dense")])
        let tensors = try NameMapping(layout: .keras).apply(to: archive, network: network)
        let report = try WeightAssigner.assign(tensors, to: network)
        #expect(report.assigned.count == 2)
        #expect(Set(report.skipped) == ["Adam/m/dense/kernel", "Adam/m/dense/bias", "Adam/v/dense/kernel", "Adam/v/dense/bias", "iteration"])
        #expect(report.isComplete)
    }

    @Test func partialLoadsReportButDoNotFail() throws {
        let archive = try TensorArchive.open(Paths.keras("seed_k2_weights.h5"))
        let network = try Sequential(inputShape: [20], layers: [Dense(outputCount: 300, name: "hidden1"), Dense(outputCount: 7, name: "new_head")])
        let tensors = try NameMapping(layout: .keras).apply(to: archive, network: network)
        let strict = try #require(throws: ZooKitError.self) { try WeightAssigner.assign(tensors, to: network) }
        #expect(strict.description.contains("missing new_head/kernel [300, 7]"))
        let report = try WeightAssigner.assign(tensors, to: network, options: AssignmentOptions(partial: true))
        #expect(report.assigned.map(\.variable) == ["hidden1/kernel", "hidden1/bias"])
        #expect(report.missing.map(\.name) == ["new_head/kernel", "new_head/bias"])
        #expect(report.unexpected.count == 12)
        #expect(report.missing.first?.hint == "outputs/kernel" || report.missing.first?.hint != nil)
    }

    @Test func digestMismatchIsRefused() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let entry = try temporary.importSeed()
        _ = try entry.verifiedWeightsPath()  // remembered
        let handle = try #require(FileHandle(forUpdatingAtPath: entry.weightsPath))
        try handle.seek(toOffset: 5000)
        try handle.write(contentsOf: Data([0xFF, 0xFE]))
        try handle.close()
        let error = try #require(throws: ZooKitError.self) { try PretrainedModel.load(entry) }
        guard case .digestMismatch(let file, let expected, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == entry.weightsPath)
        #expect(expected == entry.manifest.weights.sha256)
        // Told not to verify, the load goes on (and the bytes decide).
        _ = try? PretrainedModel.load(entry, verify: false)
    }
}
