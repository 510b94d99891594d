/// The depth-first blocks' per-thread stripe buffers, shared by a network's blocks (one block
/// runs at a time).
final class DepthFirstScratch {
    private var buffers: [FloatBuffer] = []
    private(set) var floatsPerThread = 0
    private let table = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: WorkerPool.maximumWidth)

    deinit { table.deallocate() }

    /// Threads with a buffer.
    var threads: Int { buffers.count }

    /// Each thread's buffer, by thread index.
    var pointers: UnsafePointer<UnsafeMutablePointer<Float>> { UnsafePointer(table) }

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
