/// Where in a file a problem was found.
public enum FileLocation: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A byte offset from the start of the file.
    case offset(Int)
    /// A named entry: a tensor name, a zip member, a JSON key.
    case key(String)
    /// A byte offset inside a named entry, such as a zip member.
    case offsetIn(String, Int)

    /// The location as a phrase: `at offset 6`, `at 'hidden1/kernel'`, `in 'w.npy' at offset 10`.
    public var description: String {
        switch self {
        case .offset(let offset): "at offset \(offset)"
        case .key(let key): "at '\(key)'"
        case .offsetIn(let key, let offset): "in '\(key)' at offset \(offset)"
        }
    }
}

/// Everything that can go wrong reading or writing a tensor file.
///
/// Each error names the file; the `reason` carries where the problem is, what
/// was expected and what was found. `description` is the one place that words them.
public struct FormatError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// What went wrong, with where and what was expected and found.
    public enum Reason: Sendable, Equatable, Codable {
        /// The path does not exist.
        case notFound
        /// The file exists but cannot be opened, mapped or read; `message` is the OS's.
        case unreadable(message: String)
        /// The file has zero bytes.
        case empty
        /// The magic bytes match no format Zoo reads.
        case unknownFormat(found: [UInt8])
        /// A structure runs past the end of the file (or of a member).
        case truncated(at: FileLocation, needed: Int, available: Int, what: String)
        /// A field holds something other than what the format requires.
        case malformed(at: FileLocation, expected: String, found: String)
        /// A dtype the format allows but Zoo refuses to read at all, and why.
        case refusedDType(at: FileLocation, dtype: String, why: String)
        /// A tensor whose element type cannot be converted to `Float`.
        case unsupportedDType(tensor: String, dtype: String)
        /// A shape whose element or byte count does not fit in an `Int`.
        case shapeOverflow(at: FileLocation, shape: [Int])
        /// Two tensors with the same name.
        case duplicateName(String)
        /// A stored checksum that does not match the data.
        case checksumMismatch(at: FileLocation, expected: String, found: String)
        /// No tensor by that name; `hint` is the closest existing name.
        case noSuchTensor(name: String, hint: String?)
        /// The file could not be written; `message` is the OS's or the encoder's.
        case writeFailed(message: String)
        /// A call into a format library (libhdf5) failed; `message` is its error stack in one line.
        case library(at: FileLocation, message: String)
        /// A request the format cannot represent (a name or dtype it has no place for).
        case cannotRepresent(what: String, why: String)
        /// A tensor the file lists but that cannot be read (an HDF5 dataset whose chunk fails
        /// its checksum, whose filter is missing, …); the rest of the file can.
        case unreadableTensor(name: String, path: String, reason: String)
        /// A format library crashed or hung on the file (in its helper process) while reading `path`.
        case libraryFailed(library: String, path: String, detail: String)
        /// Memory for `what` could not be allocated (more than this machine has, or than the
        /// process may use): the file claims more data than can be held.
        case outOfMemory(what: String, bytes: Int)
        /// An image file Zoo does not decode (`kind` names it: `a GIF image`, `a 12-bit JPEG`).
        case unsupportedImage(kind: String)
        /// A PNG or JPEG whose data the decoder refuses (`format` `PNG`/`JPEG`; `detail` is the library's message).
        case corruptImage(format: String, detail: String)
        /// A PNG or JPEG that ends before its image data does.
        case truncatedImage(format: String, detail: String)
        /// A header announcing more pixels than Zoo decodes: `width × height × 4` bytes over `limit`
        /// (refused before anything is allocated).
        case imageTooLarge(width: Int, height: Int, limit: Int)
    }

    /// The path of the file, as the user gave it.
    public let file: String
    /// What went wrong.
    public let reason: Reason

    /// An error about `file`.
    /// - Parameters:
    ///   - file: the path as the user gave it.
    ///   - reason: what went wrong, and where.
    public init(file: String, _ reason: Reason) {
        self.file = file
        self.reason = reason
    }

    /// The exit code scripts rely on: 66 for a missing or unreadable file,
    /// 65 for malformed input, 73 for a file that could not be written, 64 for a
    /// request the output format cannot represent, 1 otherwise.
    public var exitCode: Int32 {
        switch reason {
        case .notFound, .unreadable: 66
        case .writeFailed: 73
        case .cannotRepresent: 64
        case .noSuchTensor: 1
        default: 65
        }
    }

    /// `FILE: MESSAGE`, the one-line form the command line prints.
    public var description: String { "\(file): \(message)" }

    /// The message without the file name.
    public var message: String {
        switch reason {
        case .notFound:
            return "no such file"
        case .unreadable(let message):
            return "cannot read: \(message)"
        case .empty:
            return "the file is empty (0 bytes)"
        case .unknownFormat(let found):
            return "not a tensor file Zoo reads: found \(hex(found)) at offset 0"
                + " (expected the magic of .npy, .npz, safetensors, HDF5, .keras, PyTorch, a TensorFlow .index, IDX, or an ONNX ModelProto)"
        case .truncated(let at, let needed, let available, let what):
            return "truncated \(at): \(what) needs \(needed) bytes, only \(available) remain"
        case .malformed(let at, let expected, let found):
            return "malformed \(at): expected \(expected), found \(found)"
        case .refusedDType(let at, let dtype, let why):
            return "refused dtype \(dtype) \(at): \(why)"
        case .unsupportedDType(let tensor, let dtype):
            return "tensor '\(tensor)': unsupported dtype \(dtype) (it can be listed and copied, not converted)"
        case .shapeOverflow(let at, let shape):
            return "shape \(shape) \(at) overflows: its element or byte count does not fit in 64 bits"
        case .duplicateName(let name):
            return "duplicate tensor name '\(name)'"
        case .checksumMismatch(let at, let expected, let found):
            return "checksum mismatch \(at): expected \(expected), computed \(found)"
        case .noSuchTensor(let name, let hint):
            return "no tensor named '\(name)'" + (hint.map { " (did you mean '\($0)'?)" } ?? "")
        case .writeFailed(let message):
            return "cannot write: \(message)"
        case .library(let at, let message):
            return "cannot read \(at): \(message)"
        case .cannotRepresent(let what, let why):
            return "cannot write \(what): \(why)"
        case .unreadableTensor(let name, let path, let reason):
            return "tensor '\(name)' at '\(path)' cannot be read: \(reason)"
        case .outOfMemory(let what, let bytes):
            return "cannot allocate \(bytes) bytes for \(what) (more than this machine's memory or the process's limit)"
        case .libraryFailed(let library, let path, let detail):
            return "\(library) failed on malformed input while reading '\(path)' (\(detail))"
        case .unsupportedImage(let kind):
            return "unsupported image type: \(kind) (Zoo decodes PNG and JPEG)"
        case .corruptImage(let format, let detail):
            return "corrupt \(format) image: \(detail)"
        case .truncatedImage(let format, let detail):
            return "truncated \(format) image: \(detail)"
        case .imageTooLarge(let width, let height, let limit):
            return "the header announces a \(width)×\(height) image: \(width)·\(height)·4 bytes is more than Zoo's limit of \(limit) bytes per image"
                + " (refused before decoding)"
        }
    }
}

/// Bytes as `93 4E 55 4D`.
func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    bytes.isEmpty ? "nothing" : bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
}
