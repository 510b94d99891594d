import Foundation

/// Entry points for the libFuzzer targets in `Fuzz/` (one per parser Zoo owns), kept out of
/// the public API by `@_spi(Fuzzing)`: each takes arbitrary bytes, runs one parser on them
/// (and reads every tensor a whole-file reader finds), and swallows the typed errors the
/// parser is allowed to throw. A crash, a hang or a large allocation is a bug.
///
///     @_spi(Fuzzing) import ZooFormat
///     FuzzEntryPoints.run(.npy, bytes)
@_spi(Fuzzing)
public enum FuzzEntryPoints {
    /// The parsers, one libFuzzer target each (the raw values are the targets' names).
    public enum Parser: String, CaseIterable, Sendable {
        /// `.npy` header: preamble, Python-literal dict, descr; and a whole `.npy` read.
        case npy
        /// Zip central directory, local headers, ZIP64; a whole `.npz` read.
        case zip
        /// safetensors header (JSON) and data offsets; a whole file read.
        case safetensors
        /// The JSON parser alone.
        case json
        /// The pickle VM with the PyTorch host; zip and legacy `torch.save` files.
        case pickle
        /// LevelDB tables (a TensorFlow `.index`), Snappy blocks.
        case sstable
        /// TensorFlow BundleHeaderProto / BundleEntryProto / TensorSliceProto and the
        /// protobuf wire format under them.
        case tfbundle
        /// IDX headers and data (MNIST).
        case idx
        /// Keras model configs (JSON → typed layers, and → `KerasGraph`).
        case kerasConfig = "keras-config"
        /// HDF5 files through `TensorArchive.open` (libhdf5 behind its helper process).
        case hdf5
        /// Keras 3 `.keras` archives: zip, config JSON and the embedded HDF5 (in the helper).
        case keras
        /// gzip wrapper around any format.
        case gzip
        /// ONNX models: the protobuf walk of detection, `ONNXReader` (tensors, graphs, attributes,
        /// external data locations against a directory that does not exist), the archive of
        /// initializers, and `ONNXWriter` on what was read (which must read back).
        case onnx
    }

    /// Runs `parser` on `bytes`. Typed errors are expected; anything else escapes.
    public static func run(_ parser: Parser, _ bytes: UnsafeRawBufferPointer) {
        do {
            switch parser {
            case .npy:
                _ = try? NPYHeader.parse(ByteReader(bytes, file: "fuzz.npy"))
                _ = try? PythonLiteralParser.parse(String(decoding: bytes, as: UTF8.self))
                try readEverything(NPYReader.open(inMemory(bytes, "fuzz.npy")))
            case .zip:
                _ = try? ZipDirectory(ByteReader(bytes, file: "fuzz.zip"))
                try readEverything(NPZReader.open(inMemory(bytes, "fuzz.npz")))
            case .safetensors:
                try readEverything(SafetensorsReader.open(inMemory(bytes, "fuzz.safetensors")))
            case .json:
                _ = try? JSONParser.parse(bytes)
            case .pickle:
                let reader = ByteReader(bytes, file: "fuzz.pkl")
                if let result = try? PickleMachine.load(reader, host: TorchPickleHost(file: "fuzz.pkl")) {
                    var flattener = TorchStateFlattener(file: "fuzz.pkl", location: .key("data.pkl"))
                    try withExtendedLifetime(result.arena) { try flattener.flatten(result.value) }
                }
                let file = try inMemory(bytes, "fuzz.pt")
                if file.bytes.starts(with: PyTorchLegacyReader.magic) {
                    try readEverything(PyTorchLegacyReader.open(file))
                } else if PyTorchZipReader.isTorchArchive(file) {
                    try readEverything(PyTorchZipReader.open(file))
                }
            case .sstable:
                let table = try SSTable(ByteReader(bytes, file: "fuzz.index"))
                _ = table.entries.count
                _ = try? Snappy.decompress(bytes, file: "fuzz", what: "a block")
            case .tfbundle:
                _ = try? TFBundleHeader(bytes, file: "fuzz.index")
                _ = try? TFBundleEntry(bytes, file: "fuzz.index", key: "fuzz")
                _ = try? TFPartitionedVariable.extents(Array(bytes), file: "fuzz.index", name: "fuzz")
                var proto = ProtoReader(bytes, file: "fuzz", context: "fuzz")
                while let field = try proto.nextField() { try proto.skip(field.wireType) }
            case .idx:
                try readEverything(IDXReader.open(inMemory(bytes, "fuzz-idx3-ubyte")))
            case .kerasConfig:
                if let json = try? JSONParser.parse(bytes) {
                    _ = try? KerasGraph(json)
                }
            case .hdf5:
                try readEverything(openFile(bytes, "fuzz.h5"))
            case .keras:
                try readEverything(openFile(bytes, "fuzz.keras"))
            case .gzip:
                try readEverything(openFile([0x1F, 0x8B] + Array(bytes.prefix(1 << 20)), "fuzz.gz"))
            case .onnx:
                _ = ONNXReader.looksLikeModel(bytes)
                let file = try inMemory(bytes, "fuzz.onnx")
                let model = try ONNXReader.read(file, externalDataDirectory: "/nonexistent-zoo-fuzz")
                if let encoded = try? ONNXWriter.encode(model) {
                    let again = try? encoded.withUnsafeBytes { try ONNXReader.read(inMemory($0, "fuzz-again.onnx"), externalDataDirectory: nil) }
                    precondition(again != nil, "ONNXWriter wrote a model ONNXReader refuses")
                }
                try readEverything(ONNXReader.archive(of: model, file: file.path))
            }
        } catch is FormatError {
        } catch {
            // Other typed errors (the Keras config's, HDF5's) are fine too.
        }
    }

    /// `bytes` as a `MappedFile` held in memory.
    static func inMemory(_ bytes: UnsafeRawBufferPointer, _ name: String) throws -> MappedFile {
        let buffer = HeapBuffer(count: bytes.count)
        if let base = bytes.baseAddress { buffer.pointer.copyMemory(from: base, byteCount: bytes.count) }
        return MappedFile(path: name, buffer: buffer)
    }

    /// `bytes` written to a fresh file under the temporary directory and opened by `TensorArchive.open`
    /// (what the HDF5 reader needs: libhdf5 opens files by path).
    static func openFile<C: Collection>(_ bytes: C, _ name: String) throws -> TensorArchive where C.Element == UInt8 {
        let path = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/zoo-fuzz-\(getpid())-" + name
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw FormatError(file: path, .writeFailed(message: "cannot create the fuzz input"))
        }
        defer { unlink(path) }
        return try TensorArchive.open(path)
    }

    /// Reads every tensor's bytes and values, as `inspect --checksums --stats` does.
    static func readEverything(_ archive: TensorArchive) throws {
        for tensor in archive.tensors {
            _ = try? tensor.canonicalBytes()
            if tensor.dtype.isNumeric { _ = try? tensor.floats() }
        }
        _ = try? archive.inspectJSON()
    }
}
