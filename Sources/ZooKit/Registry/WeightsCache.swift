import Crypto
import Foundation

/// The download cache (`$XDG_CACHE_HOME/zoo`, default `~/.cache/zoo`): fetched
/// weights under `weights/NAME/FILE`, and remembered SHA-256 digests in
/// `digests.json`, keyed by path and valid while size and modification time match.
public struct WeightsCache: Sendable {
    /// The cache folder.
    public let root: String

    /// A cache in `root` (created when something is written).
    public init(root: String) {
        self.root = root
    }

    /// Where a model's downloaded weights file goes: `ROOT/weights/MODEL/FILE`.
    public func path(model: String, file: String) -> String {
        root + "/weights/" + model + "/" + file
    }

    struct Remembered: Codable {
        let size: Int
        let modified: Double
        let sha256: String
    }

    /// A file's size and modification time, from its attributes.
    private static func stamp(_ attributes: [FileAttributeKey: Any]) -> (size: Int, modified: Double) {
        ((attributes[.size] as? NSNumber)?.intValue ?? -1, (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
    }

    /// The hex SHA-256 of the file at `path`, from the digest cache when the
    /// file has not changed since it was computed.
    public func digest(of path: String) throws -> String {
        let (size, modified) = Self.stamp(try FileManager.default.attributesOfItem(atPath: path))
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        var remembered = loadDigests()
        if let known = remembered[key], known.size == size, known.modified == modified { return known.sha256 }
        let digest = try Self.sha256(ofFile: path)
        // Only files still as they were when digested are kept, so the file holds no more
        // entries than there are such files (tests and imports digest many short-lived ones).
        remembered = remembered.filter { path, known in
            (try? FileManager.default.attributesOfItem(atPath: path)).map(Self.stamp).map {
                $0.size == known.size && $0.modified == known.modified
            } ?? false
        }
        remembered[key] = Remembered(size: size, modified: modified, sha256: digest)
        saveDigests(remembered)
        return digest
    }

    /// SHA-256 of a whole file, read in 4 MiB pieces.
    public static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ZooKitError.weightsMissing(model: "", path: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    var digestsFile: String { root + "/digests.json" }

    /// The largest digest file read (an entry takes ~200 bytes).
    static let largestDigestFile = 16 << 20

    /// The remembered digests; none when the file is missing, not a regular file, larger than
    /// `largestDigestFile` (read no further) or not what `saveDigests` writes.
    func loadDigests() -> [String: Remembered] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: digestsFile),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let handle = FileHandle(forReadingAtPath: digestsFile) else { return [:] }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: Self.largestDigestFile + 1), data.count <= Self.largestDigestFile,
              let decoded = try? JSONDecoder().decode([String: Remembered].self, from: data)
        else { return [:] }
        return decoded
    }

    /// Best effort: a cache that cannot be written only costs a recomputation next time.
    private func saveDigests(_ digests: [String: Remembered]) {
        guard let data = try? JSONEncoder().encode(digests) else { return }
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try? AtomicWrite.registryFile(data, to: digestsFile)
    }
}
