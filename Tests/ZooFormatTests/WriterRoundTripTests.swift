import Foundation
import Testing
@testable import ZooFormat

/// Zoo writes, Zoo reads back: every fixture through every output format; and
/// the files in `Fixtures/arrays/zoo_written`, which NumPy and safetensors were
/// checked to load (`make_fixtures.py verify`), must still come out byte for byte.
@Suite struct WriterRoundTripTests {
    static let readable = FixtureExpectations.files

    /// The formats that take any tensor names (the Keras layouts need `layer/weight`; see KerasWriterTests).
    static let anyNameFormats: [OutputFormat] = [.npy, .npz, .safetensors, .hdf5]

    @Test("every fixture survives every output format", arguments: readable, anyNameFormats)
    func roundTrip(_ expected: ExpectedFile, _ format: OutputFormat) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let archive = try TensorArchive.open(expected.path)
        let path = directory.file("out." + format.rawValue)
        if let why = Self.refusal(archive, format) {
            let error = #expect(throws: FormatError.self, "\(why)") { try archive.write(to: path, format: format) }
            guard case .cannotRepresent? = error?.reason else {
                Issue.record("expected cannotRepresent (\(why)), got \(String(describing: error))")
                return
            }
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "no temporary file is left behind")
            return
        }
        let written = try archive.write(to: path, format: format)
        #expect(written.map(\.name) == archive.tensors.map(\.name))
        let back = try TensorArchive.open(path)
        #expect(back.format.rawValue == format.rawValue)
        let names = format == .npy ? ["out"] : archive.tensors.map(\.name)
        #expect(back.tensors.map(\.name) == names)
        for (tensor, want) in zip(back.tensors, expected.tensors) {
            #expect(tensor.dtype.name == want.dtype, "\(want.name)")
            #expect(tensor.shape == want.shape, "\(want.name)")
            #expect(try tensor.sha256() == want.sha256, "\(want.name)")
            #expect(tensor.byteOrder == .little)
            #expect(tensor.isCanonical)
            if want.isConvertible, let bits = want.floatBits {
                #expect(sameBits(try tensor.floats(), bits), "\(want.name)")
            }
        }
        if format == .safetensors {
            #expect(back.metadata == archive.metadata)
        }
    }

    /// Why Zoo must refuse to write `archive` as `format`, or nil.
    static func refusal(_ archive: TensorArchive, _ format: OutputFormat) -> String? {
        if format == .npy && archive.tensors.count != 1 { return "a .npy holds one array" }
        for tensor in archive.tensors {
            guard format != .safetensors else { continue }
            if format == .hdf5 {
                if case .opaque(let name, _, _) = tensor.dtype { return "HDF5 output has no \(name)" }
                continue
            }
            if tensor.dtype == .bfloat16 { return "NumPy has no bfloat16" }
            if case .opaque(let name, _, _) = tensor.dtype, !name.hasPrefix("complex") { return "NumPy has no \(name)" }
        }
        return nil
    }

    @Test("compressed .npz round trip, members deflated")
    func compressed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let archive = try Fixtures.open("st_numpy.safetensors")
        let path = directory.file("c.npz")
        try archive.write(to: path, format: .npz, options: ConvertOptions(compress: true))
        let back = try TensorArchive.open(path)
        for tensor in back.tensors {
            guard case .loader = tensor.source else {
                Issue.record("\(tensor.name) should be deflated")
                continue
            }
            #expect(try tensor.sha256() == archive.tensor(named: tensor.name).sha256())
        }
        let bytes = try readBytes(path)
        #expect(bytes[8] == 8 && bytes[9] == 0, "method 8 (deflate) in the first local header")
    }

    @Test("renames, --only and float casts")
    func convertOptions() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let archive = try Fixtures.open("npz_savez.npz")
        let options = ConvertOptions(
            renames: [try TensorRenameRule(#"^hidden(\d)/=layer\1."#)], only: try TensorFilter("^hidden1/"),
            floatType: .float16)
        let path = directory.file("r.safetensors")
        let written = try archive.write(to: path, format: .safetensors, options: options)
        #expect(written.map(\.name) == ["layer1.kernel", "layer1.bias"])
        let back = try TensorArchive.open(path)
        #expect(back.tensors.map(\.dtype) == [.float16, .float16])
        let original = try archive.tensor(named: "hidden1/bias").floats()
        #expect(try back.tensor(named: "layer1.bias").floats() == original, "0.5, -0.25, 0 are exact in float16")

        // Integer and bool tensors are never cast.
        let all = try archive.converted(ConvertOptions(floatType: .bfloat16))
        #expect(all.map(\.dtype) == [.bfloat16, .bfloat16, .int64, .bool])

        let clash = ConvertOptions(renames: [try TensorRenameRule("^hidden1/.*=same")])
        let error = #expect(throws: FormatError.self) { try archive.converted(clash) }
        guard case .cannotRepresent? = error?.reason else {
            Issue.record("expected cannotRepresent, got \(String(describing: error))")
            return
        }
    }

    @Test("writers refuse duplicate and reserved names, and report unwritable paths")
    func writerErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tensor = try Fixtures.open("npy_v1.npy").tensors[0]
        let duplicate = #expect(throws: FormatError.self) { try NPZWriter.write([tensor, tensor], to: directory.file("d.npz")) }
        #expect(duplicate?.reason == .duplicateName("npy_v1"))
        let safetensorsDuplicate = #expect(throws: FormatError.self) {
            try SafetensorsWriter.write([tensor, tensor], to: directory.file("d.safetensors"))
        }
        #expect(safetensorsDuplicate?.reason == .duplicateName("npy_v1"))
        var reserved = tensor
        reserved.name = "__metadata__"
        let reservedError = #expect(throws: FormatError.self) { try SafetensorsWriter.write([reserved], to: directory.file("m.safetensors")) }
        guard case .cannotRepresent? = reservedError?.reason else {
            Issue.record("expected cannotRepresent, got \(String(describing: reservedError))")
            return
        }
        let missing = directory.file("no/such/dir/w.npy")
        let unwritable = #expect(throws: FormatError.self) { try NPYWriter.write(tensor, to: missing) }
        guard case .writeFailed? = unwritable?.reason else {
            Issue.record("expected writeFailed, got \(String(describing: unwritable))")
            return
        }
        #expect(unwritable?.exitCode == 73)
        #expect(unwritable?.file == missing)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a written file replaces the old one atomically, with the usual permissions")
    func atomicReplace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("w.npy")
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        try NPYWriter.write(try Fixtures.open("npy_v1.npy").tensors[0], to: path)
        #expect(try TensorArchive.open(path).tensors[0].shape == [3, 4])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
        #expect(permissions & 0o600 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["w.npy"])
    }

    @Test("the .npy header is what NumPy expects: v1.0, 64-byte aligned, newline-terminated", arguments: [
        ("<f4", [3, 4], "(3, 4)"), ("|b1", [], "()"), ("<i8", [7], "(7,)"),
    ] as [(String, [Int], String)])
    func npyHeader(_ descr: String, _ shape: [Int], _ text: String) {
        let header = NPYHeader.encode(descr: descr, shape: shape)
        #expect(header.count % 64 == 0)
        #expect(Array(header.prefix(8)) == NPYHeader.magic + [1, 0])
        #expect(Int(header[8]) | Int(header[9]) << 8 == header.count - 10)
        #expect(header.last == 0x0A)
        let dict = String(decoding: header[10...], as: UTF8.self)
        #expect(dict.hasPrefix("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(text), }"))
    }

    // MARK: Zoo-written reference files

    struct Written: Sendable, CustomTestStringConvertible {
        let file: String
        let source: String
        let format: OutputFormat
        let compress: Bool
        let floatType: DType?
        var testDescription: String { "zoo_written/\(file)" }

        var options: ConvertOptions { ConvertOptions(floatType: floatType, compress: compress) }
    }

    /// Must match `ZOO_WRITTEN` in make_fixtures.py.
    static let zooWritten: [Written] = [
        Written(file: "npz_savez.safetensors", source: "npz_savez.npz", format: .safetensors, compress: false, floatType: nil),
        Written(file: "npz_savez_compressed.npz", source: "npz_savez_compressed.npz", format: .npz, compress: true, floatType: nil),
        Written(file: "npz_savez_float16.npz", source: "npz_savez.npz", format: .npz, compress: false, floatType: .float16),
        Written(file: "st_numpy.npz", source: "st_numpy.safetensors", format: .npz, compress: false, floatType: nil),
        Written(file: "st_numpy_compressed.npz", source: "st_numpy.safetensors", format: .npz, compress: true, floatType: nil),
        Written(file: "st_numpy.safetensors", source: "st_numpy.safetensors", format: .safetensors, compress: false, floatType: nil),
        Written(file: "npy_fortran_be_f8.npy", source: "npy_fortran_be_f8.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npy_large_fortran_be.npy", source: "npy_large_fortran_be.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npy_float16_be.npy", source: "npy_float16_be.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npy_uint64_be.npy", source: "npy_uint64_be.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npy_bool_le.npy", source: "npy_bool_le.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npy_scalar.npy", source: "npy_scalar.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npy_empty.npy", source: "npy_empty.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npy_complex64_be.npy", source: "npy_complex64_be.npy", format: .npy, compress: false, floatType: nil),
        Written(file: "npz_descriptor.npz", source: "npz_descriptor.npz", format: .npz, compress: false, floatType: nil),
        Written(file: "npz_zip64_full.safetensors", source: "npz_zip64_full.npz", format: .safetensors, compress: false, floatType: nil),
        Written(file: "st_torch.safetensors", source: "st_torch.safetensors", format: .safetensors, compress: false, floatType: nil),
        Written(file: "st_torch_float32.safetensors", source: "st_torch.safetensors", format: .safetensors, compress: false, floatType: .float32),
        Written(file: "st_fp8.safetensors", source: "st_fp8.safetensors", format: .safetensors, compress: false, floatType: nil),
        Written(file: "conv_f32_float16.npy", source: "conv_f32.npy", format: .npy, compress: false, floatType: .float16),
        Written(file: "conv_f32_bfloat16.safetensors", source: "conv_f32.npy", format: .safetensors, compress: false, floatType: .bfloat16),
    ]

    static let zooWrittenDirectory = Fixtures.path("zoo_written")

    /// With `ZOO_WRITE_FIXTURES=1`, (re)writes the reference files instead of comparing:
    /// then run `make_fixtures.py verify` on them before committing.
    static let regenerate = ProcessInfo.processInfo.environment["ZOO_WRITE_FIXTURES"] == "1"

    @Test("Zoo still writes the verified reference files byte for byte", arguments: zooWritten)
    func byteIdentical(_ written: Written) throws {
        let archive = try Fixtures.open(written.source)
        if Self.regenerate {
            try FileManager.default.createDirectory(atPath: Self.zooWrittenDirectory, withIntermediateDirectories: true)
            try archive.write(to: Self.zooWrittenDirectory + "/" + written.file, format: written.format, options: written.options)
            return
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file(written.file)
        try archive.write(to: path, format: written.format, options: written.options)
        let reference = try readBytes(Self.zooWrittenDirectory + "/" + written.file)
        let produced = try readBytes(path)
        let firstDifference = (0..<min(produced.count, reference.count)).first { produced[$0] != reference[$0] } ?? min(produced.count, reference.count)
        #expect(produced == reference, "\(written.file): \(produced.count) vs \(reference.count) bytes, first difference at \(firstDifference)")
    }

    @Test("the reference files read back to their sources")
    func referenceFilesRead() throws {
        for written in Self.zooWritten where !Self.regenerate {
            let back = try TensorArchive.open(Self.zooWrittenDirectory + "/" + written.file)
            let source = try Fixtures.open(written.source)
            #expect(back.tensors.count == source.tensors.count, "\(written.file)")
            if written.floatType == nil {
                for (a, b) in zip(back.tensors, source.tensors) {
                    #expect(try a.sha256() == b.sha256(), "\(written.file): \(a.name)")
                }
            }
        }
        let half = try TensorArchive.open(Self.zooWrittenDirectory + "/conv_f32_float16.npy").tensors[0]
        let bits = try half.canonicalBytes().withUnsafeBytes { raw in
            (0..<half.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self) }
        }
        #expect(bits == FixtureExpectations.float16Bits)
    }
}
