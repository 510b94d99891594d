#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZooFormat

// Readers that isolate where `floats()` spends its time (see README, "Findings"):
// the same readFloats(into:) conversion into different kinds of destination.

/// readFloats(into:) a buffer allocated and pre-faulted once, reused for every tensor:
/// the conversion alone.
func zooFloatsIntoReused(_ path: String, _ buffer: UnsafeMutableBufferPointer<Float>) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    var bytes = 0
    var sum: UInt64 = 0
    for tensor in archive.tensors {
        let destination = UnsafeMutableBufferPointer(rebasing: buffer[0..<tensor.elementCount])
        try tensor.readFloats(into: destination)
        sum &+= touch(UnsafeRawBufferPointer(destination))
        bytes += tensor.elementCount * 4
    }
    return (bytes, sum)
}

/// readFloats(into:) a fresh anonymous mapping per tensor, optionally with
/// MADV_HUGEPAGE (what numpy does for arrays of 4 MiB and more): the page-fault cost.
func zooFloatsIntoFresh(_ path: String, hugePages: Bool) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    var bytes = 0
    var sum: UInt64 = 0
    for tensor in archive.tensors {
        let count = max(tensor.elementCount * 4, 1)
        guard let base = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            throw ReadError(description: "mmap failed")
        }
        defer { munmap(base, count) }
        if hugePages { _ = madvise(base, count, MADV_HUGEPAGE) }
        let destination = UnsafeMutableBufferPointer(start: base.bindMemory(to: Float.self, capacity: tensor.elementCount), count: tensor.elementCount)
        try tensor.readFloats(into: destination)
        sum &+= touch(UnsafeRawBufferPointer(destination))
        bytes += tensor.elementCount * 4
    }
    return (bytes, sum)
}

/// The largest tensor of `path`, in elements.
func largestTensor(_ path: String) -> Int {
    do {
        return try TensorArchive.open(path).tensors.map(\.elementCount).max() ?? 0
    } catch {
        fail("\(path): \(error)")
    }
}

/// memcpy of each tensor's stored bytes into a buffer allocated and pre-faulted once:
/// the ceiling for readFloats(into:) of float32 data.
func zooMemcpyIntoReused(_ path: String, _ buffer: UnsafeMutableRawBufferPointer) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    var bytes = 0
    var sum: UInt64 = 0
    for tensor in archive.tensors {
        let stored = try tensor.storedBytes()
        stored.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: tensor.byteCount)
        }
        sum &+= touch(UnsafeRawBufferPointer(start: buffer.baseAddress, count: tensor.byteCount))
        bytes += tensor.byteCount
    }
    return (bytes, sum)
}

/// Maps the whole file (as MappedFile does) and touches it, with the page tables
/// filled either by faults as the touch goes (`populate` false: what every
/// zero-copy reader here does) or up front by madvise(MADV_POPULATE_READ)
/// (Linux 5.14+, `populate` true). Touches the whole file, headers included.
func mapAndTouch(_ path: String, populate: Bool) throws -> (bytes: Int, sum: UInt64) {
    try withMappedFile(path) { file in
        if populate {
            let madvPopulateRead: Int32 = 22  // MADV_POPULATE_READ
            guard madvise(UnsafeMutableRawPointer(mutating: file.baseAddress), file.count, madvPopulateRead) == 0 else {
                throw ReadError(description: "MADV_POPULATE_READ: \(String(cString: strerror(errno)))")
            }
        }
        return (file.count, touch(file))
    }
}

/// Calls `body` with the whole file mapped read-only (plain mmap, no advice), then unmaps it.
func withMappedFile<R>(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ReadError(description: "\(path): cannot open") }
    var info = stat()
    fstat(fd, &info)
    let size = Int(info.st_size)
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
        close(fd)
        throw ReadError(description: "mmap failed")
    }
    close(fd)
    defer { munmap(base, size) }
    return try body(UnsafeRawBufferPointer(start: base, count: size))
}

/// The fix proposed for `floats()` (README, "Findings"): before converting into
/// a large new array, ask for transparent huge pages on its 2 MiB-aligned
/// interior, as numpy does for arrays of 4 MiB and more.
func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    guard buffer.count >= 4 << 20, let base = buffer.baseAddress else { return }
    let huge = 2 << 20
    let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: base) + buffer.count) & ~(huge - 1)
    if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
    #endif
}

/// `floats()` with that fix: a new [Float] per tensor, huge-page advised, then readFloats(into:).
func zooFloatsHuge(_ path: String) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    var bytes = 0
    var sum: UInt64 = 0
    for tensor in archive.tensors {
        let values = try [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            try tensor.readFloats(into: buffer)
            initialized = tensor.elementCount
        }
        sum &+= values.withUnsafeBytes { touch($0) }
        bytes += values.count * MemoryLayout<Float>.size
    }
    return (bytes, sum)
}

/// A further step for `floats()` of float32, little-endian, contiguous tensors of a
/// mapped file: pread() the bytes straight into the huge-page advised array (as
/// np.load does) instead of copying from the mapping, so the source pages are never
/// faulted into this process (faster, and RSS stays at one copy of the payload).
func zooFloatsPread(_ path: String) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ReadError(description: "\(path): cannot open") }
    defer { close(fd) }
    var bytes = 0
    var sum: UInt64 = 0
    for tensor in archive.tensors {
        let values = try [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            if case .mapped(_, let offset, _) = tensor.source, tensor.dtype == .float32, tensor.isCanonical {
                let raw = UnsafeMutableRawBufferPointer(buffer)
                var done = 0
                while done < tensor.byteCount {
                    let got = pread(fd, raw.baseAddress! + done, tensor.byteCount - done, off_t(offset + done))
                    if got < 0 && errno == EINTR { continue }
                    guard got > 0 else { throw ReadError(description: "pread failed") }
                    done += got
                }
            } else {
                try tensor.readFloats(into: buffer)
            }
            initialized = tensor.elementCount
        }
        sum &+= values.withUnsafeBytes { touch($0) }
        bytes += values.count * MemoryLayout<Float>.size
    }
    return (bytes, sum)
}
