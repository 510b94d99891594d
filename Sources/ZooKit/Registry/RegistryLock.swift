import Foundation
import ZooFormat

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a registry folder, so that concurrent imports into one registry take turns.
enum RegistryLock {
    /// Runs `body` holding an exclusive `flock` on `FOLDER/.lock` (created if needed).
    /// - Throws: ``ZooKitError/registryNotWritable(path:reason:)`` when the folder or lock file
    ///   cannot be created or locked; whatever `body` throws.
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

extension AtomicWrite {
    /// Writes `data` to `path` atomically (see `AtomicWrite`), for registry files.
    /// - Throws: ``ZooKitError/registryNotWritable(path:reason:)`` with the system's reason.
    static func registryFile(_ data: Data, to path: String) throws {
        do {
            try write(Array(data), to: path)
        } catch let error as FormatError {
            throw ZooKitError.registryNotWritable(path: path, reason: error.description)
        }
    }
}

func systemMessage(_ code: Int32) -> String { String(cString: strerror(code)) }
