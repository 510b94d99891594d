import Foundation
import ZooFormat
import ZooKit

enum Paths {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path
    static func keras(_ name: String) -> String { fixtures + "/keras/" + name }
    static func zookit(_ name: String) -> String { fixtures + "/zookit/" + name }
}

/// A temporary registry (and cache), removed by `remove()`.
struct TemporaryRegistry {
    let root: String
    let registry: Registry

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("zookit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/models", withIntermediateDirectories: true)
        registry = Registry(roots: [root + "/models"], writableRoot: root + "/models", builtInRoot: nil, cache: WeightsCache(root: root + "/cache"))
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Imports the seed network from its Keras 2 full-model file as `seed`.
    @discardableResult
    func importSeed(name: String = "seed") throws -> RegistryEntry {
        var request = ImportRequest(file: Paths.keras("seed_k2_model.h5"), name: name)
        request.labels = (0..<10).map { "class \($0)" }
        return try Importer.run(request, registry: registry).entry
    }
}

/// Values recorded by Tests/Fixtures/keras/make_fixtures.py.
enum SeedValues {
    static let kernelSHA256 = "e95c7ba4bb95507ac86d68c8c037224a9faf836793e062fcebacf6b08b440644"
    static let parameterCount = 39_010
}
