import Testing
import ZooFormat

/// `TensorStatistics` against NumPy's min/max/mean/std of `a.astype(float64)`,
/// and the `inspect --json` object built from it.
@Suite struct StatisticsTests {
    static let withStatistics: [ExpectedFile] = FixtureExpectations.files.filter { file in
        file.tensors.contains { $0.statistics != nil }
    }

    @Test("statistics match numpy", arguments: withStatistics)
    func matchesNumPy(_ expected: ExpectedFile) throws {
        let archive = try TensorArchive.open(expected.path)
        for (tensor, want) in zip(archive.tensors, expected.tensors) {
            guard let bits = want.statistics else {
                if tensor.dtype.isNumeric { #expect(try TensorStatistics(tensor) == nil, "\(want.name) is empty") }
                continue
            }
            let statistics = try #require(try TensorStatistics(tensor))
            let got = [statistics.minimum, statistics.maximum, statistics.mean, statistics.standardDeviation]
            let reference = bits.map { Double(bitPattern: $0) }
            for (label, (value, wanted)) in zip(["min", "max", "mean", "std"], zip(got, reference)) {
                #expect(close(value, wanted), "\(want.name) \(label): \(value) vs numpy \(wanted)")
            }
        }
    }

    /// Equal, both NaN, or within a relative 1e-12 (NumPy sums pairwise, Zoo in order).
    func close(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a == b { return true }
        return abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    }

    @Test("inspect JSON lists every tensor with digest and statistics")
    func inspectJSON() throws {
        let expected = Fixtures.expected("st_fp8.safetensors")
        let archive = try TensorArchive.open(expected.path)
        let json = try archive.inspectJSON(InspectOptions(checksums: true, statistics: true))
        #expect(json["format"] == .string("safetensors"))
        #expect(json["tensor_count"] == .number("2"))
        #expect(json["parameters"] == .number("8"))
        #expect(json["total_bytes"] == .number("14"))
        let tensors = try #require(json["tensors"]?.arrayValue)
        #expect(tensors.map { $0["name"]?.stringValue } == ["scale", "w8"])
        #expect(tensors.map { $0["sha256"]?.stringValue } == expected.tensors.map(\.sha256))
        #expect(tensors[0]["mean"] == .number("1.25"))
        #expect(tensors[1]["dtype"] == .string("float8_e4m3fn"))
        #expect(tensors[1]["mean"] == nil, "no statistics for a dtype Zoo cannot convert")
        #expect(try JSONParser.parse(json.prettyText) == json)
    }
}
