#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files holding an ONNX model's external data (`data_location = EXTERNAL`), each mapped
/// once, found next to the model and never outside its directory:
///
///     external_data { key: "location" value: "model.onnx.data" }   a relative POSIX path
///     external_data { key: "offset"   value: "4096" }              decimal, default 0
///     external_data { key: "length"   value: "1536" }              decimal, default: to the end
///
/// A location that is absolute, has a `..` component, or resolves (through symbolic links)
/// outside the model's directory is refused, as onnx's own checker refuses it; the bytes at
/// offset and length must lie in the file and be exactly the tensor's `dims × itemsize`.
final class ONNXExternalFiles {
    /// The model file, for errors.
    let model: String
    /// The directory locations are relative to; nil refuses external data (bytes held in memory).
    let directory: String?
    private var mapped: [String: MappedFile] = [:]
    private var resolvedDirectory: String?

    /// External data of `model` found in `directory`.
    init(model: String, directory: String?) {
        self.model = model
        self.directory = directory
    }

    /// The directory of `path` as given (`.` for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Reads `external_data` entries into an `External`.
    /// - Throws: `.malformed` at `key` for a missing location or an offset or length that is not a decimal number.
    func parse(_ entries: [ONNXStringPair], at key: String) throws -> ONNXTensor.External {
        var location: String?
        var offset = 0
        var length: Int?
        for entry in entries {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offset = try number(entry.value, "offset", at: key)
            case "length": length = try number(entry.value, "length", at: key)
            default: break  // checksum, basepath: not used
            }
        }
        guard let location else {
            throw FormatError(file: model, .malformed(at: .key(key), expected: "external_data with a 'location' (data_location is EXTERNAL)", found: "keys \(entries.map(\.key))"))
        }
        return ONNXTensor.External(location: location, offset: offset, length: length)
    }

    private func number(_ text: String, _ what: String, at key: String) throws -> Int {
        guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text) else {
            throw FormatError(file: model, .malformed(at: .key(key), expected: "an external_data \(what) of at most 18 decimal digits", found: "'\(text.prefix(40))'"))
        }
        return value
    }

    /// The bytes of `external`, checked to be exactly `byteCount` of them inside the file.
    /// - Throws: `.malformed` at `key` for a location outside the model's directory, a missing
    ///   or unreadable file, or an offset and length that do not fit the file or the tensor.
    func source(_ external: ONNXTensor.External, byteCount: Int, at key: String) throws -> TensorSource {
        let file = try self.file(external.location, at: key)
        let offset = external.offset
        guard offset <= file.count else {
            throw FormatError(file: model, .malformed(at: .key(key), expected: "an external data offset within '\(external.location)' (\(file.count) bytes)", found: "offset \(offset)"))
        }
        let length = external.length ?? (file.count - offset)
        guard length <= file.count - offset else {
            throw FormatError(file: model, .truncated(at: .key(key), needed: length, available: file.count - offset, what: "external data at offset \(offset) of '\(external.location)'"))
        }
        guard length == byteCount else {
            throw FormatError(file: model, .malformed(at: .key(key), expected: "\(byteCount) bytes of external data (dims × itemsize)", found: "\(length) bytes" + (external.length == nil ? " (from offset \(offset) to the end of '\(external.location)')" : "")))
        }
        return .mapped(file, offset: offset, count: length)
    }

    /// The mapped file at `location`, after checking that it stays inside the model's directory.
    private func file(_ location: String, at key: String) throws -> MappedFile {
        if let found = mapped[location] { return found }
        func refuse(_ found: String) -> FormatError {
            FormatError(file: model, .malformed(at: .key(key), expected: "an external data location inside the model's directory", found: found))
        }
        guard let directory else { throw refuse("'\(location)', but the model is not read from a file") }
        guard !location.isEmpty, !location.utf8.contains(0) else { throw refuse("an empty location or one with a NUL byte") }
        guard !location.hasPrefix("/") else { throw refuse("the absolute path '\(location)'") }
        guard !location.split(separator: "/").contains("..") else { throw refuse("'\(location)', which leaves it with '..'") }
        let root = try resolvedRoot(directory, refuse: refuse)
        let path = directory + "/" + location
        guard let resolved = realpath(path, nil) else {
            let code = errno
            throw refuse("'\(location)', which cannot be opened: \(systemMessage(code))")
        }
        let target = String(cString: resolved)
        free(resolved)
        guard target.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw refuse("'\(location)', a symbolic link to '\(target)' outside '\(root)'")
        }
        let file: MappedFile
        do {
            file = try MappedFile(path: target)
        } catch let error as FormatError {
            throw refuse("'\(location)', which cannot be read: \(error.message)")
        }
        mapped[location] = file
        return file
    }

    private func resolvedRoot(_ directory: String, refuse: (String) -> FormatError) throws -> String {
        if let resolvedDirectory { return resolvedDirectory }
        guard let resolved = realpath(directory, nil) else {
            throw refuse("a model directory '\(directory)' that cannot be resolved: \(systemMessage(errno))")
        }
        let root = String(cString: resolved)
        free(resolved)
        resolvedDirectory = root
        return root
    }
}
