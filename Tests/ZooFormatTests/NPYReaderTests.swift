import Foundation
import Testing
@testable import ZooFormat

/// `.npy` files written by NumPy: every numeric dtype in both byte orders,
/// versions 1.0–3.0, Fortran order, 0-d, empty, complex and refused dtypes.
@Suite struct NPYReaderTests {
    @Test("every .npy fixture reads as numpy recorded it", arguments: Fixtures.files(.npy))
    func readsFixture(_ expected: ExpectedFile) throws {
        let archive = try TensorArchive.open(expected.path)
        #expect(archive.file == expected.path)
        #expect(archive.tensors.count == 1)
        try check(archive, against: expected)
        let tensor = archive.tensors[0]
        let want = expected.tensors[0]
        #expect(tensor.byteOrder == want.byteOrder)
        if want.fortran {
            #expect(tensor.strides == fortranStrides(tensor.shape))
            #expect(!tensor.isCanonical)
        }
    }

    @Test("both byte orders of each dtype hold the same elements", arguments: ["int16", "int32", "int64", "uint16", "uint32", "uint64", "float16", "float32", "float64"])
    func byteOrderTwins(_ dtype: String) throws {
        let little = try Fixtures.open("npy_\(dtype)_le.npy").tensors[0]
        let big = try Fixtures.open("npy_\(dtype)_be.npy").tensors[0]
        #expect(little.byteOrder == .little)
        #expect(big.byteOrder == .big)
        #expect(little.dtype == big.dtype)
        #expect(try little.sha256() == big.sha256())
        #expect(try little.canonicalBytes().copied() == big.canonicalBytes().copied())
        #expect(sameBits(try big.floats(), try little.floats().map(\.bitPattern)))
        #expect(little.isCanonical)
        #expect(!big.isCanonical)
    }

    @Test("C, big-endian and Fortran twins have one digest")
    func layoutTwins() throws {
        let names = ["npy_large_c.npy", "npy_large_be.npy", "npy_large_fortran.npy", "npy_large_fortran_be.npy"]
        let tensors = try names.map { try Fixtures.open($0).tensors[0] }
        let digests = Set(try tensors.map { try $0.sha256() })
        #expect(digests.count == 1)
        #expect(digests.first == Fixtures.expected("npy_large_c.npy").tensors[0].sha256)
        let reference = try tensors[0].floats()
        for tensor in tensors.dropFirst() {
            #expect(try tensor.floats() == reference, "\(tensor.name)")
            #expect(try tensor.doubles() == reference.map(Double.init), "\(tensor.name)")
        }
        #expect(tensors[2].strides == [1, 32])
        // Element [1, 0] of the Fortran file is its second stored value.
        #expect(try reference[50] == tensors[2].storedBytes().withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: Float.self) })
        let fortranDigests = Set(try ["npy_fortran_f8.npy", "npy_fortran_be_f8.npy"].map { try Fixtures.open($0).tensors[0].sha256() })
        #expect(fortranDigests.count == 1)
    }

    @Test("the version byte selects the header length field", arguments: [(1, 10), (2, 12), (3, 12)])
    func versions(_ version: Int, _ preamble: Int) throws {
        let name = "npy_v\(version).npy"
        let bytes = try readBytes(Fixtures.path(name))
        #expect(bytes[6] == UInt8(version))
        #expect(bytes[7] == 0)
        let tensor = try Fixtures.open(name).tensors[0]
        #expect(tensor.shape == [3, 4])
        #expect(try tensor.floats() == (0..<12).map { Float($0) / 4 })
        guard case .mapped(_, let offset, let count) = tensor.source else {
            Issue.record("a .npy tensor should be a view of the mapped file")
            return
        }
        #expect(offset % 64 == 0)
        #expect(offset > preamble)
        #expect(count == 48)
    }

    @Test("a 0-d array is a scalar with one element")
    func scalar() throws {
        let tensor = try Fixtures.open("npy_scalar.npy").tensors[0]
        #expect(tensor.shape == [])
        #expect(tensor.elementCount == 1)
        #expect(try tensor.floats() == [3.5])
        let statistics = try #require(try TensorStatistics(tensor))
        #expect(statistics.minimum == 3.5 && statistics.maximum == 3.5)
        #expect(statistics.mean == 3.5 && statistics.standardDeviation == 0)
    }

    @Test("an empty array has no elements and no statistics")
    func empty() throws {
        let tensor = try Fixtures.open("npy_empty.npy").tensors[0]
        #expect(tensor.shape == [0, 3])
        #expect(tensor.elementCount == 0)
        #expect(try tensor.floats().isEmpty)
        #expect(try tensor.canonicalBytes().count == 0)
        #expect(try TensorStatistics(tensor) == nil)
    }

    @Test("complex64 is listed, copied, but not converted", arguments: ["npy_complex64.npy", "npy_complex64_be.npy"])
    func complex(_ name: String) throws {
        let tensor = try Fixtures.open(name).tensors[0]
        #expect(tensor.dtype == .opaque(name: "complex64", byteCount: 8, swapUnit: 4))
        #expect(!tensor.dtype.isNumeric)
        #expect(tensor.shape == [3])
        // Canonical bytes are little-endian (real, imaginary) float pairs.
        let parts = try tensor.canonicalBytes().withUnsafeBytes { raw in
            (0..<6).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
        #expect(parts == [1, 2, -3.5, -0.25, 0, 1])
        let error = #expect(throws: FormatError.self) { try tensor.floats() }
        #expect(error?.reason == .unsupportedDType(tensor: tensor.name, dtype: "complex64"))
        #expect(error?.exitCode == 65)
        #expect(throws: FormatError.self) { try TensorStatistics(tensor) }
    }

    @Test("object arrays are refused, never unpickled")
    func objectArray() throws {
        let path = Fixtures.path("npy_object.npy")
        let error = #expect(throws: FormatError.self) { try TensorArchive.open(path) }
        guard case .refusedDType(let at, let dtype, let why)? = error?.reason else {
            Issue.record("expected refusedDType, got \(String(describing: error))")
            return
        }
        #expect(dtype == "'|O'")
        #expect(at == .offset(10))
        #expect(why.contains("arbitrary code"))
        #expect(error?.exitCode == 65)
        #expect(error?.description.hasPrefix(path + ": refused dtype '|O' at offset 10") == true)
    }

    @Test("structured arrays are refused")
    func structuredArray() throws {
        let error = #expect(throws: FormatError.self) { try Fixtures.open("npy_structured.npy") }
        guard case .refusedDType(_, let dtype, _)? = error?.reason else {
            Issue.record("expected refusedDType, got \(String(describing: error))")
            return
        }
        #expect(dtype == "structured")
    }

    @Test("the tensor is named after the file")
    func naming() {
        #expect(NPYReader.tensorName(forPath: "dir/hidden1.kernel.npy") == "hidden1.kernel")
        #expect(NPYReader.tensorName(forPath: "weights") == "weights")
    }

    @Test("headers in the forms NumPy and Python 2 wrote parse", arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", [2, 3], false),
        ("{\"descr\": \"<f4\", \"fortran_order\": True, \"shape\": (2,3)}", [2, 3], true),
        ("{'shape': (6,), 'fortran_order': False, 'descr': '<f4'}", [6], false),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", [2, 3], false),
        ("{'descr':'<f4','fortran_order':False,'shape':(6,)}", [6], false),
    ] as [(String, [Int], Bool)])
    func headerVariants(_ dict: String, _ shape: [Int], _ fortran: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var header = Array(dict.utf8) + [0x0A]
        header += [UInt8](repeating: 0x20, count: (64 - (10 + header.count) % 64) % 64)
        var bytes = NPYHeader.magic + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        values.withUnsafeBytes { bytes += $0 }
        let tensor = try TensorArchive.open(try directory.write(bytes, to: "h.npy")).tensors[0]
        #expect(tensor.shape == shape)
        #expect(tensor.strides == (fortran ? fortranStrides(shape) : contiguousStrides(shape)))
        #expect(try tensor.floats() == (fortran ? [1, 3, 5, 2, 4, 6] : values))
    }

    @Test("descr strings map to dtypes", arguments: [
        ("<f4", DType.float32, ByteOrder.little), (">f8", .float64, .big), ("|b1", .bool, .little),
        ("|u1", .uint8, .little), (">i1", .int8, .little), ("<u8", .uint64, .little), (">f2", .float16, .big),
        ("=i4", .int32, ByteOrder.host),
    ] as [(String, DType, ByteOrder)])
    func descr(_ text: String, _ dtype: DType, _ order: ByteOrder) {
        guard case .numeric(let parsed, let parsedOrder) = NPYDescr.parse(text) else {
            Issue.record("\(text) did not parse")
            return
        }
        #expect(parsed == dtype)
        #expect(parsedOrder == order)
    }
}
