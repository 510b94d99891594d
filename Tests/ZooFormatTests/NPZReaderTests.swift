import Foundation
import Testing
@testable import ZooFormat

/// `.npz` archives: `np.savez`, `np.savez_compressed`, zips with data
/// descriptors and with ZIP64 records.
@Suite struct NPZReaderTests {
    @Test("every .npz fixture reads as numpy recorded it", arguments: Fixtures.files(.npz))
    func readsFixture(_ expected: ExpectedFile) throws {
        let archive = try TensorArchive.open(expected.path)
        try check(archive, against: expected)
    }

    @Test("member names keep their '/': hidden1/kernel.npy → hidden1/kernel")
    func slashNames() throws {
        let archive = try Fixtures.open("npz_savez.npz")
        #expect(archive.tensors.map(\.name) == ["hidden1/kernel", "hidden1/bias", "step", "mask"])
        let kernel = try archive.tensor(named: "hidden1/kernel")
        #expect(kernel.path == "hidden1/kernel.npy")
        #expect(kernel.shape == [4, 3])
        let error = #expect(throws: FormatError.self) { try archive.tensor(named: "hidden1/kernal") }
        #expect(error?.reason == .noSuchTensor(name: "hidden1/kernal", hint: "hidden1/kernel"))
    }

    @Test("stored members are views into the file; deflated members are inflated on read")
    func sources() throws {
        let stored = try Fixtures.open("npz_savez.npz")
        for tensor in stored.tensors {
            guard case .mapped = tensor.source else {
                Issue.record("\(tensor.name) of a stored archive should be mapped")
                continue
            }
        }
        let deflated = try Fixtures.open("npz_savez_compressed.npz")
        for tensor in deflated.tensors {
            guard case .loader = tensor.source else {
                Issue.record("\(tensor.name) of a deflated archive should be loaded")
                continue
            }
        }
        for (a, b) in zip(stored.tensors, deflated.tensors) {
            #expect(try a.sha256() == b.sha256())
        }
    }

    @Test("compressed and stored archives of the same arrays agree")
    func compressedMatchesStored() throws {
        let stored = try Fixtures.open("npz_savez.npz")
        let compressed = try Fixtures.open("npz_savez_compressed.npz")
        #expect(stored.tensors.map(\.name) == compressed.tensors.map(\.name))
        for (a, b) in zip(stored.tensors, compressed.tensors) {
            #expect(try a.floats() == b.floats())
            #expect(a.dtype == b.dtype)
        }
    }

    @Test("a zip written to a non-seekable stream (flag bit 3, data descriptors)")
    func dataDescriptors() throws {
        let bytes = try readBytes(Fixtures.path("npz_descriptor.npz"))
        let flags = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
        #expect(flags & 0x08 != 0)
        // Sizes in the local header are zero; the reader must take them from the central directory.
        #expect(bytes[18..<26].allSatisfy { $0 == 0 })
        let archive = try Fixtures.open("npz_descriptor.npz")
        #expect(archive.tensors.map(\.name) == ["hidden1/kernel", "hidden1/bias"])
        let reference = try Fixtures.open("npz_savez.npz")
        for tensor in archive.tensors {
            #expect(try tensor.floats() == reference.tensor(named: tensor.name).floats())
        }
    }

    @Test("ZIP64 records: local extras (force_zip64) and a full zip64 directory", arguments: ["npz_zip64.npz", "npz_zip64_full.npz"])
    func zip64(_ name: String) throws {
        let archive = try Fixtures.open(name)
        let reference = try Fixtures.open("npz_savez.npz")
        for tensor in archive.tensors {
            #expect(try tensor.sha256() == reference.tensor(named: tensor.name).sha256())
        }
        let file = try MappedFile(path: Fixtures.path(name))
        let directory = try withExtendedLifetime(file) { try ZipDirectory(ByteReader(file.bytes, file: name)) }
        #expect(directory.entries.count == 2)
        #expect(directory.entries.map(\.method) == (name == "npz_zip64.npz" ? [.stored, .deflated] : [.stored, .stored]))
    }

    @Test("a zip without .npy members is not an .npz")
    func zipWithoutArrays() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("notes.npz")
        try makeZip(members: [("readme.txt", Array("hello".utf8))], at: path)
        let error = #expect(throws: FormatError.self) { try TensorArchive.open(path) }
        guard case .malformed(_, let expected, let found)? = error?.reason else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(expected == "a .npz archive with .npy members")
        #expect(found.contains("readme.txt"))
    }

    @Test("other members are skipped and listed in metadata")
    func skippedMembers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("mixed.npz")
        let npy = try readBytes(Fixtures.path("npy_v1.npy"))
        try makeZip(members: [("w.npy", npy), ("dir/", []), ("notes.txt", [1, 2])], at: path)
        let archive = try TensorArchive.open(path)
        #expect(archive.tensors.map(\.name) == ["w"])
        #expect(archive.metadata == ["skipped_members": "notes.txt"])
    }

    @Test("a deflated member with a version 1.0 header longer than 4 KiB", arguments: [UInt8(1), 2])
    func longHeaderInDeflatedMember(_ version: UInt8) throws {
        // NumPy reads v1.0 headers up to 65535 bytes (np.load allows 10000 by default).
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }"
        let preamble = version == 1 ? 10 : 12
        let headerLength = 8192 - preamble
        var npy: [UInt8] = NPYHeader.magic + [version, 0]
        npy += version == 1 ? le16(UInt16(headerLength)) : le32(UInt32(headerLength))
        npy += Array(dict.utf8) + [UInt8](repeating: 0x20, count: headerLength - dict.utf8.count - 1) + [0x0A]
        npy += floatBytes([0, 1, 2, 3, 4, 5])
        let deflated = npy.withUnsafeBytes { try! Deflate.deflate($0) }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (name, member) in [
            ("stored.npz", ZipMember(name: "w.npy", data: npy)),
            ("deflated.npz", ZipMember(name: "w.npy", data: npy, stored: deflated, method: 8)),
        ] {
            let path = try directory.write(zipBytes([member]), to: name)
            let tensor = try TensorArchive.open(path).tensors[0]
            #expect(try tensor.floats() == [0, 1, 2, 3, 4, 5], "\(name)")
        }
    }

    @Test("an archive comment after the end record is skipped over")
    func archiveComment() throws {
        var bytes = zipBytes([ZipMember(name: "w.npy", data: try readBytes(Fixtures.path("npy_v1.npy")))])
        let comment = Array("made by hand; PK\u{5} is not a signature".utf8)
        bytes.replaceSubrange(bytes.count - 2..<bytes.count, with: le16(UInt16(comment.count)))
        bytes += comment
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let archive = try TensorArchive.open(try directory.write(bytes, to: "comment.npz"))
        #expect(try archive.tensors[0].floats() == (0..<12).map { Float($0) / 4 })
    }

    @Test("two members with the same tensor name are refused")
    func duplicateMembers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("dup.npz")
        let npy = try readBytes(Fixtures.path("npy_v1.npy"))
        try makeZip(members: [("w.npy", npy), ("w.npy", npy)], at: path)
        let error = #expect(throws: FormatError.self) { try TensorArchive.open(path) }
        #expect(error?.reason == .duplicateName("w"))
    }
}

/// A stored zip of `members` built by hand, for archives Zoo's own writer would not produce.
func makeZip(members: [(String, [UInt8])], at path: String) throws {
    try Data(zipBytes(members.map { ZipMember(name: $0.0, data: $0.1) })).write(to: URL(fileURLWithPath: path))
}
