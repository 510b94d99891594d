/// Raw bytes that stay valid as long as this value lives: a view into a
/// mapped file, or a buffer Zoo allocated (an inflated zip member, a converted copy).
public struct TensorBytes: @unchecked Sendable {
    /// The bytes. Valid while `self` (and so its owner) is alive; use
    /// `withUnsafeBytes` to keep them alive across a call.
    public let buffer: UnsafeRawBufferPointer
    let owner: AnyObject?

    init(buffer: UnsafeRawBufferPointer, owner: AnyObject?) {
        self.buffer = buffer
        self.owner = owner
    }

    /// A view of `count` bytes at `offset` of a mapped file (no copy).
    init(file: MappedFile, offset: Int, count: Int) {
        buffer = UnsafeRawBufferPointer(rebasing: file.bytes[offset..<offset + count])
        owner = file
    }

    /// An empty value.
    static let empty = TensorBytes(buffer: UnsafeRawBufferPointer(start: nil, count: 0), owner: nil)

    /// The number of bytes.
    public var count: Int { buffer.count }

    /// Calls `body` with the bytes, keeping their owner alive for the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(buffer) }
    }

    /// A copy of the bytes in a new heap buffer.
    public func copied() -> [UInt8] { withUnsafeBytes { Array($0) } }
}

#if canImport(Glibc)
import Glibc
#endif

/// Asks for transparent huge pages on the 2 MiB-aligned interior of a new
/// buffer of 4 MiB or more, before it is written (as NumPy does): one page
/// fault per 2 MiB instead of per 4 KiB, which halves the cost of filling it.
func adviseHugePages(_ base: UnsafeMutableRawPointer?, count: Int) {
    #if os(Linux)
    guard count >= 4 << 20, let base else { return }
    let huge = 2 << 20
    let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: base) + count) & ~(huge - 1)
    if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
    #endif
}

/// A 64-byte aligned heap buffer that frees itself; the owner of converted bytes.
final class HeapBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    /// Allocates `count` bytes (uninitialized).
    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        adviseHugePages(pointer, count: count)
    }

    /// Allocates `count` bytes for `what` of `file`, or throws when the allocation fails
    /// (past physical memory, or the process's address-space limit), instead of trapping.
    init(checkedCount count: Int, file: String, what: String) throws {
        var base: UnsafeMutableRawPointer?
        guard count <= physicalMemory, posix_memalign(&base, 64, max(count, 1)) == 0, let base else {
            throw FormatError(file: file, .outOfMemory(what: what, bytes: count))
        }
        self.count = count
        pointer = base
        adviseHugePages(pointer, count: count)
    }

    deinit { pointer.deallocate() }

    var bytes: TensorBytes {
        TensorBytes(buffer: UnsafeRawBufferPointer(start: pointer, count: count), owner: self)
    }
}
