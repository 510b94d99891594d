import Foundation
import Testing
@testable import ZooFormat

/// Files written by torch 2.15 (Tests/Fixtures/torch/make_fixtures.py); digests are
/// what the script printed (SHA-256 of `np.ascontiguousarray(t.numpy()).tobytes()`).
enum TorchFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/torch")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let stateDict: [(String, [Int], String)] = [
        ("hidden1.weight", [6, 8], "577eae2ff47479aa809bc571a7bee82f9f41f2ccd94da059f644aa76e39171ee"),
        ("hidden1.bias", [6], "f7096286eb0c067bef0fb27b0c2f45f189e8ad9a914887510a87d3ddf340c3c6"),
        ("hidden2.weight", [4, 6], "14f060dd0d64850503b4ec555053107f912882e237d3b41f6abd3e1510ad1196"),
        ("hidden2.bias", [4], "1b0c4e579cc6e8c8734df3c1630ff511689cd2d06a88661d5b6cbe5e8bd7a7e4"),
        ("out.weight", [3, 4], "40974b323cdcab0c7378028665876cd328aa09a85e2cf79269ba05fdf7237581"),
        ("out.bias", [3], "33f802b495b3b2a7c5979236f72da4baafcdfa5f635b9122896ee53ead18cfc0"),
    ]

    static let views: [(String, [Int], [Int], String, [Float])] = [
        ("grid", [3, 4], [4, 1], "29e1889124dc651e7bb488251123910767d042ae6dc47c280ec364655e24ab49", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        ("column", [3], [4], "531a8a598e216245fd122285ab700898f2b117ce7ebb27a0bcb7a9d5b9b86eb4", [1, 5, 9]),
        ("transposed", [4, 3], [1, 4], "5ad8a91ce86568a3d934ee2a80909d4292384e7ca8f5b721ce930a7d377cd709", [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]),
        ("rows", [2, 4], [4, 1], "0b19cf3680d047203b16c001810425a0ba1ee75bb0616756c9a42490243f3004", [4, 5, 6, 7, 8, 9, 10, 11]),
        ("every_other", [3, 2], [4, 2], "146788b4de5d87063ee539a1e938de301af40cd13123ebfea8b7de910c5db458", [0, 2, 4, 6, 8, 10]),
    ]

    /// The members of a fixture zip, by name.
    static func members(_ name: String) throws -> [(String, [UInt8])] {
        let file = try MappedFile(path: path(name))
        let directory = try ZipDirectory(ByteReader(file.bytes, file: file.path))
        return try directory.entries.map { ($0.name, try $0.bytes(in: file).copied()) }
    }

    /// Writes a zip of `members` (deflating those named in `deflate`) to a scratch file.
    static func writeZip(_ members: [(String, [UInt8])], deflate: Set<String> = []) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-torch-\(UUID().uuidString).pt").path
        let file = try AtomicFile(destination: path)
        let zip = ZipWriter(file: file)
        for (name, bytes) in members {
            try bytes.withUnsafeBytes { buffer in
                if deflate.contains(name) {
                    try zip.addDeflated(name: name, parts: [buffer])
                } else {
                    try zip.addStored(name: name, parts: [buffer])
                }
            }
        }
        try zip.finish()
        try file.commit()
        return path
    }
}

@Suite struct PyTorchTests {
    @Test(arguments: ["state_dict.pt", "protocol4.pt", "protocol5.bin"])
    func stateDict(_ name: String) throws {
        let archive = try TensorArchive.open(TorchFixture.path(name))
        #expect(archive.format == .pytorch)
        #expect(archive.tensors.map(\.name) == TorchFixture.stateDict.map(\.0))
        for (tensorName, shape, digest) in TorchFixture.stateDict {
            let tensor = try archive.tensor(named: tensorName)
            #expect(tensor.dtype == .float32)
            #expect(tensor.shape == shape)
            #expect(try tensor.sha256() == digest, "\(tensorName)")
            #expect(tensor.attributes["role"] == nil)
        }
        let weight = try archive.tensor(named: "hidden1.weight")
        #expect(Array(try weight.floats().prefix(3)) == [0.007353009190410376, 0.17966143786907196, -0.30099037289619446])
        #expect(weight.path?.hasSuffix("/data/0") == true)
        guard case .mapped = weight.source else {
            Issue.record("a stored storage should be a zero-copy view")
            return
        }
    }

    @Test func checkpointDictIsFlattened() throws {
        let archive = try TensorArchive.open(TorchFixture.path("checkpoint.pth"))
        #expect(archive.tensors.count == 24)
        for (tensorName, _, digest) in TorchFixture.stateDict {
            #expect(try archive.tensor(named: "model_state." + tensorName).sha256() == digest)
        }
        #expect(archive.metadata["epoch"] == "3")
        #expect(archive.metadata["loss"] == "0.25")
        #expect(archive.metadata["note"] == "seed")
        #expect(archive.metadata["best"] == "True")
        #expect(archive.metadata["optimizer_state.param_groups.0.lr"] == "0.01")
        #expect(archive.metadata["optimizer_state.param_groups.0.betas"] == "(0.9, 0.999)")
        #expect(archive.metadata["optimizer_state.param_groups.0.params"] == "[0, 1, 2, 3, 4, 5]")
        let exp = try archive.tensor(named: "optimizer_state.state.0.exp_avg")
        #expect(exp.shape == [6, 8])
        #expect(try exp.sha256() == "a52e17666b95ba263b80036b41d7b95056c161eeb98dfd211d25adcd3131c51d")
        #expect(exp.attributes["role"] == "optimizer")
        #expect(try archive.tensor(named: "optimizer_state.state.5.step").shape == [])
        #expect(try archive.tensor(named: "model_state.out.bias").attributes["role"] == nil)
        let json = try archive.inspectJSON().prettyText
        #expect(json.contains("\"role\": \"optimizer\""))
        #expect(json.contains("\"format\": \"pytorch\""))
    }

    @Test(arguments: [
        ("f16", DType.float16, [2, 3], "eb5cfd83b237a657ed5ac54d7dd569cdd4577240d7dbc6d6ba9cee2eb5c10f84", [-0.5, -0.25, 0, 0.25, 0.5, 0.75] as [Float]),
        ("bf16", .bfloat16, [3, 2], "7b62a713f036262695aa78b772acfb48be148adce3a47d2dffa3e23fb1759723", [1, 1.125, 1.25, 1.375, 1.5, 1.625]),
        ("f64", .float64, [3], "525533e615f31e195f64d05161baee6ba23e8c28d062c3c23c38e00ae0749faa", [0.5, -1.25, 3]),
        ("i8", .int8, [4], "695fa9d95b35a0430e8401440e3ca896bfdaedfbce2b3a16c5f68c0bd67a48b2", [-128, -1, 0, 127]),
        ("i16", .int16, [2], "1be3ac9eef40e8323cc8122ced12b70d07bc6fbdd8b0f0235440b2d0f940493d", [-300, 300]),
        ("i32", .int32, [2, 2], "5b752126afbd278ae95929edabbc8473cdd35daa1f0940ae4bc534cb7c658db5", [1, -2, 3, -4]),
        ("i64", .int64, [2], "74153a5050a3773d67c8061ca939af634669fb6502088cb2edaacd4ce2eccbde", [1_099_511_627_776, -7]),
        ("u8", .uint8, [3], "c5cc32399813ebca2dfcafc653c9d537886760f5df20f56c0c6a3ea9ac3c37e2", [0, 200, 255]),
        ("bool", .bool, [3], "85f90dfea1d8027e1463e5ca971a250110a20df0119d204a74220bc63516d15b", [1, 0, 1]),
        ("scalar", .float32, [], "072e3304b03423a4767d28c5fed09f81d5190ff60a3d078c6c1350eeb8bee28b", [2.5]),
        ("empty", .float32, [0, 3], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", []),
    ] as [(String, DType, [Int], String, [Float])])
    func dtypes(name: String, dtype: DType, shape: [Int], digest: String, values: [Float]) throws {
        let tensor = try TensorArchive.open(TorchFixture.path("dtypes.pt")).tensor(named: name)
        #expect(tensor.dtype == dtype)
        #expect(tensor.shape == shape)
        #expect(try tensor.sha256() == digest)
        #expect(try tensor.floats() == values)
    }

    @Test func newerDtypesThroughRebuildTensorV3() throws {
        let archive = try TensorArchive.open(TorchFixture.path("newer_dtypes.pt"))
        let u16 = try archive.tensor(named: "u16")
        #expect(u16.dtype == .uint16)
        #expect(try u16.floats() == [1, 65535])
        #expect(try u16.sha256() == "16b8cb1fe734fbc60c6763c94c9e4cc55840ae966e7e508ba82f539d82702511")
        // float8 and complex are listed and copied, not converted.
        let f8 = try archive.tensor(named: "f8")
        #expect(f8.dtype.name == "float8_e4m3fn")
        #expect(try f8.canonicalBytes().copied() == [48, 192, 126])
        #expect(throws: FormatError.self) { try f8.floats() }
        let c64 = try archive.tensor(named: "c64")
        #expect(c64.dtype.name == "complex64")
        #expect(c64.shape == [2])
        #expect(try c64.sha256() == "d4a76b4855578217b30795d583c97344a6fdd35a812e8489e6134c0263371ffa")
    }

    @Test func quantizedTensorsAreRefusedByName() throws {
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(TorchFixture.path("quantized.pt")) }
        #expect(error.exitCode == 65)
        #expect(error.message.contains("torch._utils._rebuild_qtensor"))
        #expect(error.message.contains("does not read"))
    }

    @Test(arguments: ["views.pt", "legacy.pt"])
    func viewsKeepStridesAndOffsets(_ file: String) throws {
        let archive = try TensorArchive.open(TorchFixture.path(file))
        for (name, shape, strides, digest, values) in TorchFixture.views {
            let stored = file == "legacy.pt" ? ["grid": "weight", "column": "column", "transposed": "transposed"][name] : name
            guard let stored else { continue }
            let tensor = try archive.tensor(named: stored)
            #expect(tensor.shape == shape, "\(name)")
            #expect(tensor.strides == strides, "\(name)")
            #expect(try tensor.sha256() == digest, "\(name)")
            #expect(try tensor.floats() == values, "\(name)")
            guard case .mapped = tensor.source else {
                Issue.record("\(name) should be a view of the mapped file")
                continue
            }
        }
        #expect(try !archive.tensor(named: "transposed").isContiguous)
    }

    @Test func legacyFormat() throws {
        let archive = try TensorArchive.open(TorchFixture.path("legacy.pt"))
        #expect(archive.format == .pytorch)
        #expect(archive.metadata["legacy_format"] == "true")
        #expect(archive.tensors.map(\.name) == ["weight", "column", "transposed", "tail", "bias"])
        let tail = try archive.tensor(named: "tail")
        #expect(tail.shape == [1, 4])
        #expect(try tail.floats() == [8, 9, 10, 11])
        #expect(try tail.sha256() == "9018a530b069da036c365420137e9f730dd2ac24a6782f636df999111f3ced54")
        let bias = try archive.tensor(named: "bias")
        #expect(bias.dtype == .float64)
        #expect(try bias.sha256() == "463f89ccdd9ec40cfeb62ae05b4459a059b2ae502d2b5522a0bcc44d556e8b28")
        // weight, column, transposed and tail view one storage: their sources start at the same place or inside it.
        guard case .mapped(_, let weightOffset, let weightCount) = try archive.tensor(named: "weight").source,
              case .mapped(_, let tailOffset, _) = tail.source else {
            Issue.record("legacy tensors should be views of the mapped file")
            return
        }
        #expect(weightCount == 48)
        #expect(tailOffset == weightOffset + 32)
    }

    @Test(arguments: ["whole_module.pt", "whole_module_legacy.pt"])
    func wholeModuleIsRefused(_ file: String) throws {
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(TorchFixture.path(file)) }
        #expect(error.exitCode == 65)
        #expect(error.message.contains("torch.nn.modules.container.Sequential"))
        #expect(error.message.contains("state_dict()"))
    }

    @Test(arguments: [("malicious.pt", "posix.system"), ("malicious_eval.pt", "builtins.eval")])
    func maliciousPicklesAreRefused(file: String, global: String) throws {
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(TorchFixture.path(file)) }
        #expect(error.exitCode == 65)
        #expect(error.message.contains("'\(global)'"))
        #expect(error.message.contains("nothing was executed"))
    }

    // MARK: Damaged archives

    typealias Members = [(String, [UInt8])]

    static let damages: [(String, @Sendable (inout Members) -> Void, String)] = [
        ("storage member shorter than declared", { members in
            if let index = members.firstIndex(where: { $0.0 == "state_dict/data/0" }) { members[index].1.removeSubrange(8...) }
        }, "truncated"),
        ("storage member missing", { members in members.removeAll { $0.0 == "state_dict/data/1" } }, "state_dict/data/1"),
        ("data.pkl cut in half", { members in
            if let index = members.firstIndex(where: { $0.0.hasSuffix("data.pkl") }) { members[index].1.removeSubrange((members[index].1.count / 2)...) }
        }, "truncated"),
        ("unknown opcode in data.pkl", { members in
            if let index = members.firstIndex(where: { $0.0.hasSuffix("data.pkl") }) { members[index].1[2] = 0xFF }
        }, "in 'state_dict/data.pkl' at offset 2"),
        ("byteorder neither little nor big", { members in
            if let index = members.firstIndex(where: { $0.0.hasSuffix("byteorder") }) { members[index].1 = Array("middle".utf8) }
        }, "\"little\" or \"big\""),
    ]

    @Test(arguments: 0..<damages.count)
    func damagedArchivesFailWithTypedErrors(_ index: Int) throws {
        let (name, damage, mention) = Self.damages[index]
        var members = try TorchFixture.members("state_dict.pt")
        damage(&members)
        let path = try TorchFixture.writeZip(members)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: FormatError.self, "\(name)") {
            let archive = try TensorArchive.open(path)
            for tensor in archive.tensors { _ = try tensor.sha256() }
        }
        #expect(error.exitCode == 65, "\(name)")
        #expect(error.message.contains(mention), "\(name): \(error.message)")
    }

    @Test func storageSmallerThanTheViewIsRefused() throws {
        // views.pt: 'grid' and its views share storage 0 (12 floats). Keep 40 of its 48 bytes
        // and shrink the declared size too: then the [3, 4] view reaches past the storage.
        var members = try TorchFixture.members("views.pt")
        let pickleIndex = try #require(members.firstIndex { $0.0.hasSuffix("data.pkl") })
        let storageIndex = try #require(members.firstIndex { $0.0.hasSuffix("data/0") })
        members[storageIndex].1.removeSubrange(40...)
        // The persistent id's size is BININT1 12 (4B 0C) right after 'cpu' (58 03 00 00 00 63 70 75 [71 xx]).
        var pickle = members[pickleIndex].1
        let cpu: [UInt8] = [0x63, 0x70, 0x75]
        var patched = false
        for start in 0..<(pickle.count - 6) where Array(pickle[start..<start + 3]) == cpu {
            for offset in (start + 3)..<(start + 6) where pickle[offset] == 0x4B && pickle[offset + 1] == 12 {
                pickle[offset + 1] = 10
                patched = true
                break
            }
        }
        try #require(patched)
        members[pickleIndex].1 = pickle
        let path = try TorchFixture.writeZip(members)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(path) }
        guard case .truncated(_, let needed, let available, _) = error.reason else {
            Issue.record("expected truncated, got \(error)")
            return
        }
        #expect(needed == 48)
        #expect(available == 40)
    }

    @Test func deflatedStoragesAreInflatedOnRead() throws {
        let members = try TorchFixture.members("state_dict.pt")
        let path = try TorchFixture.writeZip(members, deflate: Set(members.map(\.0)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try TensorArchive.open(path)
        for (name, _, digest) in TorchFixture.stateDict {
            #expect(try archive.tensor(named: name).sha256() == digest)
        }
    }

    @Test(arguments: [10, 100, 400, 700, 785])
    func truncatedLegacyFilesFail(keep: Int) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: TorchFixture.path("legacy.pt")))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-legacy-\(UUID().uuidString).pt").path
        try bytes.prefix(keep).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: FormatError.self) {
            let archive = try TensorArchive.open(path)
            for tensor in archive.tensors { _ = try tensor.sha256() }
        }
        #expect(error.exitCode == 65)
    }

    @Test func formatIsDetectedByContentNotName() throws {
        // A torch zip named .npz is still read as PyTorch; an .npz is not mistaken for one.
        let members = try TorchFixture.members("state_dict.pt")
        let path = try TorchFixture.writeZip(members)
        let renamed = path.replacingOccurrences(of: ".pt", with: ".npz")
        try FileManager.default.moveItem(atPath: path, toPath: renamed)
        defer { try? FileManager.default.removeItem(atPath: renamed) }
        #expect(try TensorArchive.open(renamed).format == .pytorch)
    }
}
