import Foundation
import Testing
@testable import ZooFormat

/// Broken and hostile inputs: each must throw a `FormatError` naming the file
/// and where the problem is (exit code 65), never crash, never allocate what
/// the file merely claims.
@Suite struct MalformedInputTests {
    /// What a case must throw.
    enum Expectation: Sendable {
        /// This exact reason.
        case exactly(FormatError.Reason)
        /// A reason of the described kind, checked by a predicate (for zlib's wording).
        case matching(String, @Sendable (FormatError.Reason) -> Bool)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        /// The file name; its extension does not matter (formats are detected by magic).
        let file: String
        let bytes: [UInt8]
        let expected: Expectation
        var testDescription: String { label }

        init(_ label: String, _ file: String, _ bytes: [UInt8], _ expected: FormatError.Reason) {
            self.init(label, file, bytes, .exactly(expected))
        }

        init(_ label: String, _ file: String, _ bytes: [UInt8], _ expected: Expectation) {
            self.label = label
            self.file = file
            self.bytes = bytes
            self.expected = expected
        }
    }

    // MARK: Building blocks

    static let f4x2 = floatBytes([1.5, -2])
    static let validNPY = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: f4x2)

    /// `{"name": {"dtype": …, "shape": …, "data_offsets": [b, e]}, …}` as text.
    static func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":[\#(begin),\#(end)]}"#
    }

    static func safetensors(_ entries: [String], data: [UInt8]) -> [UInt8] {
        safetensorsBytes("{" + entries.joined(separator: ",") + "}", data: data)
    }

    static func headerLength(_ entries: [String]) -> Int {
        ("{" + entries.joined(separator: ",") + "}").utf8.count
    }

    /// A one-member stored .npz; the member is `validNPY` unless given.
    static func npz(_ member: ZipMember = ZipMember(name: "w.npy", data: validNPY)) -> [UInt8] {
        zipBytes([member])
    }

    /// Offset of the central directory / end record in a one-member archive built by `zipBytes`.
    static func directoryOffset(name: String = "w.npy", stored: Int) -> Int { 30 + name.utf8.count + stored }

    static let deflatedNPY: [UInt8] = validNPY.withUnsafeBytes { try! Deflate.deflate($0) }

    // MARK: The table

    static let cases: [Case] = {
        var cases: [Case] = []
        // ---- any file
        cases.append(Case("empty file", "empty.npy", [], .empty))
        cases.append(Case("wrong magic", "image.npy", Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), .unknownFormat(found: Array("GIF89a\u{1}\u{0}".utf8))))

        // ---- .npy
        cases.append(Case(
            "npy: truncated preamble", "short.npy", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0],
            .truncated(at: .offset(0), needed: 10, available: 8, what: "the .npy preamble (magic, version, header length)")))
        var version9 = validNPY
        version9[6] = 9
        cases.append(Case("npy: version 9.0", "v9.npy", version9, .malformed(at: .offset(6), expected: "version 1.0, 2.0 or 3.0", found: "9.0")))
        var longHeader = Array(validNPY.prefix(30))
        longHeader[8] = 0xE8
        longHeader[9] = 0x03
        cases.append(Case(
            "npy: header length past EOF", "long.npy", longHeader,
            .truncated(at: .offset(10), needed: 1000, available: 20, what: "the header dict")))
        var hugeHeader = Array(validNPY.prefix(30))
        hugeHeader[6] = 2
        hugeHeader.replaceSubrange(8..<12, with: le32(0xFFFF_FFF0))
        cases.append(Case(
            "npy: v2 header length beyond the 1 MiB cap", "huge.npy", hugeHeader,
            .malformed(at: .offset(8), expected: "a header length of at most 1048576 bytes", found: "4294967280")))
        cases.append(Case(
            "npy: header not a dict", "list.npy", npyBytes("[1, 2]", data: f4x2),
            .malformed(at: .offset(10), expected: "a dict with keys 'descr', 'fortran_order', 'shape'", found: "[1, 2]")))
        cases.append(Case(
            "npy: header syntax error", "syntax.npy", npyBytes("{'descr' '<f4'}", data: f4x2),
            .malformed(at: .offset(19), expected: "':' in the header dict", found: "'''")))
        cases.append(Case(
            "npy: header missing 'shape'", "noshape.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, }", data: f4x2),
            .malformed(at: .offset(10), expected: "exactly the keys 'descr', 'fortran_order', 'shape'", found: "'descr', 'fortran_order'")))
        cases.append(Case(
            "npy: negative dimension", "negative.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }", data: f4x2),
            .malformed(at: .offset(10), expected: "'shape' of non-negative integers", found: "(-1, 3)")))
        cases.append(Case(
            "npy: shape not a tuple ((6) is just 6)", "paren.npy", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", data: f4x2),
            .malformed(at: .offset(10), expected: "'shape' as a tuple of integers", found: "6")))
        cases.append(Case(
            "npy: fortran_order not a bool", "fortran.npy", npyBytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", data: f4x2),
            .malformed(at: .offset(10), expected: "'fortran_order' True or False", found: "0")))
        cases.append(Case(
            "npy: element count overflows Int64", "overflow.npy",
            npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", data: f4x2),
            .shapeOverflow(at: .key("overflow"), shape: [1 << 40, 1 << 40])))
        cases.append(Case(
            "npy: byte count overflows Int64", "bytes.npy",
            npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976, 2), }", data: f4x2),
            .shapeOverflow(at: .key("bytes"), shape: [1 << 60, 2])))
        let shortData = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", data: f4x2)
        cases.append(Case(
            "npy: shape larger than the data", "truncated.npy", shortData,
            .truncated(at: .offset(shortData.count - 8), needed: 40, available: 8, what: "tensor data of shape [10] float32")))
        cases.append(Case(
            "npy: object dtype", "object.npy", npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", data: Array(repeating: 0, count: 16)),
            .matching("refusedDType '|O' at offset 10") {
                if case .refusedDType(.offset(10), "'|O'", _) = $0 { true } else { false }
            }))
        cases.append(Case(
            "npy: structured dtype", "record.npy",
            npyBytes("{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (1,), }", data: Array(repeating: 0, count: 12)),
            .matching("refusedDType structured at offset 10") {
                if case .refusedDType(.offset(10), "structured", _) = $0 { true } else { false }
            }))
        cases.append(Case(
            "npy: string dtype", "strings.npy", npyBytes("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", data: Array(repeating: 0, count: 12)),
            .matching("refusedDType '<U3'") { if case .refusedDType(.offset(10), "'<U3'", _) = $0 { true } else { false } }))
        cases.append(Case(
            "npy: unknown descr", "unknown.npy", npyBytes("{'descr': '<x4', 'fortran_order': False, 'shape': (2,), }", data: f4x2),
            .malformed(at: .offset(10), expected: "a numeric descr such as '<f4', '>i8' or '|b1'", found: "'<x4'")))
        cases.append(Case(
            "npy: v3 header not UTF-8", "latin.npy", {
                var bytes = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } \u{7F}", data: f4x2, version: 3)
                bytes[bytes.firstIndex(of: 0x7F)!] = 0xFF
                return bytes
            }(),
            .malformed(at: .offset(12), expected: "a UTF-8 header (version 3.0)", found: "invalid UTF-8")))

        // ---- safetensors
        cases.append(Case(
            "safetensors: header size > 100 MB", "huge.safetensors", safetensorsBytes("{}", data: [], declaredLength: 200_000_000),
            .malformed(at: .offset(0), expected: "a header size of at most 100000000 bytes", found: "200000000")))
        cases.append(Case(
            "safetensors: header size past EOF", "short.safetensors", safetensorsBytes(#"{"a":1}"#, data: [], declaredLength: 1000),
            .truncated(at: .offset(8), needed: 1000, available: 7, what: "the JSON header")))
        cases.append(Case(
            "safetensors: JSON not starting with '{' (not recognised at all)", "space.safetensors", safetensorsBytes(" {}", data: []),
            .unknownFormat(found: le64(3))))
        cases.append(Case(
            "safetensors: invalid JSON", "invalid.safetensors", safetensorsBytes(#"{"a": }"#, data: []),
            .malformed(at: .offset(14), expected: "a JSON value in the JSON header", found: "'}'")))
        cases.append(Case(
            "safetensors: JSON with trailing garbage", "garbage.safetensors", safetensorsBytes(#"{}x"#, data: []),
            .malformed(at: .offset(10), expected: "end of input in the JSON header", found: "'x'")))
        cases.append(Case(
            "safetensors: duplicate tensor names", "dup.safetensors",
            safetensors([entry("a", "F32", [1], 0, 4), entry("a", "F32", [1], 4, 8)], data: floatBytes([1, 2])),
            .duplicateName("a")))
        cases.append(Case(
            "safetensors: offsets with a gap", "gap.safetensors",
            safetensors([entry("a", "F32", [1], 0, 4), entry("b", "F32", [1], 8, 12)], data: floatBytes([1, 2, 3])),
            .malformed(at: .key("b"), expected: "data_offsets starting at 4", found: "[8, 12], which leaves a gap after byte 4")))
        cases.append(Case(
            "safetensors: overlapping offsets", "overlap.safetensors",
            safetensors([entry("a", "F32", [2], 0, 8), entry("b", "F32", [1], 4, 8)], data: floatBytes([1, 2])),
            .malformed(at: .key("b"), expected: "data_offsets starting at 8", found: "[4, 8], which overlaps the previous tensor")))
        cases.append(Case(
            "safetensors: byte size ≠ elements × dtype size", "size.safetensors",
            safetensors([entry("a", "F32", [3], 0, 8)], data: floatBytes([1, 2])),
            .malformed(at: .key("a"), expected: "12 bytes for shape [3] F32 (elements × 4)", found: "data_offsets [0, 8] spanning 8 bytes")))
        let pastEOF = [entry("a", "F32", [4], 0, 16)]
        cases.append(Case(
            "safetensors: data past EOF", "past.safetensors", safetensors(pastEOF, data: floatBytes([1, 2])),
            .truncated(at: .offset(8 + headerLength(pastEOF)), needed: 16, available: 8, what: "the tensor data the header describes")))
        let trailing = [entry("a", "F32", [1], 0, 4)]
        cases.append(Case(
            "safetensors: trailing bytes", "trailing.safetensors", safetensors(trailing, data: floatBytes([1]) + [0, 0]),
            .malformed(at: .offset(8 + headerLength(trailing) + 4), expected: "the tensor data to end the file", found: "2 trailing bytes")))
        cases.append(Case(
            "safetensors: __metadata__ with a non-string value", "meta.safetensors",
            safetensors([#""__metadata__":{"ok":"yes","k":1}"#], data: []),
            .malformed(at: .key("__metadata__.k"), expected: "a string value", found: "1")))
        cases.append(Case(
            "safetensors: __metadata__ not an object", "meta2.safetensors", safetensors([#""__metadata__":"v""#], data: []),
            .malformed(at: .key("__metadata__"), expected: "an object of strings", found: "another JSON value")))
        cases.append(Case(
            "safetensors: unknown dtype code", "dtype.safetensors", safetensors([entry("a", "F7", [1], 0, 4)], data: floatBytes([1])),
            .malformed(at: .key("a"), expected: "a safetensors dtype (BOOL, U8, I8, …, F16, BF16, F32, F64, F8_E4M3, F8_E5M2)", found: "'F7'")))
        cases.append(Case(
            "safetensors: negative dimension", "neg.safetensors", safetensors([entry("a", "F32", [-1], 0, 4)], data: floatBytes([1])),
            .malformed(at: .key("a"), expected: "a shape of non-negative integers", found: "[-1]")))
        cases.append(Case(
            "safetensors: element count overflows", "overflow.safetensors",
            safetensors([entry("a", "F32", [1 << 40, 1 << 40], 0, 4)], data: floatBytes([1])),
            .shapeOverflow(at: .key("a"), shape: [1 << 40, 1 << 40])))
        cases.append(Case(
            "safetensors: offsets reversed", "reversed.safetensors", safetensors([entry("a", "F32", [1], 4, 0)], data: floatBytes([1])),
            .malformed(at: .key("a"), expected: "data_offsets [begin, end] with 0 <= begin <= end", found: "[4,0]")))
        cases.append(Case(
            "safetensors: extra key in an entry", "extra.safetensors",
            safetensors([#""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}"#], data: floatBytes([1])),
            .malformed(at: .key("a"), expected: "exactly the keys dtype, shape, data_offsets", found: "dtype, shape, data_offsets, x")))
        cases.append(Case(
            "safetensors: header is deeply nested", "deep.safetensors",
            safetensorsBytes("{\"a\":" + String(repeating: "[", count: 200), data: []),
            .matching("malformed: nesting") { if case .malformed(_, let expected, _) = $0 { expected.hasPrefix("nesting no deeper than 128") } else { false } }))

        // ---- .npz (zip)
        let valid = npz()
        let end = valid.count - 22
        let directory = directoryOffset(stored: validNPY.count)
        cases.append(Case(
            "zip: truncated central directory (no end record)", "cut.npz", Array(valid.dropLast(30)),
            .malformed(at: .offset(valid.count - 30 - 22), expected: "a zip end-of-central-directory record (50 4B 05 06) in the last 64 KiB", found: "none (the archive is truncated or its central directory is broken)")))
        cases.append(Case(
            "zip: central directory signature broken", "broken.npz", { var b = valid; b[directory] = 0x51; return b }(),
            .malformed(at: .offset(directory), expected: "a central directory header (50 4B 01 02)", found: "51 4B 01 02")))
        cases.append(Case(
            "zip: central directory past EOF", "past.npz", { var b = valid; b.replaceSubrange(end + 12..<end + 16, with: le32(5000)); return b }(),
            .truncated(at: .offset(directory), needed: 5000, available: valid.count - directory, what: "the central directory")))
        cases.append(Case(
            "zip: end record claims more entries than fit", "count.npz",
            { var b = valid; b.replaceSubrange(end + 8..<end + 12, with: le16(2) + le16(40000)); return b }(),
            .malformed(at: .offset(end + 10), expected: "at most 1 entries in a 51-byte central directory", found: "40000")))
        cases.append(Case(
            "zip: local header offset points nowhere", "local.npz",
            { var b = valid; b.replaceSubrange(directory + 42..<directory + 46, with: le32(40)); return b }(),
            .malformed(at: .offset(40), expected: "the local header of 'w.npy' (50 4B 03 04)", found: hex(valid[40..<44]))))
        cases.append(Case(
            "zip: member data past EOF", "data.npz",
            npz(ZipMember(name: "w.npy", data: validNPY, stored: validNPY, uncompressedSize: nil)).withCompressedSize(100_000),
            .matching("truncated data of 'w.npy'") { if case .truncated(.offset(35), 100_000, _, "the data of 'w.npy'") = $0 { true } else { false } }))
        cases.append(Case(
            "zip: stored member sizes mismatch", "sizes.npz",
            npz(ZipMember(name: "w.npy", data: validNPY, uncompressedSize: UInt32(validNPY.count + 4))),
            .malformed(at: .offset(directory + 20), expected: "equal sizes for the stored member 'w.npy'", found: "\(validNPY.count) compressed, \(validNPY.count + 4) uncompressed")))
        cases.append(Case(
            "zip: unsupported compression method", "bzip.npz", npz(ZipMember(name: "w.npy", data: validNPY, method: 12)),
            .malformed(at: .offset(directory + 10), expected: "compression method 0 (stored) or 8 (deflate) for 'w.npy'", found: "method 12")))
        cases.append(Case(
            "zip: encrypted member", "secret.npz", { var b = valid; b[directory + 8] = 1; return b }(),
            .malformed(at: .offset(directory), expected: "an unencrypted member", found: "'w.npy' is encrypted")))
        let corrupt: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        cases.append(Case(
            "zip: deflated member with a corrupt stream", "corrupt.npz",
            npz(ZipMember(name: "w.npy", data: validNPY, stored: corrupt, method: 8)),
            .matching("malformed deflate stream in 'w.npy'") {
                if case .malformed(.key("w.npy"), "a valid deflate stream", _) = $0 { true } else { false }
            }))
        cases.append(Case(
            "zip: deflated member cut short after its header", "short.npz",
            npz(ZipMember(name: "w.npy", data: validNPY, stored: Array(deflatedNPY.prefix(deflatedNPY.count - 4)), method: 8)),
            .matching("truncated or malformed inflated data of 'w.npy'") {
                switch $0 {
                case .truncated(.key("w.npy"), _, _, _), .malformed(.key("w.npy"), _, _): true
                default: false
                }
            }))
        cases.append(Case(
            "zip: deflated member with a bad CRC", "crc.npz",
            npz(ZipMember(name: "w.npy", data: validNPY, stored: deflatedNPY, method: 8, crc: 0xDEAD_BEEF)),
            .checksumMismatch(at: .key("w.npy"), expected: "0xdeadbeef", found: Deflate.crcText(zlibCRC32(validNPY)))))
        cases.append(Case(
            "zip: deflated member claiming an impossible ratio", "bomb.npz",
            npz(ZipMember(name: "w.npy", data: validNPY, stored: deflatedNPY, method: 8, uncompressedSize: 4_000_000_000)),
            .malformed(at: .key("w.npy"), expected: "an uncompressed size deflate can reach from \(deflatedNPY.count) bytes", found: "4000000000")))
        cases.append(Case(
            "zip: deflated member announcing less data than its shape needs", "less.npz",
            npz(ZipMember(name: "w.npy", data: validNPY, stored: deflatedNPY, method: 8, uncompressedSize: UInt32(validNPY.count - 4))),
            .truncated(at: .key("w.npy"), needed: 8, available: 4, what: "tensor data of shape [2] float32")))
        // A one-element array followed by 4 spare bytes, announced without them.
        let oneElement = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: f4x2)
        cases.append(Case(
            "zip: deflated member inflating to more than announced", "more.npz",
            npz(ZipMember(
                name: "w.npy", data: oneElement, stored: oneElement.withUnsafeBytes { try! Deflate.deflate($0) }, method: 8,
                uncompressedSize: UInt32(oneElement.count - 4))),
            .malformed(at: .key("w.npy"), expected: "\(oneElement.count - 4) inflated bytes", found: "more")))
        var badMember = validNPY
        badMember[6] = 7
        cases.append(Case(
            "npz: member with a bad .npy version", "member.npz", npz(ZipMember(name: "w.npy", data: badMember)),
            .malformed(at: .offsetIn("w.npy", 6), expected: "version 1.0, 2.0 or 3.0", found: "7.0")))
        cases.append(Case(
            "npz: deflated member with a truncated .npy header", "header.npz",
            npz(ZipMember(name: "w.npy", data: Array(validNPY.prefix(40)), stored: Array(validNPY.prefix(40)).withUnsafeBytes { try! Deflate.deflate($0) }, method: 8)),
            .truncated(at: .offsetIn("w.npy", 10), needed: validNPY.count - 18, available: 30, what: "the header dict")))
        return cases
    }()

    @Test("malformed input throws the expected error", arguments: cases)
    func malformed(_ testCase: Case) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(testCase.bytes, to: testCase.file)
        let error = #expect(throws: FormatError.self, "\(testCase.label)") { try Self.readEverything(path) }
        guard let error else { return }
        switch testCase.expected {
        case .exactly(let reason):
            #expect(error.reason == reason, "\(testCase.label): \(error.description)")
        case .matching(let what, let predicate):
            #expect(predicate(error.reason), "\(testCase.label): expected \(what), got \(error.description)")
        }
        #expect(error.file == path)
        #expect(error.exitCode == 65)
        #expect(error.description.hasPrefix(path + ": "), "\(error.description)")
        switch error.reason {
        case .empty, .duplicateName: break
        default:
            let locates = ["at offset ", "at '", "in '"].contains { error.description.contains($0) }
            #expect(locates, "the message should say where: \(error.description)")
        }
    }

    /// Opens the file and reads every tensor's bytes and values: some problems
    /// (a deflate stream's tail, a CRC) only show when the data is read.
    static func readEverything(_ path: String) throws {
        let archive = try TensorArchive.open(path)
        for tensor in archive.tensors {
            _ = try tensor.canonicalBytes()
            if tensor.dtype.isNumeric { _ = try tensor.floats() }
        }
    }

    @Test("a missing file is .notFound with exit code 66")
    func missingFile() {
        let path = "/nonexistent/zoo/weights.npy"
        let error = #expect(throws: FormatError.self) { try TensorArchive.open(path) }
        #expect(error?.reason == .notFound)
        #expect(error?.exitCode == 66)
        #expect(error?.description == "\(path): no such file")
    }

    @Test("a directory is unreadable, exit code 66")
    func directoryPath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let error = #expect(throws: FormatError.self) { try TensorArchive.open(directory.path) }
        // A directory may hold a TensorFlow checkpoint; this one does not.
        #expect(error?.reason == .unreadable(message: "a directory with neither a TensorFlow 'checkpoint' file nor a single .index"))
        #expect(error?.exitCode == 66)
    }

    @Test("the safetensors reader itself refuses a header not starting with '{'")
    func safetensorsBrace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(safetensorsBytes(" {}", data: []), to: "space.safetensors")
        let error = #expect(throws: FormatError.self) { try SafetensorsReader.open(MappedFile(path: path)) }
        #expect(error?.reason == .malformed(at: .offset(8), expected: "a JSON header starting with '{'", found: "20 7B 7D"))
    }

    /// Every prefix and many one-byte corruptions of the small fixtures: either
    /// read or throw a `FormatError`; anything else (a trap) fails the whole run.
    @Test("truncated and corrupted fixtures never crash", arguments: [
        "npy_v1.npy", "npy_v2.npy", "npy_fortran_be_f8.npy", "npy_complex64.npy", "npy_object.npy",
        "npz_savez.npz", "npz_savez_compressed.npz", "npz_descriptor.npz", "npz_zip64.npz", "npz_zip64_full.npz",
        "st_numpy.safetensors", "st_fp8.safetensors",
    ])
    func neverCrashes(_ name: String) throws {
        let original = try readBytes(Fixtures.path(name))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var variants: [[UInt8]] = []
        for length in stride(from: 0, to: original.count, by: original.count > 600 ? 5 : 1) {
            variants.append(Array(original.prefix(length)))
        }
        for position in stride(from: 0, to: original.count, by: original.count > 600 ? 3 : 2) {
            for value: UInt8 in [0x00, 0xFF, original[position] ^ 0x01] where value != original[position] {
                var corrupted = original
                corrupted[position] = value
                variants.append(corrupted)
            }
        }
        var outcomes = (read: 0, refused: 0)
        for (index, bytes) in variants.enumerated() {
            let path = try directory.write(bytes, to: "v\(index)")
            do {
                try Self.readEverything(path)
                outcomes.read += 1
            } catch let error as FormatError {
                #expect([65, 66].contains(error.exitCode))
                #expect(error.description.hasPrefix(path))
                outcomes.refused += 1
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(outcomes.refused > 0)
    }
}

extension [UInt8] {
    /// A one-member archive from `zipBytes` with both compressed-size fields set to `size`.
    func withCompressedSize(_ size: UInt32) -> [UInt8] {
        var bytes = self
        bytes.replaceSubrange(18..<22, with: le32(size))
        let directory = bytes.count - 22 - 51
        bytes.replaceSubrange(directory + 20..<directory + 24, with: le32(size))
        return bytes
    }
}
