import CHDF5
import Foundation

/// The one door to libhdf5: every call goes through `HDF5.call`, under one
/// process-wide lock (Debian's libhdf5 is built without thread safety), and a
/// negative return becomes an `HDF5Error` carrying HDF5's own error stack.
enum HDF5 {
    private static let lock = NSRecursiveLock()  // handles close (deinit) inside locked sections

    /// Opens the library once and turns off its automatic printing to stderr.
    private static let initialized: Bool = {
        H5open()
        zoo_silence_errors()
        HDF5Filters.addPluginDirectories()
        return true
    }()

    /// Runs `body` holding the HDF5 lock.
    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = initialized
        return try body()
    }

    /// Calls an HDF5 function that signals failure with a negative value.
    /// Must run inside `locked`.
    @discardableResult
    static func check<T: BinaryInteger>(_ operation: String, _ result: T) throws(HDF5Error) -> T {
        guard result >= 0 else { throw HDF5Error(operation: operation, stack: currentStack()) }
        return result
    }

    /// The linked library's version, e.g. `1.10.8`.
    static let versionText: String = {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        _ = H5get_libversion(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }()

    /// The current error stack as one line, innermost call first; clears it.
    static func currentStack() -> String {
        var buffer = [CChar](repeating: 0, count: 2048)
        zoo_error_summary(&buffer, buffer.count)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// A failed libhdf5 call: which operation, and HDF5's error stack in one line.
public struct HDF5Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HDF5 call that failed (`H5Dread`, `H5Fopen`, …).
    public let operation: String
    /// HDF5's error stack in one line, innermost call first (empty if HDF5 reported none).
    public let stack: String

    /// `OPERATION failed (STACK)`.
    public var description: String {
        stack.isEmpty ? "\(operation) failed" : "\(operation) failed (\(stack))"
    }
}

/// Owns one HDF5 identifier and closes it when released.
final class HDF5Handle {
    let id: hid_t

    /// Takes ownership of `id` (which must be valid). Call inside `HDF5.locked`.
    init(_ id: hid_t) {
        self.id = id
    }

    deinit {
        HDF5.locked { _ = H5Idec_ref(id) }
    }

    /// Opens with `open` and takes ownership, checking the result.
    static func open(_ operation: String, _ open: () -> hid_t) throws(HDF5Error) -> HDF5Handle {
        HDF5Handle(try HDF5.check(operation, open()))
    }
}
