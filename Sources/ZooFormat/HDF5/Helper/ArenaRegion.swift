import CZooHelper
import Foundation

/// The helper's shared memory arena: a memfd, closed when the last user is released.
final class Arena: @unchecked Sendable {
    let descriptor: Int32
    private let owned: Bool

    /// `owned`: close the descriptor on release (the parent's; the helper's lives as long as it does).
    init(descriptor: Int32, owned: Bool) {
        self.descriptor = descriptor
        self.owned = owned
    }

    deinit { if owned { close(descriptor) } }
}

/// A span of the helper's shared memory arena mapped into this process; unmapped when
/// released, and its pages freed (a hole punched) when `freesPages` (the parent's copy).
final class ArenaRegion: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let mappedCount: Int
    private let arena: Arena
    private let pageOffset: Int
    private let freesPages: Bool

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Maps `span` of `arena` (whose offset must be page-aligned).
    init(arena: Arena, span: ArenaSpan, writable: Bool = false, freesPages: Bool = false) throws {
        self.arena = arena
        self.freesPages = freesPages
        pageOffset = span.offset
        mappedCount = max(span.count, 1)
        guard span.offset >= 0, span.offset % Self.pageSize == 0, span.count >= 0 else {
            throw FormatError(file: "", .malformed(at: .offset(span.offset), expected: "a page-aligned arena span", found: "\(span.offset)+\(span.count)"))
        }
        let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
        // Shared memory gets no transparent huge pages here: fault a large span in with one call
        // (the parent first, allocating the pages; the helper then maps the same pages) instead of
        // one fault per 4 KiB page in each process, which costs more than the copy it replaces.
        let flags = MAP_SHARED | (span.count >= 1 << 20 ? MAP_POPULATE : 0)
        guard let pointer = mmap(nil, mappedCount, protection, flags, arena.descriptor, off_t(span.offset)), pointer != MAP_FAILED else {
            throw FormatError(file: "", .unreadable(message: "mmap of the helper's arena: " + systemMessage(errno)))
        }
        base = pointer
        bytes = UnsafeRawBufferPointer(start: pointer, count: span.count)
    }

    deinit {
        if let base { munmap(base, mappedCount) }
        if freesPages { _ = zoo_punch_hole(arena.descriptor, Int64(pageOffset), Int64(mappedCount)) }
    }

    var tensorBytes: TensorBytes { TensorBytes(buffer: bytes, owner: self) }
}
