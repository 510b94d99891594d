import Foundation
import Testing
@testable import ZooFormat

/// Files from Tests/Fixtures/integrity/make_fixtures.py (h5py 3.16, hdf5plugin 7.1, numpy 2.4),
/// and the digests it printed (SHA-256 of the little-endian C-order bytes).
enum IntegrityFixtures {
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/integrity").path

    static func path(_ name: String) -> String { directory + "/" + name }

    /// `w` of every filters_*.h5: float32 [64, 32], ((arange(2048) // 16) / 4 - 8).
    static let filteredDigest = "16e68ec527b9fef436c826abdcabace5f32dcd5f4e74f3e0637f79c4cd9c9460"
    static let goodDigest = "7a3c06cfb2fbaf0c864167c11e30fda1f77447e3998d704800da475236c7d7d3"
    static let goodGzipDigest = "f382189881edb521feba3f0407968dd5f952231da59bb864050727242c4607b2"
    static let userblockKernelDigest = "82a1b9d5facc0a33d0f3dcf6ed5ee6574a6dc3a51f28041876379140602e6e18"
}

@Suite struct HDF5IntegrityTests {
    /// h5py's LZF and hdf5plugin's LZ4, bzip2 and Blosc, read through Debian's plugins.
    @Test(arguments: ["lzf", "lz4", "bzip2", "blosc"])
    func filtersFromDebianPlugins(_ filter: String) throws {
        let archive = try TensorArchive.open(IntegrityFixtures.path("filters_\(filter).h5"))
        #expect(archive.skipped.isEmpty, "\(archive.skipped)")
        let w = try archive.tensor(named: "w")
        #expect(w.shape == [64, 32])
        #expect(try w.sha256() == IntegrityFixtures.filteredDigest)
        #expect(try w.floats()[16] == -7.75)
    }

    /// Filters Debian has no plugin for here: skipped, naming the filter and where to get it.
    @Test(arguments: [
        ("bitshuffle", "compressed with Bitshuffle (filter id 32008), which libhdf5 cannot load: install the Debian package bitshuffle"),
        ("zstd", "compressed with Zstandard (filter id 32015), which libhdf5 cannot load: Debian ships no plugin for it"),
    ])
    func missingFilterIsSkippedWithItsPackage(_ filter: String, _ reason: String) throws {
        let path = IntegrityFixtures.path("filters_\(filter).h5")
        let archive = try TensorArchive.open(path)
        #expect(archive.tensors.map(\.name) == ["plain"])
        let skipped = try #require(archive.skipped.first)
        #expect(skipped.path == "/w")
        #expect(skipped.name == "w")
        #expect(skipped.reason.hasPrefix("filter missing: " + reason), "\(skipped.reason)")
        let error = try #require(throws: FormatError.self) { try archive.tensor(named: "w") }
        #expect(error.reason == .unreadableTensor(name: "w", path: "/w", reason: skipped.reason))
        #expect(error.exitCode == 65)
    }

    /// `h5py.File(..., userblock_size=N)`: the superblock at 512 or 2048, datasets still zero-copy views.
    @Test(arguments: [512, 2048])
    func userBlock(_ size: Int) throws {
        let archive = try TensorArchive.open(IntegrityFixtures.path("userblock_\(size).h5"))
        #expect(archive.format == .hdf5)
        let kernel = try archive.tensor(named: "kernel")
        #expect(try kernel.sha256() == IntegrityFixtures.userblockKernelDigest)
        guard case .mapped(_, let offset, _) = kernel.source else {
            Issue.record("the contiguous dataset should be a view of the mapped file")
            return
        }
        #expect(offset > size)
        #expect(try archive.tensor(named: "chunked").floats() == (0..<10).map(Float.init))
        #expect(try readBytes(IntegrityFixtures.path("userblock_\(size).h5")).starts(with: Array("Zoo test user block".utf8)))
    }

    @Test func superblockSearchFollowsTheSpec() {
        var bytes = [UInt8](repeating: 0, count: 5000)
        bytes.replaceSubrange(4096..<4104, with: HDF5Reader.signature)
        bytes.withUnsafeBytes { #expect(HDF5Reader.superblockOffset($0) == 4096) }
        bytes.replaceSubrange(4096..<4104, with: [UInt8](repeating: 0, count: 8))
        bytes.replaceSubrange(1000..<1008, with: HDF5Reader.signature)  // not a power of two × 512
        bytes.withUnsafeBytes { #expect(HDF5Reader.superblockOffset($0) == nil) }
    }

    /// One damaged dataset does not make the file unreadable: it is skipped (or fails when
    /// read), with the reason; the others read (h5py lists the file and fails on those datasets).
    @Test func partialReads() throws {
        let path = IntegrityFixtures.path("partial.h5")
        let archive = try TensorArchive.open(path)
        #expect(Set(archive.tensors.map(\.name)) == ["good", "good_gzip", "bad_fletcher", "bad_deflate"])
        let skipped = Dictionary(uniqueKeysWithValues: archive.skipped.map { ($0.path, $0.reason) })
        #expect(skipped["/missing_filter"]?.hasPrefix("filter missing: compressed with Zstandard") == true)
        #expect(skipped["/huge_extent"] == "storage smaller than the extent: shape [1048576, 1048576] float32 needs 4398046511104 bytes, the file stores 4096")
        #expect(try archive.tensor(named: "good").sha256() == IntegrityFixtures.goodDigest)
        #expect(try archive.tensor(named: "good_gzip").sha256() == IntegrityFixtures.goodGzipDigest)
        #expect(archive.tensors.first { $0.name == "bad_fletcher" }?.attributes["checksum"] == "fletcher32")

        let fletcher = try #require(throws: FormatError.self) { try archive.tensor(named: "bad_fletcher").floats() }
        #expect(fletcher.exitCode == 65)
        #expect(fletcher.description.hasPrefix(path + ": cannot read at '/bad_fletcher': H5Dread failed (H5Z__filter_fletcher32: data error detected by Fletcher32 checksum"))
        let deflate = try #require(throws: FormatError.self) { try archive.tensor(named: "bad_deflate").canonicalBytes() }
        #expect(deflate.description.contains("'/bad_deflate'"))

        // inspect reads what it can and lists the rest as skipped.
        let (inspected, unreadable) = try archive.inspect(InspectOptions(checksums: true))
        #expect(inspected.map(\.tensor.name) == ["good", "good_gzip"])
        #expect(Set(unreadable.map(\.path)) == ["/bad_fletcher", "/bad_deflate"])
        #expect(unreadable.allSatisfy { $0.reason.hasPrefix("cannot read at '") })
        let json = try archive.inspectJSON(InspectOptions(checksums: true))
        #expect(json["skipped"]?.arrayValue?.count == 4)
        #expect(json["tensor_count"] == .integer(2))
    }

    /// Every check the format carries, and every failure, in one report.
    @Test func verifyListsEveryDamagedDataset() throws {
        let report = try TensorArchive.verify(IntegrityFixtures.path("partial.h5"))
        #expect(!report.isValid)
        #expect(report.tensorsRead == 2)
        #expect(report.failures.count == 4)
        #expect(report.checks.contains("HDF5 fletcher32 of the chunks of 1 dataset (libhdf5, on read)"))
        let intact = try TensorArchive.verify(IntegrityFixtures.path("filters_lz4.h5"))
        #expect(intact.isValid && intact.tensorsRead == 2)
    }

    /// Files on which Debian's libhdf5 1.10.8 crashes in-process (mutations of peer-made files,
    /// recorded in make_fixtures.py): read in the helper process, each is a typed error. Where
    /// and whether libhdf5 crashes depends on its heap's layout (a use of freed or overrun
    /// memory): in this test runner one may instead fail with an error of its own, never here.
    @Test func libhdf5CrashesBecomeTypedErrors() throws {
        var crashes = 0
        for file in ["hdf5_crash_segv_attribute.h5", "hdf5_crash_segv_group.h5", "hdf5_crash_segv_dataset.h5"] {
            let path = IntegrityFixtures.path(file)
            let error = try #require(throws: FormatError.self, "\(file)") {
                let archive = try TensorArchive.open(path)
                for tensor in archive.tensors { _ = try tensor.canonicalBytes() }
            }
            #expect(error.exitCode == 65)
            switch error.reason {
            case .libraryFailed(let library, let at, let detail):
                crashes += 1
                #expect(library == "libhdf5 \(HDF5.versionText)")
                #expect(at.hasPrefix("/"))
                #expect(detail.contains("the helper process was killed by signal"), "\(detail)")
                #expect(error.description.hasPrefix("\(path): libhdf5 \(HDF5.versionText) failed on malformed input while reading '/"))
            case .library: break
            default: Issue.record("\(file): unexpected \(error)")
            }
            // The next file is read by a fresh helper.
            #expect(try TensorArchive.open(IntegrityFixtures.path("filters_lzf.h5")).tensor(named: "w").sha256() == IntegrityFixtures.filteredDigest)
        }
        #expect(crashes >= 1, "libhdf5 crashed on none of the fixtures: the helper was not exercised")
    }

    /// `gzip model.h5`: decompressed in memory, handed to the helper as an image, and its
    /// contiguous datasets are views of the decompressed bytes.
    @Test func gzippedHDF5() throws {
        let original = try readBytes(IntegrityFixtures.path("userblock_512.h5"))
        let raw = try original.withUnsafeBytes { try Deflate.deflate($0) }
        let crc = original.withUnsafeBytes { Deflate.crc32($0) }
        let gzip: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3] + raw + crc.littleEndianBytes + UInt32(original.count).littleEndianBytes
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let archive = try TensorArchive.open(try directory.write(gzip, to: "userblock.h5.gz"))
        #expect(try archive.tensor(named: "kernel").sha256() == IntegrityFixtures.userblockKernelDigest)
        #expect(try archive.tensor(named: "chunked").floats() == (0..<10).map(Float.init))
    }

    /// A file opened before the helper died is reopened in the next one when a chunked dataset is read.
    @Test func openArchivesSurviveAHelperCrash() throws {
        let archive = try TensorArchive.open(IntegrityFixtures.path("filters_blosc.h5"))
        _ = try? TensorArchive.open(IntegrityFixtures.path("hdf5_crash_segv_group.h5"))
        #expect(try archive.tensor(named: "w").sha256() == IntegrityFixtures.filteredDigest)
    }
}

/// Byte flips and truncations of h5py- and tf-keras-written files: each copy either reads or
/// fails with a `FormatError`; libhdf5 crashing on one (in its helper) never takes this
/// process down. The copies are fixed (a seeded generator), so the run is the same every time.
@Suite struct HDF5MutationTests {
    @Test(arguments: ["plain_latest.h5", "cnn_k2_model.h5"])
    func damagedCopiesNeverCrashTheReader(_ name: String) throws {
        let original = try readBytes(KerasFixtures.path(name))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = SplitMix(seed: 2026)
        var outcomes = (read: 0, refused: 0, libraryFailed: 0)
        for index in 0..<60 {
            var bytes = original
            if index % 10 == 9 {
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            } else {
                for _ in 0..<(1 + Int(generator.next() % 3)) {
                    let at = Int(generator.next() % UInt64(bytes.count))
                    bytes[at] = [0x00, 0xFF, bytes[at] ^ 0x10][Int(generator.next() % 3)]
                }
            }
            let path = try directory.write(bytes, to: "m\(index).h5")
            do {
                let archive = try TensorArchive.open(path)
                _ = try archive.inspect(InspectOptions(checksums: true))
                outcomes.read += 1
            } catch let error as FormatError {
                #expect(error.exitCode == 65 || error.exitCode == 66, "\(error)")
                #expect(error.description.hasPrefix(path))
                if case .libraryFailed = error.reason { outcomes.libraryFailed += 1 }
                outcomes.refused += 1
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(outcomes.read + outcomes.refused == 60)
        #expect(outcomes.refused > 0 && outcomes.read > 0, "\(outcomes)")
    }
}

/// A small deterministic generator (SplitMix64) for reproducible mutations.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
