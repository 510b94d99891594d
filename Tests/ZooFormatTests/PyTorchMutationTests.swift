import Foundation
import Testing
@testable import ZooFormat

/// Every single-byte corruption and every truncation of real PyTorch files either
/// reads or fails with a `FormatError`: nothing traps, nothing runs.
@Suite struct PyTorchMutationTests {
    /// Opens `bytes` as a file and reads every tensor; returns whether it failed with a FormatError.
    static func survives(_ bytes: [UInt8], at path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let archive = try TensorArchive.open(path)
            for tensor in archive.tensors { _ = try tensor.canonicalBytes() }
        } catch is FormatError {
        }
    }

    @Test(arguments: ["legacy.pt", "state_dict.pt"])
    func everyByteFlippedAndEveryTruncation(_ name: String) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TorchFixture.path(name))))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-mutate-\(UUID().uuidString)-\(name)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for index in original.indices {
            var flipped = original
            flipped[index] ^= 0xFF
            try Self.survives(flipped, at: path)
            if name == "legacy.pt" {
                var bit = original
                bit[index] ^= 0x01
                try Self.survives(bit, at: path)
            }
            try Self.survives(Array(original[..<index]), at: path)
        }
    }

    @Test func everyPickleByteOfAStateDict() throws {
        // In memory, straight through the pickle machine and the flattener, each byte set to each opcode-ish value.
        let members = try TorchFixture.members("state_dict.pt")
        let pickle = try #require(members.first { $0.0.hasSuffix("data.pkl") }).1
        for index in pickle.indices {
            for value: UInt8 in [0x00, 0x28, 0x2E, 0x51, 0x52, 0x74, 0x94, 0xFF] {
                var mutated = pickle
                mutated[index] = value
                do {
                    _ = try PyTorchPickleTests.flatten(mutated)
                } catch is FormatError {
                }
            }
        }
    }
}
