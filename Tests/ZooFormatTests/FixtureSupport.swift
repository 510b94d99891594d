import Foundation
import Testing
import ZooFormat

/// What a fixture file must contain, as recorded by `make_fixtures.py` in
/// `FixtureExpectations.swift`.
struct ExpectedFile: Sendable, CustomTestStringConvertible {
    let file: String
    let format: TensorFileFormat
    let metadata: [String: String]
    let tensors: [ExpectedTensor]

    var testDescription: String { file }
    var path: String { Fixtures.path(file) }
}

struct Sample: Sendable {
    let index: Int
    let floatBits: UInt32
}

struct ExpectedTensor: Sendable {
    let name: String
    let dtype: String
    let shape: [Int]
    let sha256: String
    let byteCount: Int
    let byteOrder: ByteOrder
    let fortran: Bool
    let path: String?
    /// Every element as `Float` bits (small tensors), nil when not recorded or not convertible.
    let floatBits: [UInt32]?
    let doubleBits: [UInt64]?
    /// A few elements of a larger tensor.
    let samples: [Sample]
    /// NumPy's min, max, mean and std of `a.astype(float64)` as bits; nil for empty or opaque tensors.
    let statistics: [UInt64]?

    var isConvertible: Bool { floatBits != nil || !samples.isEmpty }
}

enum Fixtures {
    /// `Tests/Fixtures/arrays`, found from this source file.
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/arrays").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func expected(_ file: String) -> ExpectedFile {
        guard let found = FixtureExpectations.files.first(where: { $0.file == file }) else {
            fatalError("no expectations recorded for \(file); rerun make_fixtures.py")
        }
        return found
    }

    static func files(_ format: TensorFileFormat) -> [ExpectedFile] {
        FixtureExpectations.files.filter { $0.format == format }
    }

    static func open(_ name: String) throws -> TensorArchive {
        try TensorArchive.open(path(name))
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-format-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` in the directory and returns its path.
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Checks everything recorded about one tensor against what Zoo reads.
func check(_ tensor: StoredTensor, against expected: ExpectedTensor, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(tensor.name == expected.name, sourceLocation: sourceLocation)
    #expect(tensor.dtype.name == expected.dtype, "\(expected.name)", sourceLocation: sourceLocation)
    #expect(tensor.shape == expected.shape, "\(expected.name)", sourceLocation: sourceLocation)
    #expect(tensor.byteCount == expected.byteCount, "\(expected.name)", sourceLocation: sourceLocation)
    #expect(try tensor.sha256() == expected.sha256, "\(expected.name)", sourceLocation: sourceLocation)
    #expect(try tensor.canonicalBytes().count == expected.byteCount, sourceLocation: sourceLocation)
    if let path = expected.path { #expect(tensor.path == path, sourceLocation: sourceLocation) }
    guard expected.isConvertible else {
        let error = #expect(throws: FormatError.self, sourceLocation: sourceLocation) { try tensor.floats() }
        #expect(error?.reason == .unsupportedDType(tensor: expected.name, dtype: expected.dtype), sourceLocation: sourceLocation)
        #expect(throws: FormatError.self, sourceLocation: sourceLocation) { try tensor.doubles() }
        return
    }
    let floats = try tensor.floats()
    #expect(floats.count == expected.shape.reduce(1, *), sourceLocation: sourceLocation)
    if let bits = expected.floatBits {
        #expect(sameBits(floats, bits), "\(expected.name): \(floats) vs \(bits.map { Float(bitPattern: $0) })", sourceLocation: sourceLocation)
    }
    if let bits = expected.doubleBits {
        let doubles = try tensor.doubles()
        let matches = doubles.count == bits.count
            && zip(doubles, bits).allSatisfy { $0.bitPattern == $1 || ($0.isNaN && Double(bitPattern: $1).isNaN) }
        #expect(matches, "\(expected.name): \(doubles) vs \(bits.map { Double(bitPattern: $0) })", sourceLocation: sourceLocation)
    }
    for sample in expected.samples {
        #expect(floats[sample.index].bitPattern == sample.floatBits, "\(expected.name)[\(sample.index)]", sourceLocation: sourceLocation)
    }
}

/// Equal bit patterns, any NaN matching any NaN.
func sameBits(_ values: [Float], _ bits: [UInt32]) -> Bool {
    values.count == bits.count
        && zip(values, bits).allSatisfy { $0.bitPattern == $1 || ($0.isNaN && Float(bitPattern: $1).isNaN) }
}

func check(_ archive: TensorArchive, against expected: ExpectedFile, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(archive.format == expected.format, sourceLocation: sourceLocation)
    #expect(archive.tensors.map(\.name) == expected.tensors.map(\.name), sourceLocation: sourceLocation)
    #expect(archive.metadata == expected.metadata, sourceLocation: sourceLocation)
    for (tensor, want) in zip(archive.tensors, expected.tensors) {
        try check(tensor, against: want, sourceLocation: sourceLocation)
    }
}

// MARK: - Hand-built zips

/// One member of a hand-built zip; every field can be made to lie.
struct ZipMember {
    var name: String
    /// The uncompressed content (for the default CRC and size).
    var data: [UInt8]
    /// The bytes actually stored (defaults to `data`).
    var stored: [UInt8]? = nil
    var method: UInt16 = 0
    var crc: UInt32? = nil
    var uncompressedSize: UInt32? = nil
}

/// Local headers and data, then the central directory and the end record:
/// the simplest layout (no ZIP64, no descriptors), all sizes in the central directory.
func zipBytes(_ members: [ZipMember]) -> [UInt8] {
    var body: [UInt8] = []
    var central: [UInt8] = []
    for member in members {
        let stored = member.stored ?? member.data
        let crc = member.crc ?? zlibCRC32(member.data)
        let size = member.uncompressedSize ?? UInt32(member.data.count)
        let offset = body.count
        let name = Array(member.name.utf8)
        body += le32(0x0403_4B50) + le16(20) + le16(0) + le16(member.method) + le16(0) + le16(0x21)
        body += le32(crc) + le32(UInt32(stored.count)) + le32(size)
        body += le16(UInt16(name.count)) + le16(0) + name + stored
        central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(member.method) + le16(0) + le16(0x21)
        central += le32(crc) + le32(UInt32(stored.count)) + le32(size)
        central += le16(UInt16(name.count)) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
        central += le32(UInt32(offset)) + name
    }
    let directoryOffset = body.count
    body += central
    body += le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(members.count)) + le16(UInt16(members.count))
    body += le32(UInt32(central.count)) + le32(UInt32(directoryOffset)) + le16(0)
    return body
}

/// CRC-32 (ISO 3309), bitwise: independent of the zlib Zoo uses.
func zlibCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8((value >> (8 * UInt64($0))) & 0xFF) } }

/// A version 1.0 `.npy` header with `dict`, padded with spaces and a newline so
/// the data starts at a multiple of 64 (as NumPy pads it), then `data`.
func npyBytes(_ dict: String, data: [UInt8] = [], version: UInt8 = 1) -> [UInt8] {
    let preamble = version == 1 ? 10 : 12
    var header = Array(dict.utf8)
    header += [UInt8](repeating: 0x20, count: (64 - (preamble + header.count + 1) % 64) % 64) + [0x0A]
    let length = version == 1 ? le16(UInt16(header.count)) : le32(UInt32(header.count))
    return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0] + length + header + data
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { le32($0.bitPattern) }
}
