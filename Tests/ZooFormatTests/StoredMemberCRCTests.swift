import Foundation
import Testing
@testable import ZooFormat

/// Stored zip members are read in place, so their CRC-32 is checked at the first read of
/// their bytes (numpy: `BadZipFile: Bad CRC-32`): damaged copies of peer-made archives and of
/// hand-built ones must fail with the member's name and both CRCs, on every read path.
@Suite struct StoredMemberCRCTests {
    /// `bytes` with the byte at `offset` inverted.
    static func flipped(_ bytes: [UInt8], at offset: Int) -> [UInt8] {
        var copy = bytes
        copy[offset] ^= 0xFF
        return copy
    }

    /// The entry named `name` of the zip `bytes`.
    static func entry(_ name: String, in bytes: [UInt8]) throws -> ZipDirectory.Entry {
        try bytes.withUnsafeBytes { buffer in
            try #require(try ZipDirectory(ByteReader(buffer, file: "zip")).entries.first { $0.name == name })
        }
    }

    /// A stored .npz with a 100,000-element float32 member: large enough for the fused `pread` path.
    static let large: (bytes: [UInt8], values: [Float]) = {
        let values = (0..<100_000).map { Float($0) / 7 }
        let npy = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (100000,), }", data: floatBytes(values))
        return (zipBytes([ZipMember(name: "big.npy", data: npy), ZipMember(name: "small.npy", data: MalformedInputTests.validNPY)]), values)
    }()

    @Test("a damaged stored .npz member fails on every read path", arguments: ["floats", "storedBytes", "canonicalBytes", "sha256", "doubles"])
    func damagedLargeMember(readPath: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let member = try Self.entry("big.npy", in: Self.large.bytes)
        let damaged = Self.flipped(Self.large.bytes, at: member.dataOffset + 300_000)
        let path = try directory.write(damaged, to: "big.npz")
        let archive = try TensorArchive.open(path)  // opening reads headers only
        let tensor = try archive.tensor(named: "big")
        let expected = Deflate.crcText(member.crc32)
        let actual = damaged.withUnsafeBytes { Deflate.crcText(Deflate.crc32(UnsafeRawBufferPointer(rebasing: $0[member.dataOffset..<member.dataOffset + member.compressedSize]))) }
        for attempt in 1...2 {  // a failed member stays failed
            let error = try #require(throws: FormatError.self, "\(readPath), attempt \(attempt)") {
                switch readPath {
                case "floats": _ = try tensor.floats()
                case "storedBytes": _ = try tensor.storedBytes()
                case "canonicalBytes": _ = try tensor.canonicalBytes()
                case "sha256": _ = try tensor.sha256()
                default: _ = try tensor.doubles()
                }
            }
            #expect(error.reason == .checksumMismatch(at: .key("big.npy"), expected: expected, found: actual))
            #expect(error.description == "\(path): checksum mismatch at 'big.npy': expected \(expected), computed \(actual)")
            #expect(error.exitCode == 65)
        }
        // The other member is intact and reads.
        #expect(try archive.tensor(named: "small").floats() == [1.5, -2])
    }

    @Test func intactMembersAreVerifiedOnceByTheFusedRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(Self.large.bytes, to: "big.npz")
        let archive = try TensorArchive.open(path)
        let tensor = try archive.tensor(named: "big")
        guard case .mapped(let file, let offset, let count) = tensor.source else {
            Issue.record("a stored member should stay a zero-copy view")
            return
        }
        #expect(!file.storedMembers.isVerified(offset: offset, count: count))
        #expect(try tensor.floats() == Self.large.values)
        #expect(file.storedMembers.isVerified(offset: offset, count: count))
        #expect(try tensor.storedBytes().count == count)
    }

    /// The CRC covers the whole member: a damaged `.npy` header byte that still parses is caught too.
    @Test func damageInTheHeaderPaddingIsCaught() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let member = try Self.entry("big.npy", in: Self.large.bytes)
        // The header is padded with spaces before its final newline: one of them turned into a tab.
        var damaged = Self.large.bytes
        let newline = try #require((member.dataOffset..<member.dataOffset + 128).first { damaged[$0] == 0x0A })
        damaged[newline - 2] = 0x09
        let path = try directory.write(damaged, to: "pad.npz")
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(path).tensor(named: "big").floats() }
        guard case .checksumMismatch(.key("big.npy"), _, _) = error.reason else {
            Issue.record("expected a CRC mismatch, got \(error)")
            return
        }
    }

    /// `np.savez` output (numpy 2.4, Tests/Fixtures/arrays) with a data byte flipped.
    @Test func numpyArchiveWithAFlippedDataByte() throws {
        let original = try readBytes(Fixtures.path("npz_savez.npz"))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let archive = try TensorArchive.open(Fixtures.path("npz_savez.npz"))
        let name = try #require(archive.tensors.first?.name)
        let member = try Self.entry(name + ".npy", in: original)
        let path = try directory.write(Self.flipped(original, at: member.dataOffset + member.compressedSize - 1), to: "savez.npz")
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(path).tensor(named: name).floats() }
        #expect(error.description.contains("checksum mismatch at '\(name).npy': expected \(Deflate.crcText(member.crc32)), computed 0x"))
    }

    /// `torch.save` output (torch 2.15): a storage's bytes are a stored member.
    @Test func pytorchStorageWithAFlippedByte() throws {
        let original = try readBytes(TorchFixture.path("state_dict.pt"))
        let member = try Self.entry("state_dict/data/0", in: original)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(Self.flipped(original, at: member.dataOffset + 10), to: "state_dict.pt")
        let archive = try TensorArchive.open(path)
        let damaged = try #require(archive.tensors.first { $0.path == "state_dict/data/0" })
        let error = try #require(throws: FormatError.self) { try damaged.floats() }
        #expect(error.reason == .checksumMismatch(
            at: .key("state_dict/data/0"), expected: Deflate.crcText(member.crc32), found: error.reason.foundText))
        // Tensors of other storages still read.
        let other = try #require(archive.tensors.first { $0.path == "state_dict/data/1" })
        #expect(try other.floats().count == 6)
    }

    /// Keras 3 `model.save("m.keras")` stores model.weights.h5: a damaged byte fails the open.
    @Test func kerasArchiveWithADamagedWeightsMember() throws {
        let original = try readBytes(KerasFixtures.path("cnn_k3.keras"))
        let member = try Self.entry("model.weights.h5", in: original)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(Self.flipped(original, at: member.dataOffset + member.compressedSize - 100), to: "cnn.keras")
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(path) }
        guard case .checksumMismatch(.key("model.weights.h5"), let expected, _) = error.reason else {
            Issue.record("expected a CRC mismatch of model.weights.h5, got \(error)")
            return
        }
        #expect(expected == Deflate.crcText(member.crc32))
        #expect(error.file == path)
    }
}

extension FormatError.Reason {
    /// The computed value of a checksum mismatch (for comparing the rest exactly).
    var foundText: String {
        if case .checksumMismatch(_, _, let found) = self { return found }
        return ""
    }
}
