import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Small atomic file operations for the registry: write beside, then rename;
/// and an exclusive lock on a registry folder.
enum AtomicWrite {
    /// Writes `data` to `path` through a temporary file in the same folder and a rename.
    static func data(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw ZooKitError.registryNotWritable(path: path, reason: systemMessage(errno))
        }
        guard rename(temporary, path) == 0 else {
            let reason = systemMessage(errno)
            unlink(temporary)
            throw ZooKitError.registryNotWritable(path: path, reason: reason)
        }
    }

    /// Runs `body` holding an exclusive `flock` on `FOLDER/.lock` (created if needed),
    /// so concurrent imports into one registry take turns.
    static func withLock<T>(on folder: String, _ body: () throws -> T) throws -> T {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ZooKitError.registryNotWritable(path: folder, reason: (error as NSError).localizedDescription)
        }
        let descriptor = open(folder + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ZooKitError.registryNotWritable(path: folder, reason: systemMessage(errno)) }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw ZooKitError.registryNotWritable(path: folder, reason: "flock: " + systemMessage(errno)) }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}

func systemMessage(_ code: Int32) -> String { String(cString: strerror(code)) }
