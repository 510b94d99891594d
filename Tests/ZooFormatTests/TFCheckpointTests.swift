import Foundation
import Testing
@testable import ZooFormat

/// Checkpoints written by TensorFlow 2.21 (Tests/Fixtures/tf/make_fixtures.py);
/// the digests are what the script printed (SHA-256 of `np.ascontiguousarray(a).tobytes()`).
enum TFFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tf")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let v1Digests = [
        "hidden1/kernel": "c7fd94178299292cd3aeb1b821f3eedb396c48415d3be2f76dd9a1b7765f1d4b",
        "hidden1/bias": "d2f2c1531fb82753ebf7b9a10d695fd9b514253d0162d88e15e453f9f11fab58",
        "hidden1/kernel/Adam": "e638c4526031961a76f2ef4a381cf0119c163d81bdb14a172a3126104aec26b8",
        "hidden1/kernel/Adam_1": "2e0c077b7deb7b02b13311837cb4ccc32aa25a36213b8791110e1b2e3c165181",
        "hidden2/kernel": "52745be90ac5ff41b2ceaa195fc1510d63b08afe2c2d894c27787379476ef231",
        "softmax_linear/kernel": "ea669641f14ebc48d65f04667eb04235da7236a30bc4ecd6153518b6ed27c0f8",
        "beta1_power": "fbd6a03e5fd058fde3ec821b87ef0eb924294a1cc0f4b06ce31a4e622ff66fc7",
        "global_step": "7c9fa136d4413fa6173637e883b6998d32e1d675f88cddff9dcbcf331820f4b8",
        "extras/half": "eeab095197b7c244f74f5697d07dd2febcde833fa2bf4157fc77bfd99fe46226",
        "extras/int8": "fedabe10e61b00d9130050169d6796dd86fc72aeb4e895cc0f8ef1901bed5827",
        "extras/flags": "85f90dfea1d8027e1463e5ca971a250110a20df0119d204a74220bc63516d15b",
        "extras/int64": "1bd98ad420e06e1243bde663c85197c8ca3e70556387a2b99f2c0778c93b0a74",
        "extras/double": "e78e3014bf357be111c9d99c8c59a711e609afec54f6f7ad0aea2a7f23a20a10",
        "extras/scalar": "e21712a06022eecab9f5bd25414b4af9adeb316bb03947134cea060c78afd2d9",
    ]

    /// A scratch copy of a fixture directory, removed by the caller.
    static func copy(_ name: String) throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-tf-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: directory.appendingPathComponent(name), to: target)
        return target
    }
}

@Suite struct TFCheckpointTests {
    @Test(arguments: ["v1", "v1/", "v1/model.ckpt", "v1/model.ckpt.index", "v1/model.ckpt.data-00000-of-00001"])
    func opensByPrefixIndexShardOrDirectory(_ name: String) throws {
        let archive = try TensorArchive.open(TFFixture.path(name))
        #expect(archive.format == .tfCheckpoint)
        #expect(archive.format.name == "tf-checkpoint")
        #expect(archive.tensors.count == 27)
        #expect(archive.metadata["shards"] == "1")
    }

    @Test func v1SaverValuesAndDigests() throws {
        let archive = try TensorArchive.open(TFFixture.path("v1/model.ckpt"))
        for (name, digest) in TFFixture.v1Digests {
            #expect(try archive.tensor(named: name).sha256() == digest, "\(name)")
        }
        let kernel = try archive.tensor(named: "hidden1/kernel")
        #expect(kernel.dtype == .float32)
        #expect(kernel.shape == [8, 6])
        #expect(Array(try kernel.floats().prefix(3)) == [-0.4680892527103424, 0.17320534586906433, 0.40619969367980957])
        #expect(try archive.tensor(named: "hidden1/bias").floats()[0] == 0.10999993979930878)
        #expect(try archive.tensor(named: "extras/half").dtype == .float16)
        #expect(try archive.tensor(named: "extras/half").floats() == [0, 0.25, 0.5, 0.75, 1, 1.25])
        #expect(try archive.tensor(named: "extras/int8").floats() == [-128, -1, 0, 1, 127])
        #expect(try archive.tensor(named: "extras/flags").dtype == .bool)
        #expect(try archive.tensor(named: "extras/int64").doubles() == [1, -2, 3, 1_099_511_627_776])
        #expect(try archive.tensor(named: "extras/scalar").shape == [])
        #expect(try archive.tensor(named: "global_step").dtype == .int64)
    }

    @Test func v1OptimizerStateIsTagged() throws {
        let archive = try TensorArchive.open(TFFixture.path("v1"))
        let optimizer = Set(archive.tensors.filter { $0.attributes["role"] == "optimizer" }.map(\.name))
        #expect(optimizer.contains("hidden1/kernel/Adam"))
        #expect(optimizer.contains("softmax_linear/bias/Adam_1"))
        #expect(optimizer.isSuperset(of: ["beta1_power", "beta2_power", "global_step"]))
        #expect(optimizer.count == 15)
        #expect(try archive.tensor(named: "hidden1/kernel").attributes["role"] == nil)
        let json = try archive.inspectJSON().prettyText
        #expect(json.contains("\"role\": \"optimizer\""))
    }

    @Test func stringTensorsAreSkippedWithANote() throws {
        let archive = try TensorArchive.open(TFFixture.path("v1"))
        #expect(!archive.tensors.contains { $0.name == "extras/name" })
        #expect(archive.metadata["skipped"] == "extras/name (DT_STRING)")
    }

    @Test func tf2ObjectBasedKeys() throws {
        let archive = try TensorArchive.open(TFFixture.path("tf2"))
        #expect(archive.metadata["skipped"] == "_CHECKPOINTABLE_OBJECT_GRAPH (DT_STRING)")
        let kernel = try archive.tensor(named: "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE")
        #expect(kernel.shape == [8, 6])
        #expect(try kernel.sha256() == "de3cb8f77e6a92244eb70a4c4f3bf3ceac404178c8c8f8783adab5987fffe498")
        #expect(Array(try kernel.floats().prefix(2)) == [-0.24905438721179962, 0.2909715175628662])
        #expect(kernel.attributes["role"] == nil)
        let slot = try archive.tensor(named: "optimizer/_variables/1/.ATTRIBUTES/VARIABLE_VALUE")
        #expect(slot.attributes["role"] == "optimizer")
        #expect(try slot.sha256() == "2e6dd9db4dd0491e3bc1d6c4c75cd02a1d656729f42a3c968f227c1eb6568bd7")
        #expect(try archive.tensor(named: "save_counter/.ATTRIBUTES/VARIABLE_VALUE").attributes["role"] == "optimizer")
        #expect(archive.tensors.count == 15)
    }

    @Test func multiShardCheckpoint() throws {
        let archive = try TensorArchive.open(TFFixture.path("sharded"))
        #expect(archive.metadata["shards"] == "2")
        #expect(archive.tensors.count == 21)
        let digests = [
            "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE": "902044a5f41567973147ca96dc7b872997fc859ec5a4340ad11f11132948e2c3",
            "model/layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE": "33f5022552e87647733cf32dca9fb16a4665ebd7d539442dd5a3b3a8c847d04c",
            "optimizer/_variables/9/.ATTRIBUTES/VARIABLE_VALUE": "efb07010355cc81c7ef087692cbfbf014043b24a449d10b36c43bef698947ae5",
            "optimizer/_variables/12/.ATTRIBUTES/VARIABLE_VALUE": "6794b127a1c9d75cc806c247a920de3550a68325624695d94b1fd2e5b0037bdb",
        ]
        for (name, digest) in digests {
            #expect(try archive.tensor(named: name).sha256() == digest, "\(name)")
        }
    }

    @Test func partitionedVariablesAreAssembled() throws {
        let archive = try TensorArchive.open(TFFixture.path("partitioned"))
        #expect(archive.tensors.map(\.name) == ["columns", "embedding"])
        let embedding = try archive.tensor(named: "embedding")
        #expect(embedding.shape == [4, 3])
        #expect(embedding.attributes["slices"] == "2")
        #expect(try embedding.sha256() == "2be7e27b315d732e17b2119cd97931d98d38c1bbd2c6ef74e0abf6e874494d21")
        #expect(Array(try embedding.floats().prefix(3)) == [0.38692939281463623, 0.3600262403488159, 0.9768795967102051])
        // Three column slices of widths 2, 2 and 1: each row is put together from all three.
        let columns = try archive.tensor(named: "columns")
        #expect(columns.shape == [2, 5])
        #expect(columns.attributes["slices"] == "3")
        #expect(try columns.sha256() == "6a5301975d6393a88908a69d9529bb206485357ab3306d9ba663c64f83954bf9")
        #expect(Array(try columns.floats().prefix(3)) == [0.956581711769104, 0.2668107748031616, 0.956581711769104])
    }

    @Test func sliceKeysAreTensorFlowsOrderedCode() {
        // The key TensorFlow 2.21 wrote for the first slice of 'embedding' (rows 0..<2, all 3 columns).
        let expected: [UInt8] = [0x00] + Array("embedding".utf8) + [0x00, 0x01, 0x01, 0x02, 0x80, 0x82, 0x80, 0x83]
        #expect(TFPartitionedVariable.key(name: "embedding", extents: [.init(start: 0, length: 2), .init(start: 0, length: 3)]) == expected)
        #expect(TFPartitionedVariable.key(name: "a\u{0}", extents: [.init(start: 0, length: nil)]) == [0x00, 0x61, 0x00, 0xFF, 0x00, 0x01, 0x01, 0x01, 0x80, 0x7F])
    }

    @Test(arguments: [
        (0, [0x80]), (3, [0x83]), (63, [0xBF]), (-1, [0x7F]), (-64, [0x40]), (64, [0xC0, 0x40]),
        (1000, [0xC3, 0xE8]), (-65, [0x3F, 0xBF]), (8191, [0xDF, 0xFF]), (8192, [0xE0, 0x20, 0x00]),
    ] as [(Int64, [UInt8])])
    func signedNumIncreasing(value: Int64, encoded: [UInt8]) {
        #expect(TFPartitionedVariable.signedNumIncreasing(value) == encoded)
    }

    @Test(arguments: [
        ("overlap", [([0, 0], [2, 3]), ([1, 0], [3, 3])]),
        ("gap", [([0, 0], [1, 3]), ([2, 0], [2, 3])]),
        ("out of bounds", [([0, 0], [2, 3]), ([2, 0], [3, 3])]),
        ("double cover", [([0, 0], [4, 3]), ([0, 0], [4, 3])]),
    ] as [(String, [([Int], [Int])])])
    func slicesMustTileTheVariable(_ name: String, slices: [([Int], [Int])]) throws {
        let file = try MappedFile(path: TFFixture.path("partitioned/model.ckpt.index"))
        let parts = slices.map { TFPartitionedVariable.Part(start: $0.0, shape: $0.1, shard: file, offset: 0, size: 0, maskedCRC: nil) }
        #expect(throws: FormatError.self, "\(name)") {
            try TFPartitionedVariable.checkTiling(parts, shape: [4, 3], name: "v", file: "t")
        }
    }

    @Test func metaGraphNamesItsCheckpoint() throws {
        let copy = try TFFixture.copy("v1")
        defer { try? FileManager.default.removeItem(at: copy) }
        let meta = copy.appendingPathComponent("model.ckpt.meta")
        try Data([0x0A, 0x00]).write(to: meta)
        #expect(try TensorArchive.open(meta.path).tensors.count == 27)
    }

    @Test func indexIsRecognizedByItsMagicUnderAnotherName() throws {
        let copy = try TFFixture.copy("v1")
        defer { try? FileManager.default.removeItem(at: copy) }
        let renamed = copy.appendingPathComponent("weights.table").path
        try FileManager.default.moveItem(atPath: copy.appendingPathComponent("model.ckpt.index").path, toPath: renamed)
        try FileManager.default.moveItem(
            atPath: copy.appendingPathComponent("model.ckpt.data-00000-of-00001").path, toPath: renamed + ".data-00000-of-00001")
        let archive = try TensorArchive.open(renamed)
        #expect(archive.format == .tfCheckpoint)
        #expect(try archive.tensor(named: "hidden1/kernel").sha256() == TFFixture.v1Digests["hidden1/kernel"])
    }

    @Test func missingCheckpointIsNotFound() throws {
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(TFFixture.path("v1/nothing.ckpt")) }
        #expect(error.exitCode == 66)
    }

    // MARK: Damaged copies

    /// Rewrites `file` in a scratch copy of `fixture`, then opens the copy and reads every tensor.
    static func openDamaged(_ fixture: String, _ file: String, _ damage: (inout [UInt8]) -> Void) throws -> FormatError? {
        let copy = try TFFixture.copy(fixture)
        defer { try? FileManager.default.removeItem(at: copy) }
        let url = copy.appendingPathComponent(file)
        var bytes = [UInt8](try Data(contentsOf: url))
        damage(&bytes)
        try Data(bytes).write(to: url)
        do {
            let archive = try TensorArchive.open(copy.path)
            for tensor in archive.tensors { _ = try tensor.sha256() }
            return nil
        } catch let error as FormatError {
            return error
        }
    }

    enum Expected { case truncated, malformed, checksum, notFound }

    static let damages: [(String, String, Expected, @Sendable (inout [UInt8]) -> Void)] = [
        ("index truncated to 40 bytes", "model.ckpt.index", .truncated, { $0.removeSubrange(40...) }),
        ("index missing its last byte", "model.ckpt.index", .malformed, { $0.removeLast() }),
        ("index magic changed", "model.ckpt.index", .malformed, { $0[$0.count - 1] ^= 0xFF }),
        ("index data block byte flipped", "model.ckpt.index", .checksum, { $0[20] ^= 0x01 }),
        ("index first byte flipped", "model.ckpt.index", .checksum, { $0[0] ^= 0x80 }),
        ("index footer handle past the end", "model.ckpt.index", .malformed, { bytes in
            let footer = bytes.count - 48
            bytes.replaceSubrange(footer..<footer + 10, with: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        }),
        ("index emptied", "model.ckpt.index", .truncated, { $0.removeAll() }),
        ("data shard byte flipped", "model.ckpt.data-00000-of-00001", .checksum, { $0[100] ^= 0x40 }),
        ("data shard truncated", "model.ckpt.data-00000-of-00001", .truncated, { $0.removeSubrange(600...) }),
    ]

    @Test(arguments: 0..<damages.count)
    func damagedCheckpointsFailWithTypedErrors(_ index: Int) throws {
        let (name, file, expected, damage) = Self.damages[index]
        let error = try #require(try Self.openDamaged("v1", file, damage), "\(name): no error")
        #expect(error.exitCode == 65, "\(name): \(error)")
        switch (expected, error.reason) {
        case (.truncated, .truncated), (.malformed, .malformed), (.checksum, .checksumMismatch): break
        case (.truncated, .empty): break
        default: Issue.record("\(name): unexpected \(error)")
        }
    }

    @Test func missingShardIsNotFound() throws {
        let copy = try TFFixture.copy("sharded")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.removeItem(at: copy.appendingPathComponent("ckpt-1.data-00001-of-00002"))
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(copy.path) }
        #expect(error.exitCode == 66)
        #expect(error.file.hasSuffix("ckpt-1.data-00001-of-00002"))
    }

    @Test func directoryWithOneIndexAndNoCheckpointFile() throws {
        let copy = try TFFixture.copy("tf2")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.removeItem(at: copy.appendingPathComponent("checkpoint"))
        let archive = try TensorArchive.open(copy.path)
        #expect(archive.metadata["prefix"]?.hasSuffix("/ckpt-1") == true)
        #expect(archive.tensors.count == 15)
    }

    @Test func directoryWithoutCheckpointFileFails() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-tf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(empty.path) }
        #expect(error.exitCode == 66)
        #expect(error.message.contains("neither a TensorFlow 'checkpoint' file nor a single .index"))
    }
}
