// zoo-bench: read throughput of ZooFormat, one reader and one file per process.
//
//     zoo-bench <reader> <file> [--format NAME] [--repeat N] [--warmup W]
//
// Readers (every one touches every byte of every tensor, see Touch.swift):
//     stored           TensorArchive.open + storedBytes() of each tensor, single thread:
//                      a view of the mapping for .npy / safetensors / stored .npz,
//                      the inflated member for deflated .npz
//     floats           TensorArchive.open + floats() of each tensor (a new [Float] each),
//                      single thread: what a loader that wants owned arrays pays
//     stored-parallel  as `stored`, tensors spread over all cores (concurrentPerform):
//                      what parallel inflation of deflated members would give
//     read             baseline, not Zoo: read() of the whole file into one buffer
//                      (allocated and pre-faulted before timing), then touch the buffer
//     mmap             baseline, not Zoo: mmap the whole file and touch it (the speed
//                      of touching mapped memory, which zero-copy readers should reach)
//     touch            baseline, not Zoo: touch a resident, pre-faulted buffer of the
//                      file's size (the memory-bandwidth ceiling of the touch itself)
//
// Experiments (x-…, see Experiments.swift and LibDeflate.swift; EXPERIMENTS=1 bash bench/run.sh):
//     floats-into      readFloats(into:) one pre-faulted buffer, reused for every tensor
//     x-floats-fresh, x-floats-fresh-huge   readFloats(into:) a fresh mapping per tensor,
//                      without / with MADV_HUGEPAGE
//     x-floats-huge    floats() with the proposed fix: MADV_HUGEPAGE on each new array
//     x-floats-pread   as x-floats-huge, but float32 tensors pread() from the file into the array
//     x-memcpy-into    memcpy of storedBytes() into one pre-faulted buffer
//     x-libdeflate     deflated .npz inflated by libdeflate instead of zlib
//     x-mmap-populate  as `mmap`, with MADV_POPULATE_READ before the touch
//     x-h5-read, x-h5-nocache, x-h5-floats-direct, x-h5-chunks, x-h5-chunks-libdeflate,
//     x-h5-chunks-parallel   HDF5 (HDF5Experiments.swift): H5Dread with the default /
//                      no chunk cache, H5Dread straight into a new [Float], and raw
//                      chunks (H5Dread_chunk) inflated by zlib / libdeflate / on all cores
//
// On HDF5 files, `stored` and `floats` are the same readers as for every format:
// a view of the mapping for contiguous datasets, ZooFormat's loader for chunked and
// filtered ones (H5Dread, or raw chunks inflated by libdeflate for [shuffle,] deflate),
// into a fresh buffer for `stored`, straight into the new [Float] for `floats`.
//
// Each repetition starts from nothing (open/map, read, touch, unmap), so page
// faults and header parsing are timed. The file is expected in the page cache
// (run.sh reads it once first). Prints one machine-readable line:
//
//     RESULT <format> <reader> <bytes> <t1,t2,…> <VmHWM KiB> <VmRSS before KiB> <checksum>
//
// where bytes is the tensor payload touched per repetition, t are the timed
// repetitions in seconds, and checksum is the wrapping UInt64 sum defined in
// Touch.swift (the same for every reader and format of the same model).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import ZooFormat

struct Options {
    var reader = ""
    var file = ""
    var format = ""
    var repeats = 5
    var warmup = 1
}

func printError(_ message: String) {
    var text = message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func usage() -> Never {
    printError("usage: zoo-bench stored|floats|stored-parallel|read|mmap|touch|floats-into|x-… FILE [--format NAME] [--repeat N] [--warmup W]")
    exit(2)
}

func value(_ text: String?) -> String {
    guard let text else { usage() }
    return text
}

func number(_ text: String?) -> Int {
    guard let text, let value = Int(text) else { usage() }
    return value
}

func parseOptions() -> Options {
    var options = Options()
    var positional: [String] = []
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--format": options.format = value(arguments.next())
        case "--repeat": options.repeats = number(arguments.next())
        case "--warmup": options.warmup = number(arguments.next())
        case "-h", "--help": usage()
        default: positional.append(argument)
        }
    }
    guard positional.count == 2, options.repeats > 0, options.warmup >= 0 else { usage() }
    options.reader = positional[0]
    options.file = positional[1]
    if options.format.isEmpty {
        let base = options.file.split(separator: "/").last.map(String.init) ?? options.file
        options.format = base.split(separator: ".").last.map(String.init) ?? "?"
    }
    return options
}

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// A field of /proc/self/status in KiB (VmHWM: peak resident set; VmRSS: current).
func procStatus(_ field: String) -> Int {
    guard let handle = fopen("/proc/self/status", "r") else { return -1 }
    defer { fclose(handle) }
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, Int32(line.count), handle) != nil {
        let text = String(decoding: line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix(field + ":") {
            return Int(text.dropFirst(field.count + 1).filter { $0.isNumber }) ?? -1
        }
    }
    return -1
}

func fail(_ message: String) -> Never {
    printError("zoo-bench: \(message)")
    exit(1)
}

/// One repetition of a reader: returns (bytes touched, checksum).
typealias Repetition = () throws -> (bytes: Int, sum: UInt64)

func zooStored(_ path: String) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    var bytes = 0
    var sum: UInt64 = 0
    for tensor in archive.tensors {
        let stored = try tensor.storedBytes()
        sum &+= stored.withUnsafeBytes { touch(UnsafeRawBufferPointer(rebasing: $0[0..<tensor.byteCount])) }
        bytes += tensor.byteCount
    }
    return (bytes, sum)
}

func zooFloats(_ path: String) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    var bytes = 0
    var sum: UInt64 = 0
    for tensor in archive.tensors {
        let values = try tensor.floats()
        sum &+= values.withUnsafeBytes { touch($0) }
        bytes += values.count * MemoryLayout<Float>.size
    }
    return (bytes, sum)
}

/// Per-tensor results written by concurrent workers, each to its own index.
final class Slots: @unchecked Sendable {
    let sums: UnsafeMutableBufferPointer<UInt64>
    let errors: UnsafeMutableBufferPointer<String?>
    init(_ count: Int) {
        sums = .allocate(capacity: count)
        sums.initialize(repeating: 0)
        errors = .allocate(capacity: count)
        errors.initialize(repeating: nil)
    }
    deinit {
        sums.deallocate()
        _ = errors.deinitialize()
        errors.deallocate()
    }
}

struct ReadError: Error, CustomStringConvertible {
    let description: String
}

func zooStoredParallel(_ path: String) throws -> (bytes: Int, sum: UInt64) {
    let archive = try TensorArchive.open(path)
    let tensors = archive.tensors
    // Largest first, so the big tensors do not end up alone at the tail.
    let order = tensors.indices.sorted { tensors[$0].byteCount > tensors[$1].byteCount }
    let slots = Slots(tensors.count)
    DispatchQueue.concurrentPerform(iterations: order.count) { position in
        let index = order[position]
        let tensor = tensors[index]
        do {
            let stored = try tensor.storedBytes()
            slots.sums[index] = stored.withUnsafeBytes { touch(UnsafeRawBufferPointer(rebasing: $0[0..<tensor.byteCount])) }
        } catch {
            slots.errors[index] = "\(error)"
        }
    }
    if let error = slots.errors.compactMap({ $0 }).first { throw ReadError(description: error) }
    return (archive.byteCount, slots.sums.reduce(0, &+))
}

/// A pre-faulted buffer of `count` bytes, kept for the whole process.
func residentBuffer(_ count: Int) -> UnsafeMutableRawBufferPointer {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 4096)
    memset(buffer.baseAddress!, 0, buffer.count)
    return buffer
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { fail("\(path): \(String(cString: strerror(errno)))") }
    return Int(info.st_size)
}

func readWhole(_ path: String, into buffer: UnsafeMutableRawBufferPointer) -> Int {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { fail("\(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var done = 0
    while done < buffer.count {
        let got = read(fd, buffer.baseAddress! + done, buffer.count - done)
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else { break }
        done += got
    }
    return done
}

let options = parseOptions()
let rssBefore = procStatus("VmRSS")
let repetition: Repetition
switch options.reader {
case "stored": repetition = { try zooStored(options.file) }
case "floats": repetition = { try zooFloats(options.file) }
case "stored-parallel": repetition = { try zooStoredParallel(options.file) }
case "floats-into":
    let elements = largestTensor(options.file)
    let buffer = residentBuffer(elements * 4).bindMemory(to: Float.self)
    repetition = { try zooFloatsIntoReused(options.file, buffer) }
case "x-memcpy-into":
    let buffer = residentBuffer(largestTensor(options.file) * 4)
    repetition = { try zooMemcpyIntoReused(options.file, buffer) }
case "x-libdeflate": repetition = { try libdeflateNPZ(options.file) }
case "mmap": repetition = { try mapAndTouch(options.file, populate: false) }
case "x-mmap-populate": repetition = { try mapAndTouch(options.file, populate: true) }
case "x-floats-huge": repetition = { try zooFloatsHuge(options.file) }
case "x-floats-pread": repetition = { try zooFloatsPread(options.file) }
case "x-floats-fresh": repetition = { try zooFloatsIntoFresh(options.file, hugePages: false) }
case "x-floats-fresh-huge": repetition = { try zooFloatsIntoFresh(options.file, hugePages: true) }
case "x-h5-read": repetition = { try h5Read(options.file, cacheBytes: nil) }
case "x-h5-nocache": repetition = { try h5Read(options.file, cacheBytes: 0) }
case "x-h5-floats-direct": repetition = { try h5FloatsDirect(options.file) }
case "x-h5-chunks": repetition = { try h5Chunks(options.file, inflater: .zlib, parallel: false) }
case "x-h5-chunks-libdeflate", "x-h5-chunks-parallel":
    let library: LibDeflate
    do { library = try LibDeflate.load() } catch { fail("\(error)") }
    let parallel = options.reader == "x-h5-chunks-parallel"
    repetition = { try h5Chunks(options.file, inflater: .libdeflate(library), parallel: parallel) }
case "read":
    let buffer = residentBuffer(fileSize(options.file))
    repetition = {
        let count = readWhole(options.file, into: buffer)
        return (count, touch(UnsafeRawBufferPointer(rebasing: buffer[0..<count])))
    }
case "touch":
    let buffer = residentBuffer(fileSize(options.file))
    _ = readWhole(options.file, into: buffer)
    repetition = { (buffer.count, touch(UnsafeRawBufferPointer(buffer))) }
default: usage()
}

var times: [Double] = []
var bytes = 0
var checksum: UInt64 = 0
do {
    for index in 0..<(options.warmup + options.repeats) {
        let start = now()
        let result = try repetition()
        let elapsed = now() - start
        if index >= options.warmup { times.append(elapsed) }
        if index > 0 && (result.bytes != bytes || result.sum != checksum) {
            fail("repetition \(index) read \(result.bytes) bytes, checksum \(result.sum); earlier \(bytes), \(checksum)")
        }
        bytes = result.bytes
        checksum = result.sum
    }
} catch {
    fail("\(options.file): \(error)")
}
let peak = procStatus("VmHWM")
let timesText = times.map { String($0) }.joined(separator: ",")
let label = switch options.reader {
case "read": "read()+touch"
case "touch": "touch resident"
case "mmap": "mmap+touch"
default: "zoo " + options.reader
}
print("RESULT\t\(options.format)\t\(label)\t\(bytes)\t\(timesText)\t\(peak)\t\(rssBefore)\t\(checksum)")
