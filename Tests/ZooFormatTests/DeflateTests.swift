import Foundation
import Testing
@testable import ZooFormat

/// Whole-member inflation (libdeflate) against zlib-written streams and the fixtures.
@Suite struct DeflateTests {
    @Test("every member of the compressed fixtures inflates to the stored fixture's bytes")
    func fixturesInflateToTheStoredBytes() throws {
        for (storedName, compressedName) in [("npz_savez.npz", "npz_savez_compressed.npz")] {
            let stored = try Fixtures.open(storedName)
            let compressed = try Fixtures.open(compressedName)
            for (a, b) in zip(stored.tensors, compressed.tensors) {
                #expect(a.name == b.name)
                #expect(try a.sha256() == b.sha256(), "\(compressedName) \(b.name)")
                #expect(try a.canonicalBytes().withUnsafeBytes { Array($0) } == b.canonicalBytes().withUnsafeBytes { Array($0) })
            }
        }
    }

    @Test("zlib-deflated data of several sizes and levels round-trips with its CRC-32", arguments: [0, 1, 1000, 65_537, 3_000_000])
    func roundTrip(_ count: Int) throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let data = (0..<count).map { index -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return index % 7 == 0 ? UInt8(truncatingIfNeeded: state >> 56) : UInt8(index % 13)
        }
        let crc = zlibCRC32(data)
        #expect(data.withUnsafeBytes { Deflate.crc32($0) } == crc)
        for level: Int32 in [1, 6, 9] {
            let stream = try data.withUnsafeBytes { try Deflate.deflate($0, level: level) }
            let inflated = try stream.withUnsafeBytes {
                try Deflate.inflate($0, outputCount: count, crc: crc, file: "t", member: "m")
            }
            #expect(inflated.withUnsafeBytes { Array($0) } == data)
        }
    }

    @Test func crcContinues() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = data.withUnsafeBytes { Deflate.crc32($0) }
        let first = data[..<4321].withUnsafeBytes { Deflate.crc32($0) }
        let both = data[4321...].withUnsafeBytes { Deflate.crc32($0, initial: first) }
        #expect(whole == both)
        #expect(whole == zlibCRC32(data))
    }
}
