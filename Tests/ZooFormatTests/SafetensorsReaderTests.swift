import Foundation
import Testing
@testable import ZooFormat

/// safetensors files written by `safetensors.numpy` and `safetensors.torch`.
@Suite struct SafetensorsReaderTests {
    @Test("every safetensors fixture reads as numpy/torch recorded it", arguments: Fixtures.files(.safetensors))
    func readsFixture(_ expected: ExpectedFile) throws {
        let archive = try TensorArchive.open(expected.path)
        try check(archive, against: expected)
        for tensor in archive.tensors {
            #expect(tensor.isCanonical, "\(tensor.name): safetensors data is C order, little-endian")
        }
    }

    @Test("__metadata__ becomes the archive's metadata, escapes decoded")
    func metadata() throws {
        let archive = try Fixtures.open("st_numpy.safetensors")
        #expect(archive.metadata["format"] == "np")
        #expect(archive.metadata["quote"] == "a \"b\" \\ c/\u{e9}")
        #expect(archive.tensors.allSatisfy { $0.name != "__metadata__" })
    }

    @Test("tensors are listed in data order, as views of the mapped file")
    func dataOrder() throws {
        let archive = try Fixtures.open("st_numpy.safetensors")
        var previousEnd = -1
        for tensor in archive.tensors {
            guard case .mapped(_, let offset, let count) = tensor.source else {
                Issue.record("\(tensor.name) should be mapped")
                continue
            }
            #expect(offset >= previousEnd)
            previousEnd = offset + count
        }
        #expect(previousEnd == (try readBytes(Fixtures.path("st_numpy.safetensors")).count))
    }

    @Test("64-bit integers keep their exact values through doubles where representable")
    func integers() throws {
        let archive = try Fixtures.open("st_numpy.safetensors")
        let counts = try archive.tensor(named: "counts")
        #expect(try counts.doubles() == [0, 9_223_372_036_854_775_807, -9_223_372_036_854_775_808])
        let bytes = try counts.canonicalBytes().withUnsafeBytes { raw in (0..<3).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } }
        #expect(bytes == [0, .max, .min])
        let ulongs = try archive.tensor(named: "ulongs")
        #expect(try ulongs.floats() == [Float(UInt64.max), 9])
    }

    @Test("bfloat16 and float16 from torch")
    func torchTypes() throws {
        let archive = try Fixtures.open("st_torch.safetensors")
        let norm = try archive.tensor(named: "norm.weight")
        #expect(norm.dtype == .bfloat16)
        let values = try norm.floats()
        #expect(values[0] == 1)
        #expect(values[1] == 0 && values[1].sign == .minus)
        #expect(values[4] == .infinity)
        #expect(values[5].isNaN)
        #expect(try archive.tensor(named: "proj.weight").dtype == .float16)
        let statistics = try #require(try TensorStatistics(norm))
        #expect(statistics.mean.isNaN, "NaN anywhere makes every statistic NaN, as in NumPy")
    }

    @Test("an F8_E4M3 tensor is listed as float8_e4m3fn; only its conversion fails")
    func float8() throws {
        let archive = try Fixtures.open("st_fp8.safetensors")
        let w8 = try archive.tensor(named: "w8")
        #expect(w8.dtype.name == "float8_e4m3fn")
        #expect(w8.dtype.byteCount == 1)
        #expect(w8.shape == [2, 3])
        // torch's float8_e4m3fn bits of 0, 1, -2, 448, 2^-6, -0.5.
        #expect(try w8.canonicalBytes().copied() == [0x00, 0x38, 0xC0, 0x7E, 0x08, 0xB0])
        let error = #expect(throws: FormatError.self) { try w8.floats() }
        #expect(error?.reason == .unsupportedDType(tensor: "w8", dtype: "float8_e4m3fn"))
        #expect(error?.description.contains("st_fp8.safetensors: tensor 'w8': unsupported dtype float8_e4m3fn") == true)
        #expect(throws: FormatError.self) { try w8.cast(to: .float32) }
        #expect(try archive.tensor(named: "scale").floats() == [0.5, 2])
    }

    @Test("empty and 0-d tensors", arguments: [("empty", [0, 4], 0), ("scalar", [], 1)] as [(String, [Int], Int)])
    func edgeShapes(_ name: String, _ shape: [Int], _ count: Int) throws {
        let tensor = try Fixtures.open("st_numpy.safetensors").tensor(named: name)
        #expect(tensor.shape == shape)
        #expect(tensor.elementCount == count)
        #expect(try tensor.floats().count == count)
    }

    @Test("a header padded with spaces, an empty data section, and no tensors")
    func handBuilt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let noTensors = try directory.write(safetensorsBytes(#"{"__metadata__":{"a":"b"}}   "#, data: []), to: "none.safetensors")
        let archive = try TensorArchive.open(noTensors)
        #expect(archive.tensors.isEmpty)
        #expect(archive.metadata == ["a": "b"])
        let header = #"{"x":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}}"#
        let path = try directory.write(safetensorsBytes(header, data: [0xFF, 0x7F, 0x00, 0x80]), to: "x.safetensors")
        #expect(try TensorArchive.open(path).tensors[0].floats() == [32767, -32768])
    }
}

/// 8-byte little-endian header length, the header, the data.
func safetensorsBytes(_ header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    let json = Array(header.utf8)
    return le64(declaredLength ?? UInt64(json.count)) + json + data
}
