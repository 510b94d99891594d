import Foundation
import Testing
import ZooFormat

/// Values from Tests/Fixtures/idx/make_fixtures.py (numpy 2.4).
@Suite struct IDXReaderTests {
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/idx/" + name).path
    }

    @Test func gzippedImages() throws {
        let archive = try TensorArchive.open(Self.path("images-idx3-ubyte.gz"))
        #expect(archive.format == .idx)
        let images = try #require(archive.tensors.first)
        #expect(images.name == "images-idx3-ubyte")
        #expect(images.dtype == .uint8 && images.shape == [4, 3, 2])
        #expect(try images.sha256() == "bfec58dff11bcb3e986810723173ef856e231371c0e23268f6adcbca71fb4304")
        #expect(try images.floats() == [
            248, 194, 190, 207, 147, 26, 237, 21, 245, 211, 239, 45, 5, 157, 159, 60, 54, 236, 109, 46, 199, 82, 32, 205,
        ].map(Float.init))
    }

    @Test func plainLabelsAndWiderTypes() throws {
        #expect(try TensorArchive.open(Self.path("labels-idx1-ubyte")).tensors[0].floats() == [3, 0, 9, 5])
        let int16 = try TensorArchive.open(Self.path("int16-idx2")).tensors[0]
        #expect(int16.dtype == .int16 && int16.byteOrder == .big && int16.shape == [2, 2])
        #expect(try int16.floats() == [-300, 2, 7, 32000])
        #expect(try TensorArchive.open(Self.path("float64-idx1")).tensors[0].doubles() == [1.5, -0.25])
    }

    @Test func corruptGzipTrailer() throws {
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(Self.path("bad-crc.gz")) }
        guard case .malformed(_, _, let found) = error.reason else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(found == "incorrect data check")  // zlib checks the gzip trailer's CRC-32
        #expect(error.exitCode == 65)
    }
}
