/// The depth-first blocks' per-thread stripe buffers and the maps of their whole-map runs,
/// shared by a network's blocks (one block runs at a time).
final class DepthFirstScratch {
    private var buffers: [FloatBuffer] = []
    private(set) var floatsPerThread = 0
    private let table = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: WorkerPool.maximumWidth)

    deinit { table.deallocate() }

    /// Threads with a buffer.
    var threads: Int { buffers.count }

    /// Each thread's buffer, by thread index.
    var pointers: UnsafePointer<UnsafeMutablePointer<Float>> { UnsafePointer(table) }

    /// The buffer the threads share (the maps of `DepthFirstBlock`'s whole-map runs).
    var shared: UnsafeMutablePointer<Float> { sharedBuffer.pointer }
    private let sharedBuffer = FloatBuffer(count: 0)

    /// Ensures a shared buffer of at least `floats` floats.
    func reserveShared(_ floats: Int) { sharedBuffer.reserve(floats) }

    /// Ensures `threads` buffers of at least `floatsPerThread` floats.
    func reserve(threads: Int, floatsPerThread floats: Int) {
        while buffers.count < threads { buffers.append(FloatBuffer(count: 0)) }
        floatsPerThread = Swift.max(floatsPerThread, floats)
        for (k, buffer) in buffers.enumerated() {
            buffer.reserve(floatsPerThread)
            table[k] = buffer.pointer
        }
    }
}
