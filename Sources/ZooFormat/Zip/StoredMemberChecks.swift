#if canImport(Glibc)
import Glibc
#endif

/// The zip CRC-32s of the stored members of a mapped archive, checked before their bytes
/// are handed out as data.
///
/// A stored member (`.npz` written by `np.savez`, a PyTorch storage, a `.keras` weights file)
/// is read in place: its tensors are views of the mapping, so no inflater checks its CRC as
/// it goes. Instead the zip readers register each stored member here (`register`), and every
/// read of a mapped tensor asks for the regions it covers to be verified first (`verify`):
/// the first full read of a member computes its CRC (libdeflate, tens of GB/s; or fused with
/// the `pread` that copies it, see `read(into:offset:)`), later reads find it verified. A
/// mismatch is `.checksumMismatch` naming the member and both CRCs, and stays one.
final class StoredMemberChecks: @unchecked Sendable {
    /// One stored member: its data's place in the file and the CRC its directory entry records.
    struct Region {
        let name: String
        let start: Int
        let count: Int
        let crc: UInt32
        var end: Int { start + count }
    }

    private enum State: Equatable {
        case unchecked
        case verified
        case failed(UInt32)
    }

    private var regions: [Region] = []
    private var states: [State] = []
    private var mutex = pthread_mutex_t()
    /// Whether any region still needs a check: a lock-free fast path for files without zip members.
    private var pending = false

    init() {
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Registers a stored member whose `count` data bytes at `start` must have CRC-32 `crc`.
    func register(name: String, start: Int, count: Int, crc: UInt32) {
        locked {
            let region = Region(name: name, start: start, count: count, crc: crc)
            let index = regions.firstIndex { $0.start > start } ?? regions.endIndex
            regions.insert(region, at: index)
            states.insert(.unchecked, at: index)
            pending = true
        }
    }

    /// Whether no registered region overlapping `offset..<offset + count` is left unchecked.
    func isVerified(offset: Int, count: Int) -> Bool {
        locked { overlapping(offset, count).allSatisfy { states[$0] == .verified } }
    }

    /// The indices of the regions overlapping `offset..<offset + count` (an empty range
    /// overlaps the region containing `offset`). Call locked.
    private func overlapping(_ offset: Int, _ count: Int) -> [Int] {
        guard pending else { return [] }
        return regions.indices.filter { index in
            let region = regions[index]
            return count == 0 ? (region.start <= offset && offset <= region.end) : (region.start < offset + count && offset < region.end)
        }
    }

    /// Checks every stored member overlapping `offset..<offset + count` of `file` that is not checked yet.
    /// - Throws: `.checksumMismatch` at the member's name with the recorded and computed CRCs.
    func verify(_ file: MappedFile, offset: Int, count: Int) throws {
        let unchecked: [(Int, Region, State)] = locked {
            overlapping(offset, count).compactMap { states[$0] == .verified ? nil : ($0, regions[$0], states[$0]) }
        }
        for (index, region, state) in unchecked {
            if case .failed(let actual) = state { throw mismatch(file, region, actual) }
            let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[region.start..<region.end])
            try record(Deflate.crc32(bytes), for: index, region, file)
        }
    }

    /// The single unchecked region that `offset..<offset + count` ends exactly, when the
    /// read of those bytes can compute its CRC as it copies them (the rest of the region,
    /// before `offset`, is then summed from the mapping). Nil when there is nothing to check
    /// or the bytes do not line up with one member's tail.
    func fusableRegion(offset: Int, count: Int) -> (index: Int, region: Region)? {
        locked {
            let indices = overlapping(offset, count).filter { states[$0] != .verified }
            guard indices.count == 1, let index = indices.first else { return nil }
            let region = regions[index]
            guard states[index] == .unchecked, region.start <= offset, offset + count == region.end else { return nil }
            return (index, region)
        }
    }

    /// Records the CRC computed for region `index`; throws if it is not the recorded one.
    func record(_ actual: UInt32, for index: Int, _ region: Region, _ file: MappedFile) throws {
        let ok = actual == region.crc
        locked { states[index] = ok ? .verified : .failed(actual) }
        if !ok { throw mismatch(file, region, actual) }
    }

    private func mismatch(_ file: MappedFile, _ region: Region, _ actual: UInt32) -> FormatError {
        FormatError(file: file.path, .checksumMismatch(at: .key(region.name), expected: Deflate.crcText(region.crc), found: Deflate.crcText(actual)))
    }

    /// Checks every registered member of `file`; the mismatches, one per damaged member.
    func verifyAll(_ file: MappedFile) -> [FormatError] {
        let all = locked { regions }
        var failures: [FormatError] = []
        for region in all {
            do { try verify(file, offset: region.start, count: region.count) } catch let error as FormatError { failures.append(error) } catch {}
        }
        return failures
    }

    /// How many members are registered, and how many were verified (for `zoo verify`).
    var summary: (members: Int, verified: Int) {
        locked { (regions.count, states.filter { $0 == .verified }.count) }
    }
}
