#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns what a user names into a TensorFlow checkpoint prefix. A checkpoint is
/// several files, none of them named by the prefix itself:
///
///     train/checkpoint                              model_checkpoint_path: "model.ckpt-1000"
///     train/model.ckpt-1000.index                   the table of entries
///     train/model.ckpt-1000.data-00000-of-00002     the bytes, in shards
///     train/model.ckpt-1000.data-00001-of-00002
///
/// Accepted: the prefix (`train/model.ckpt-1000`), its `.index`, one of its
/// `.data-…` files or its `.meta` graph, or the directory (whose `checkpoint` file names the latest prefix).
enum TFCheckpointLocator {
    /// The checkpoint prefix `path` stands for, or nil if `path` is not a TensorFlow
    /// checkpoint by name (the caller then detects its format by its bytes).
    /// - Throws: `.unreadable` for a directory that names no checkpoint, `.malformed` for a
    ///   `checkpoint` file without `model_checkpoint_path`.
    static func prefix(for path: String) throws -> String? {
        switch kind(path) {
        case .directory:
            return try prefix(inDirectory: path)
        case .regular:
            if path.hasSuffix(".index") { return String(path.dropLast(".index".count)) }
            if let range = dataSuffixRange(path) { return String(path[..<range]) }
            // The graph saved next to a v1 checkpoint: its weights are in the bundle.
            if path.hasSuffix(".meta"), kind(String(path.dropLast(".meta".count)) + ".index") == .regular {
                return String(path.dropLast(".meta".count))
            }
            return nil
        case .missing:
            return kind(path + ".index") == .regular ? path : nil
        }
    }

    enum Kind { case regular, directory, missing }

    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .regular
    }

    /// The start of a `.data-00000-of-00001` suffix (always 20 characters).
    private static func dataSuffixRange(_ path: String) -> String.Index? {
        let suffix = Array(path.utf8.suffix(20))
        guard suffix.count == 20 else { return nil }
        let digits = Array(suffix[6..<11]) + Array(suffix[15..<20])
        guard Array(suffix[0..<6]) == Array(".data-".utf8), Array(suffix[11..<15]) == Array("-of-".utf8),
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return path.utf8.index(path.utf8.endIndex, offsetBy: -20)
    }

    /// The prefix named by `directory/checkpoint` (`model_checkpoint_path: "…"`),
    /// relative to the directory unless absolute; an absolute path that does not
    /// exist (the directory was moved) is retried by its last component.
    /// Without a `checkpoint` file, a directory holding exactly one `.index` names that checkpoint.
    private static func prefix(inDirectory directory: String) throws -> String {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let stateFile = base + "checkpoint"
        if kind(stateFile) == .missing {
            let indexes = indexFiles(in: directory)
            guard indexes.count == 1 else {
                // As for any directory that is not a checkpoint: it cannot be read as a tensor file (66).
                throw FormatError(file: directory, .unreadable(message: indexes.isEmpty
                    ? "a directory with neither a TensorFlow 'checkpoint' file nor a single .index"
                    : "a directory with no 'checkpoint' file and \(indexes.count) .index files (\(indexes.prefix(5).joined(separator: ", "))): name one"))
            }
            return base + String(indexes[0].dropLast(".index".count))
        }
        let file = try MappedFile(path: stateFile)
        let text = String(decoding: file.bytes, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " })
            guard trimmed.hasPrefix("model_checkpoint_path:") else { continue }
            guard let value = quoted(trimmed.dropFirst("model_checkpoint_path:".count)), !value.isEmpty else { break }
            if value.hasPrefix("/") {
                if kind(value + ".index") == .regular { return value }
                return base + (value.split(separator: "/").last.map(String.init) ?? value)
            }
            return base + value
        }
        throw FormatError(file: stateFile, .malformed(at: .key("model_checkpoint_path"), expected: "a line model_checkpoint_path: \"PREFIX\"", found: "none"))
    }

    /// Names of the `.index` files directly in `directory`, sorted.
    private static func indexFiles(in directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasSuffix(".index"), name.count > ".index".count { names.append(name) }
        }
        return names.sorted()
    }

    /// The contents of a protobuf text-format string `"…"` (with `\"` and `\\` escapes).
    private static func quoted(_ text: Substring) -> String? {
        let body = text.drop(while: { $0 == " " })
        guard body.first == "\"" else { return nil }
        var result = ""
        var escaped = false
        for character in body.dropFirst() {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                return result
            } else {
                result.append(character)
            }
        }
        return nil
    }
}
