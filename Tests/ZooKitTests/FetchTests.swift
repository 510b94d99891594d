import Foundation
import Testing
import ZooKit

/// `zoo fetch` against a server on loopback: download, resume, digest refusal.
@Suite(.serialized) struct FetchTests {
    /// Registers the seed model with a URL instead of a shipped file.
    func remoteEntry(_ temporary: TemporaryRegistry, port: UInt16, sha256: String? = nil) throws -> RegistryEntry {
        var request = ImportRequest(file: Paths.keras("seed_k2_model.h5"), name: "remote")
        request.labels = (0..<10).map(String.init)
        request.url = "http://127.0.0.1:\(port)/seed_k2_model.h5"
        var entry = try Importer.run(request, registry: temporary.registry).entry
        if let sha256 {
            var manifest = entry.manifest
            manifest.weights.sha256 = sha256
            try manifest.encoded().write(to: URL(fileURLWithPath: entry.directory + "/manifest.json"))
            entry = try temporary.registry.entry(named: "remote")
        }
        return entry
    }

    @Test func downloadsAndVerifies() throws {
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Paths.keras("seed_k2_model.h5"))))
        let server = try LoopbackHTTPServer(body: body)
        defer { server.stop() }
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let entry = try remoteEntry(temporary, port: server.port)
        #expect(!entry.hasWeights)
        let loadError = try #require(throws: ZooKitError.self) { try PretrainedModel.load(entry) }
        #expect(loadError == .weightsNotFetched(model: "remote"))
        let sizes = SizeLog()
        let path = try Fetcher.fetch(entry) { received, _ in sizes.append(received) }
        #expect(path == temporary.root + "/cache/weights/remote/seed_k2_model.h5")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(body))
        #expect(sizes.values.last == body.count)
        #expect(server.ranges == [nil])
        #expect(try PretrainedModel.load(entry).report.assigned.count == 14)
    }

    @Test func resumesAnInterruptedDownload() throws {
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Paths.keras("seed_k2_model.h5"))))
        let server = try LoopbackHTTPServer(body: body)
        defer { server.stop() }
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let entry = try remoteEntry(temporary, port: server.port)
        server.cutAfter = 70_000
        #expect(throws: ZooKitError.self) { try Fetcher.fetch(entry) }
        let partial = temporary.root + "/cache/weights/remote/seed_k2_model.h5.part"
        let kept = try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int
        #expect(kept == 70_000)
        try Fetcher.fetch(entry)
        #expect(server.ranges == [nil, 70_000])
        #expect(try Data(contentsOf: URL(fileURLWithPath: entry.weightsPath)) == Data(body))
    }

    @Test func refusesADigestMismatch() throws {
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Paths.keras("seed_k2_model.h5"))))
        let server = try LoopbackHTTPServer(body: body)
        defer { server.stop() }
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let entry = try remoteEntry(temporary, port: server.port, sha256: String(repeating: "a", count: 64))
        let error = try #require(throws: ZooKitError.self) { try Fetcher.fetch(entry) }
        guard case .digestMismatch = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(!entry.hasWeights)
        #expect(!FileManager.default.fileExists(atPath: entry.weightsPath + ".part"))
    }

    @Test func unreachableServer() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let port: UInt16
        do {
            let server = try LoopbackHTTPServer(body: [])
            port = server.port
            server.stop()
        }
        let entry = try remoteEntry(temporary, port: port)
        let error = try #require(throws: ZooKitError.self) { try Fetcher.fetch(entry) }
        guard case .download(let url, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(url.hasPrefix("http://127.0.0.1:"))
        #expect(error.exitCode == 69)
    }
}

final class SizeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int] = []
    func append(_ value: Int) { lock.withLock { stored.append(value) } }
    var values: [Int] { lock.withLock { stored } }
}
