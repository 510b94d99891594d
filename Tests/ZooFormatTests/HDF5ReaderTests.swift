import Foundation
import Testing
import ZooFormat

@Suite struct HDF5ReaderTests {
    /// h5py writes the same datasets with `libver="earliest"` and `"latest"`.
    @Test(arguments: ["plain_earliest.h5", "plain_latest.h5"])
    func plainDatasets(file: String) throws {
        let archive = try KerasFixtures.open(file)
        #expect(archive.format == .hdf5)
        #expect(archive.metadata["title"] == "plain fixture")
        #expect(archive.metadata["version"] == "3")
        let tensors = Dictionary(archive.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let kernel = try #require(tensors["dense/kernel"])
        #expect(kernel.shape == [5, 4])
        #expect(try kernel.sha256() == "85fc2d5270af8fe1a057671a9cab5be114fe713f77ac1048c0c38f9b19a06927")
        // A soft link reads as the dataset it points to.
        #expect(try tensors["alias"]?.sha256() == "85fc2d5270af8fe1a057671a9cab5be114fe713f77ac1048c0c38f9b19a06927")
        // Chunked; deflate + shuffle + fletcher32; compact; big-endian; scalar; empty.
        #expect(try tensors["chunked"]?.floats() == (0..<24).map(Float.init))
        #expect(tensors["chunked"]?.dtype == .int32)
        let gzip = try #require(tensors["gzip"])
        #expect(gzip.dtype == .float64 && gzip.shape == [5, 10])
        #expect(try gzip.doubles().enumerated().allSatisfy { abs($0.element - Double($0.offset) / 49) < 1e-15 })  // np.linspace(0, 1, 50)
        #expect(try tensors["compact"]?.floats() == [-7, 0, 7])
        #expect(try tensors["big_endian"]?.doubles() == [1.5, -2.25, 1e300])
        #expect(tensors["scalar"]?.shape == [])
        #expect(try tensors["scalar"]?.floats() == [2.5])
        #expect(tensors["empty"]?.shape == [0, 3])
        #expect(try tensors["half"]?.floats() == [0.5, -1.0, 65504.0])
        #expect(try tensors["uint64"]?.doubles() == [0, 9_223_372_036_854_775_813])
        // Not tensors: listed as skipped with the reason, never fatal.
        let skipped = Dictionary(uniqueKeysWithValues: archive.skipped.map { ($0.path, $0.reason) })
        #expect(skipped["/text"] == "variable-length strings")
        #expect(skipped["/fixed_text"] == "fixed-length strings")
        #expect(skipped["/ref"] == "object references")
        #expect(skipped["/dangling"] == "a dangling soft link")
        #expect(skipped["/outside"] == "an external link (to another file) is not followed")
        #expect(skipped["/record"] != nil)
    }

    @Test func boolsFromTheEarliestFormat() throws {
        let archive = try KerasFixtures.open("plain_earliest.h5")
        let flags = try archive.tensor(named: "flags")
        #expect(flags.dtype == .bool)
        #expect(try flags.floats() == [1, 0, 1])
    }

    @Test func contiguousDatasetsAreViewsOfTheMappedFile() throws {
        let archive = try KerasFixtures.open("seed_k2_weights.h5")
        for tensor in archive.tensors {
            guard case .mapped = tensor.source else {
                Issue.record("\(tensor.name) is not a zero-copy view")
                continue
            }
        }
    }

    @Test(arguments: [
        ("bad_superblock.h5", "bad superblock version number"),
        ("truncated.h5", "truncated file"),
    ])
    func malformedFiles(file: String, stackExcerpt: String) throws {
        let error = try #require(throws: FormatError.self) { try KerasFixtures.open(file) }
        #expect(error.exitCode == 65)
        guard case .library(let location, let message) = error.reason else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(location == .offset(0))
        #expect(message.contains("H5Fopen failed"))
        #expect(message.contains(stackExcerpt))
        #expect(error.description.hasPrefix(KerasFixtures.path(file) + ": cannot read at offset 0: H5Fopen failed ("))
    }

    /// A contiguous dataset whose storage runs past the end of the file.
    @Test func datasetStoragePastTheEnd() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let original = try Data(contentsOf: URL(fileURLWithPath: KerasFixtures.path("seed_k2_weights.h5")))
        // HDF5 checks the end-of-file address in the superblock first; keep it consistent by
        // truncating only the last bytes, which belong to the last dataset written.
        let cut = try directory.write(Array(original.prefix(original.count - 8)), to: "cut.h5")
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(cut) }
        #expect(error.exitCode == 65)
    }
}
