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

    private struct Remembered: Codable {
        let size: Int
        let modified: Double
        let sha256: String
    }

    /// The hex SHA-256 of the file at `path`, from the digest cache when the
    /// file has not changed since it was computed.
    public func digest(of path: String) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        var remembered = loadDigests()
        if let known = remembered[key], known.size == size, known.modified == modified { return known.sha256 }
        let digest = try Self.sha256(ofFile: path)
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

    private var digestsFile: String { root + "/digests.json" }

    private func loadDigests() -> [String: Remembered] {
        guard let data = FileManager.default.contents(atPath: digestsFile),
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
