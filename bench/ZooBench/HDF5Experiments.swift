#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CHDF5
import CZlib
import Dispatch
import ZooFormat

// Experiments behind the HDF5 findings (README): the same reads as ZooFormat's
// HDF5 loader (`HDF5Dataset.swift` readDataset: H5Dopen2, H5Dread of the whole
// dataset with H5S_ALL and default property lists into a fresh buffer), with one
// thing changed at a time. libhdf5 is called directly (`import CHDF5` resolves
// through ZooFormat's dependency; see README for the explicit Package.swift line).
// Every reader lists the datasets with TensorArchive (not timed separately: it is
// part of every repetition, as in `zoo stored`), then reads each one and touches it.
//
//     x-h5-read            H5Dread into a fresh huge-page advised buffer, default
//                          chunk cache (1 MiB): what `zoo stored` does for chunked data
//     x-h5-nocache         as x-h5-read, dataset access list with H5Pset_chunk_cache(…, 0 bytes, …):
//                          unfiltered chunks are then read by libhdf5 straight into the buffer
//     x-h5-floats-direct   floats(): a new [Float] per tensor, H5Dread straight into it
//                          (float32 memory type; no chunk cache), instead of H5Dread into a
//                          HeapBuffer and converting that into the [Float]
//     x-h5-chunks          gzip: H5Dread_chunk of each raw chunk, zlib `uncompress` into a
//                          reused chunk buffer, unshuffle into the destination
//     x-h5-chunks-libdeflate   the same with libdeflate_zlib_decompress
//     x-h5-chunks-parallel the same (libdeflate), chunks inflated on all cores; only
//                          H5Dread_chunk runs under one lock (libhdf5 is not thread-safe)

/// One open dataset of a file opened with libhdf5 for an experiment.
private struct Dataset {
    let id: hid_t
    let elements: Int
    let elementSize: Int
    let shape: [Int]
    let chunk: [Int]?
    let filters: [Int32]
}

private let hdf5Ready: Bool = { H5open(); return true }()

private func check<T: BinaryInteger>(_ what: String, _ value: T) throws -> T {
    guard value >= 0 else { throw ReadError(description: "\(what) failed") }
    return value
}

/// Opens `path` with libhdf5 and calls `body` for each dataset (TensorArchive's order).
/// `cacheBytes`: the dataset chunk cache size (nil: libhdf5's default, 1 MiB).
private func forEachDataset(_ path: String, cacheBytes: Int?, _ body: (Dataset) throws -> Void) throws {
    _ = hdf5Ready
    let names = try TensorArchive.open(path).tensors.map { $0.path ?? "/" + $0.name }
    let file = try check("H5Fopen", H5Fopen(path, zoo_h5f_acc_rdonly(), zoo_h5p_default()))
    defer { H5Fclose(file) }
    var access = zoo_h5p_default()
    if let cacheBytes {
        // H5P_DATASET_ACCESS is a macro over a library global Swift 6 refuses to read: look it up.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "H5P_CLS_DATASET_ACCESS_ID_g") else { throw ReadError(description: "no H5P_CLS_DATASET_ACCESS_ID_g") }
        access = try check("H5Pcreate", H5Pcreate(symbol.load(as: hid_t.self)))
        _ = try check("H5Pset_chunk_cache", H5Pset_chunk_cache(access, Int(bitPattern: UInt(bitPattern: -1)), cacheBytes, -1.0))
    }
    defer { if cacheBytes != nil { H5Pclose(access) } }
    for name in names {
        let id = try check("H5Dopen2", H5Dopen2(file, name, access))
        defer { H5Dclose(id) }
        let space = try check("H5Dget_space", H5Dget_space(id))
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        _ = H5Sget_simple_extent_dims(space, &dims, nil)
        let type = H5Dget_type(id)
        let elementSize = H5Tget_size(type)
        H5Tclose(type)
        let dcpl = H5Dget_create_plist(id)
        defer { H5Pclose(dcpl) }
        var chunk: [Int]?
        var filters: [Int32] = []
        if H5Pget_layout(dcpl) == H5D_CHUNKED {
            var chunkDims = [hsize_t](repeating: 0, count: max(rank, 1))
            _ = H5Pget_chunk(dcpl, Int32(rank), &chunkDims)
            chunk = chunkDims.prefix(rank).map { Int($0) }
            for index in 0..<H5Pget_nfilters(dcpl) {
                var flags: UInt32 = 0, count = 0, config: UInt32 = 0
                var values = [UInt32](repeating: 0, count: 8)
                var nameBuffer = [CChar](repeating: 0, count: 64)
                count = values.count
                filters.append(H5Pget_filter2(dcpl, UInt32(index), &flags, &count, &values, nameBuffer.count, &nameBuffer, &config))
            }
        }
        let shape = dims.prefix(rank).map { Int($0) }
        try body(Dataset(id: id, elements: shape.reduce(1, *), elementSize: elementSize, shape: shape, chunk: chunk, filters: filters))
    }
}

/// A fresh heap buffer, huge-page advised like ZooFormat's HeapBuffer.
private func freshBuffer(_ count: Int) -> UnsafeMutableRawBufferPointer {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
    adviseHugePages(buffer)
    return buffer
}

/// x-h5-read / x-h5-nocache: H5Dread of each whole dataset into a fresh buffer.
func h5Read(_ path: String, cacheBytes: Int?) throws -> (bytes: Int, sum: UInt64) {
    var bytes = 0
    var sum: UInt64 = 0
    try forEachDataset(path, cacheBytes: cacheBytes) { dataset in
        let count = dataset.elements * dataset.elementSize
        let buffer = freshBuffer(count)
        defer { buffer.deallocate() }
        _ = try check("H5Dread", H5Dread(dataset.id, zoo_h5t_ieee_f32le(), zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), buffer.baseAddress))
        sum &+= touch(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        bytes += count
    }
    return (bytes, sum)
}

/// x-h5-floats-direct: a new [Float] per dataset, H5Dread straight into it.
func h5FloatsDirect(_ path: String) throws -> (bytes: Int, sum: UInt64) {
    var bytes = 0
    var sum: UInt64 = 0
    try forEachDataset(path, cacheBytes: 0) { dataset in
        let values = try [Float](unsafeUninitializedCapacity: dataset.elements) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            _ = try check("H5Dread", H5Dread(dataset.id, zoo_h5t_ieee_f32le(), zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), buffer.baseAddress))
            initialized = dataset.elements
        }
        sum &+= values.withUnsafeBytes { touch($0) }
        bytes += values.count * 4
    }
    return (bytes, sum)
}

enum ChunkInflater: @unchecked Sendable {
    case zlib
    case libdeflate(LibDeflate)
}

/// Reverses HDF5's shuffle filter: `input` holds byte plane j (byte j of every
/// element) at j * elements; writes `elements` elements of `size` bytes to `output`.
@inline(never)
func unshuffle(_ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer, elements: Int, size: Int) {
    if size == 4 {
        let p0 = input.assumingMemoryBound(to: UInt8.self)
        let p1 = p0 + elements, p2 = p1 + elements, p3 = p2 + elements
        let out = output.assumingMemoryBound(to: UInt32.self)
        for i in 0..<elements {
            out[i] = UInt32(p0[i]) | UInt32(p1[i]) << 8 | UInt32(p2[i]) << 16 | UInt32(p3[i]) << 24
        }
        return
    }
    let bytesIn = input.assumingMemoryBound(to: UInt8.self)
    let bytesOut = output.assumingMemoryBound(to: UInt8.self)
    for i in 0..<elements {
        for j in 0..<size { bytesOut[i * size + j] = bytesIn[j * elements + i] }
    }
}

/// Raw chunks of one dataset, read under the caller's control.
private struct RawChunk {
    var offset: [hsize_t]
    var destination: Int  // byte offset in the dataset buffer
    var rows: Int         // valid rows (leading dimension) of this chunk
}

/// x-h5-chunks…: reads every raw chunk with H5Dread_chunk and undoes deflate
/// (+ shuffle) itself, writing each chunk's elements straight into the dataset's
/// buffer (the unshuffle is the only pass that writes the destination). Needs
/// chunks that span all trailing dimensions (as make_model.py writes).
func h5Chunks(_ path: String, inflater: ChunkInflater, parallel: Bool) throws -> (bytes: Int, sum: UInt64) {
    var bytes = 0
    var sum: UInt64 = 0
    let workers = parallel ? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) : 1
    try forEachDataset(path, cacheBytes: nil) { dataset in
        let count = dataset.elements * dataset.elementSize
        let output = freshBuffer(count)
        defer { output.deallocate() }
        guard let chunk = dataset.chunk, chunk.count >= 1, Array(chunk.dropFirst()) == Array(dataset.shape.dropFirst()),
              dataset.filters == [H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE] || dataset.filters == [H5Z_FILTER_DEFLATE]
        else { throw ReadError(description: "x-h5-chunks needs whole-row chunks with [shuffle,] deflate") }
        let shuffled = dataset.filters.first == H5Z_FILTER_SHUFFLE
        let rowBytes = dataset.shape.dropFirst().reduce(1, *) * dataset.elementSize
        let chunkBytes = chunk[0] * rowBytes
        var chunks: [RawChunk] = []
        var row = 0
        while row < dataset.shape[0] {
            var offset = [hsize_t](repeating: 0, count: dataset.shape.count)
            offset[0] = hsize_t(row)
            chunks.append(RawChunk(offset: offset, destination: row * rowBytes, rows: min(chunk[0], dataset.shape[0] - row)))
            row += chunk[0]
        }
        // One chunk: raw bytes (H5Dread_chunk) -> inflated chunk -> destination.
        func decode(_ raw: UnsafeRawBufferPointer, _ item: RawChunk, _ scratch: UnsafeMutableRawBufferPointer, _ inflater: ChunkInflater) throws {
            let valid = item.rows * rowBytes
            // Without shuffle a full chunk inflates straight into the destination.
            let direct = !shuffled && valid == chunkBytes
            let target = direct ? UnsafeMutableRawBufferPointer(rebasing: output[item.destination..<item.destination + chunkBytes]) : scratch
            switch inflater {
            case .zlib:
                var length = uLongf(chunkBytes)
                let status = uncompress(target.baseAddress!.assumingMemoryBound(to: Bytef.self), &length,
                                        raw.baseAddress!.assumingMemoryBound(to: Bytef.self), uLong(raw.count))
                guard status == Z_OK, length == uLongf(chunkBytes) else { throw ReadError(description: "uncompress \(status)") }
            case .libdeflate(let library):
                try library.inflateZlib(raw, into: UnsafeMutableRawBufferPointer(rebasing: target[0..<chunkBytes]))
            }
            if direct { return }
            if shuffled {
                // An edge chunk is stored whole: unshuffle it whole, keep the valid rows.
                if valid == chunkBytes {
                    unshuffle(scratch.baseAddress!, output.baseAddress! + item.destination, elements: chunkBytes / dataset.elementSize, size: dataset.elementSize)
                } else {
                    let temporary = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
                    defer { temporary.deallocate() }
                    unshuffle(scratch.baseAddress!, temporary.baseAddress!, elements: chunkBytes / dataset.elementSize, size: dataset.elementSize)
                    (output.baseAddress! + item.destination).copyMemory(from: temporary.baseAddress!, byteCount: valid)
                }
            } else {
                (output.baseAddress! + item.destination).copyMemory(from: scratch.baseAddress!, byteCount: valid)
            }
        }
        func readRaw(_ item: RawChunk, into buffer: inout UnsafeMutableRawBufferPointer) throws -> Int {
            var offset = item.offset
            var stored: hsize_t = 0
            _ = try check("H5Dget_chunk_storage_size", H5Dget_chunk_storage_size(dataset.id, &offset, &stored))
            if Int(stored) > buffer.count {
                buffer.deallocate()
                buffer = .allocate(byteCount: Int(stored), alignment: 64)
            }
            var mask: UInt32 = 0
            _ = try check("H5Dread_chunk", H5Dread_chunk(dataset.id, zoo_h5p_default(), &offset, &mask, buffer.baseAddress))
            guard mask == 0 else { throw ReadError(description: "a chunk with skipped filters (mask \(mask))") }
            return Int(stored)
        }
        if workers == 1 || chunks.count == 1 {
            var raw = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes + 4096, alignment: 64)
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
            defer { raw.deallocate(); scratch.deallocate() }
            for item in chunks {
                let stored = try readRaw(item, into: &raw)
                try decode(UnsafeRawBufferPointer(rebasing: raw[0..<stored]), item, scratch, inflater)
            }
        } else {
            // Each worker takes the next chunk: H5Dread_chunk under the lock, inflate outside it.
            let queue = ChunkQueue()
            let chunks = chunks
            let sendable = UnsafeSendable(decode: decode, readRaw: readRaw)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                var raw = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes + 4096, alignment: 64)
                let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
                defer { raw.deallocate(); scratch.deallocate() }
                // A libdeflate decompressor is not thread-safe: one per worker.
                let own: ChunkInflater
                if case .libdeflate = inflater, let library = try? LibDeflate.load() { own = .libdeflate(library) } else { own = .zlib }
                while true {
                    queue.lock()
                    guard queue.next < chunks.count, queue.failure == nil else { queue.unlock(); return }
                    let item = chunks[queue.next]
                    queue.next += 1
                    let stored: Int
                    do { stored = try sendable.readRaw(item, &raw) } catch { queue.failure = "\(error)"; queue.unlock(); return }
                    queue.unlock()
                    do { try sendable.decode(UnsafeRawBufferPointer(rebasing: raw[0..<stored]), item, scratch, own) } catch {
                        queue.lock(); queue.failure = "\(error)"; queue.unlock(); return
                    }
                }
            }
            if let failure = queue.failure { throw ReadError(description: failure) }
        }
        sum &+= touch(UnsafeRawBufferPointer(output))
        bytes += count
    }
    return (bytes, sum)
}

/// The next chunk to read and the first error, behind a pthread mutex
/// (Foundation is not imported by zoo-bench). Fields only touched while locked.
final class ChunkQueue: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    var next = 0
    var failure: String?
    init() { pthread_mutex_init(mutex, nil) }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

/// The chunk closures, shared by the workers (they write disjoint ranges).
private struct UnsafeSendable: @unchecked Sendable {
    let decode: (UnsafeRawBufferPointer, RawChunk, UnsafeMutableRawBufferPointer, ChunkInflater) throws -> Void
    let readRaw: (RawChunk, inout UnsafeMutableRawBufferPointer) throws -> Int
}
