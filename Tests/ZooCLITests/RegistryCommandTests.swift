import Foundation
import Testing

/// `zoo import`, `list`, `show`, `assign` against a temporary registry.
@Suite struct RegistryCommandTests {
    static let seedModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras/seed_k2_model.h5").path
    static let seedWeightsK3 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras/seed_k3.weights.h5").path
    static let torchWeights = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/zookit/seed_torch.safetensors").path

    func zoo(_ arguments: [String], registry: TemporaryDirectory) throws -> ZooBinary.Result {
        try ZooBinary.run(arguments + ["--registry", registry.path("reg")])
    }

    @Test func importListShowAssign() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let imported = try zoo(["import", Self.seedModel, "--name", "seed", "--scale", "1/255", "--tag", "test", "--metric", "test_accuracy=0.5"], registry: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("14 assigned, 0 missing, 0 unexpected, 0 mismatched"))

        let list = try zoo(["list", "--json"], registry: directory)
        let rows = try #require(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let seed = try #require(rows.first { $0["name"] as? String == "seed" })
        #expect(seed["task"] as? String == "classification")
        #expect(seed["params"] as? Int == 39_010)
        #expect(seed["input_shape"] as? [Int] == [20])
        #expect(seed["classes"] as? Int == 10)
        #expect(seed["format"] as? String == "keras2-h5")
        #expect(seed["cached"] as? Bool == true)

        let filtered = try zoo(["list", "nothing-*"], registry: directory)
        #expect(!filtered.stdout.contains("seed "))
        let tagged = try zoo(["list", "--tag", "test"], registry: directory)
        #expect(tagged.stdout.contains("seed"))

        let show = try zoo(["show", "seed"], registry: directory)
        #expect(show.stdout.contains("outputs (dense): activation softmax, units 10, use_bias true  ← head"), "\(show.stdout)")
        #expect(show.stdout.contains("test_accuracy: 0.5"))
        let card = try #require(JSONSerialization.jsonObject(with: Data(try zoo(["show", "seed", "--json"], registry: directory).stdout.utf8)) as? [String: Any])
        let preprocessing = try #require((card["input"] as? [String: Any])?["preprocessing"] as? [String: Double])
        #expect(abs((preprocessing["scale"] ?? 0) - 1.0 / 255) < 1e-15 && preprocessing["offset"] == 0)

        let assign = try zoo(["assign", "seed", Self.seedWeightsK3], registry: directory)
        #expect(assign.status == 0, "\(assign.stderr)")
        let partial = try zoo(["assign", "seed", Self.torchWeights, "--json"], registry: directory)
        #expect(partial.status == 65)
        let report = try #require(JSONSerialization.jsonObject(with: Data(partial.stdout.utf8)) as? [String: Any])
        #expect((report["missing"] as? [Any])?.count == 14)
        #expect(partial.stderr.contains("the weights do not fit the network"))
        let torch = try zoo(["assign", "seed", Self.torchWeights, "--layout", "pytorch"], registry: directory)
        #expect(torch.status == 0, "\(torch.stderr)")
    }

    @Test(arguments: [
        (["show", "sed"], Int32(66), "no model named 'sed' (did you mean 'seed'?)"),
        (["import", "/nonexistent.h5", "--name", "x"], 66, "/nonexistent.h5: no such file"),
        (["import", "SEED_K3", "--name", "x"], 64, "carries no architecture"),
        (["import", "SEED", "--name", "bad/name"], 64, "not a valid model name"),
        (["import", "SEED", "--name", "seed"], 64, "already registered"),
        (["import", "SEED", "--name", "y", "--layout", "jax"], 64, "The value 'jax' is invalid for '--layout <layout>'. Please provide one of 'none', 'keras', 'tf' or 'pytorch'."),
        (["fetch", "seed"], 0, ""),
    ])
    func errors(arguments: [String], status: Int32, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        #expect(try zoo(["import", Self.seedModel, "--name", "seed"], registry: directory).status == 0)
        let resolved = arguments.map { $0 == "SEED" ? Self.seedModel : $0 == "SEED_K3" ? Self.seedWeightsK3 : $0 }
        let result = try zoo(resolved, registry: directory)
        #expect(result.status == status, "\(result.stderr)")
        #expect(message.isEmpty || result.stderr.contains(message), "\(result.stderr)")
    }

    /// Two imports at once never corrupt the registry: both entries end up whole.
    @Test func concurrentImports() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let group = DispatchGroup()
        let statuses = StatusLog()
        for index in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                let status = (try? zoo(["import", Self.seedModel, "--name", "seed\(index)"], registry: directory).status) ?? -1
                statuses.append(status)
                group.leave()
            }
        }
        group.wait()
        #expect(statuses.values == [0, 0, 0, 0])
        let rows = try #require(JSONSerialization.jsonObject(with: Data(try zoo(["list", "--json"], registry: directory).stdout.utf8)) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["name"] as? String }).isSuperset(of: ["seed0", "seed1", "seed2", "seed3"]))
    }
}

final class StatusLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int32] = []
    func append(_ value: Int32) { lock.withLock { stored.append(value) } }
    var values: [Int32] { lock.withLock { stored } }
}
