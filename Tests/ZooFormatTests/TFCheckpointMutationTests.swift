import Foundation
import Testing
@testable import ZooFormat

/// Every single-byte corruption and every truncation of a real TensorFlow index
/// either reads or fails with a `FormatError`; nothing traps.
@Suite struct TFCheckpointMutationTests {
    @Test(arguments: ["v1/model.ckpt.index", "partitioned/model.ckpt.index", "sharded/ckpt-1.index"])
    func everyIndexByteFlippedAndEveryTruncation(_ name: String) throws {
        let fixture = String(name.split(separator: "/")[0])
        let file = String(name.split(separator: "/")[1])
        let copy = try TFFixture.copy(fixture)
        defer { try? FileManager.default.removeItem(at: copy) }
        let url = copy.appendingPathComponent(file)
        let original = [UInt8](try Data(contentsOf: url))
        func survives(_ bytes: [UInt8]) throws {
            try Data(bytes).write(to: url)
            do {
                let archive = try TensorArchive.open(url.path)
                for tensor in archive.tensors { _ = try tensor.canonicalBytes() }
            } catch is FormatError {
            }
        }
        for index in original.indices {
            var flipped = original
            flipped[index] ^= 0xFF
            try survives(flipped)
            var bit = original
            bit[index] ^= 0x01
            try survives(bit)
            try survives(Array(original[..<index]))
        }
    }

    @Test func indexBlocksWithoutCRCCheckStillParseSafely() throws {
        // Straight into the block parser (behind the CRC), every byte of every block flipped.
        let file = try MappedFile(path: TFFixture.path("v1/model.ckpt.index"))
        let contents = Array(file.bytes[0..<(file.count - 48)])
        for index in contents.indices {
            var mutated = contents
            mutated[index] ^= 0xFF
            do {
                for entry in try SSTable.parseBlock(mutated, file: "t", what: "block") {
                    _ = try? entry.value.withUnsafeBytes { try TFBundleEntry($0, file: "t", key: "k") }
                }
            } catch is FormatError {
            }
        }
    }
}
