import CZooKernels

/// Max pooling's training passes in ZooNet's own loops: the forward pass (`zoo_max_pool_train_rows`,
/// AVX2; the batch's output rows split between the threads) writes the maxima and, for each, the
/// index of the input cell it came from (the first maximum in the window's row order); the
/// backward pass (`zoo_max_pool_backward_images`, one image per part) zeroes dx and adds each dy
/// to its winner's cell — a sum where overlapping windows share a winner.
///
/// Why: oneDNN 2.6's pooling primitive (`jit:avx2`, with its workspace) took 56 µs forward and
/// 46 µs backward per image on the small CNN's 2×2 pooling of 28×28×32 at batch 64 (2 threads,
/// AMD EPYC Zen 3): 38 % of that training step with the second pooling
/// (`zoo-conv-bench profile train_small_cnn b64`).
struct MaxPoolTraining {
    let geometry: zoo_pool_geometry

    init(_ g: WindowGeometry) {
        geometry = MaxPoolInference(g).geometry
    }

    /// Whether an image's input cells can be indexed with 32-bit integers.
    static func fits(_ g: WindowGeometry) -> Bool { g.inputHeight * g.inputWidth * g.channels <= Int(Int32.max) }

    /// y `[batch, oh, ow, c]` = the window maxima of x `[batch, h, w, c]`, `winners` (same shape)
    /// each maximum's cell within its image.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, winners: UnsafeMutablePointer<Int32>, batch: Int) {
        let rows = batch * geometry.out_height
        let work = rows * geometry.out_width * geometry.channels * geometry.kernel_height * geometry.kernel_width
        let pool = WorkerPool.shared
        let parts = pool.parts(work: work, grain: WorkerPool.elementGrain, most: rows)
        pool.parallel(parts, Rows(x: x, y: y, winners: winners, geometry: geometry, rows: rows, parts: parts))
    }

    /// dx `[batch, h, w, c]` from dy `[batch, oh, ow, c]` and the forward pass's `winners`.
    func backward(_ dy: UnsafePointer<Float>, winners: UnsafePointer<Int32>, into dx: UnsafeMutablePointer<Float>, batch: Int) {
        let work = batch * geometry.height * geometry.width * geometry.channels
        let pool = WorkerPool.shared
        let parts = pool.parts(work: work, grain: WorkerPool.elementGrain, most: batch)
        pool.parallel(parts, Images(dy: dy, winners: winners, dx: dx, geometry: geometry, batch: batch, parts: parts))
    }

    private struct Rows: ParallelJob {
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, winners: UnsafeMutablePointer<Int32>
        let geometry: zoo_pool_geometry
        let rows: Int, parts: Int

        func run(_ part: Int) {
            let range = partRange(part, of: parts, count: rows, alignment: 1)
            withUnsafePointer(to: geometry) { zoo_max_pool_train_rows(x, y, winners, $0, range.lowerBound, range.count) }
        }
    }

    private struct Images: ParallelJob {
        let dy: UnsafePointer<Float>, winners: UnsafePointer<Int32>, dx: UnsafeMutablePointer<Float>
        let geometry: zoo_pool_geometry
        let batch: Int, parts: Int

        func run(_ part: Int) {
            let range = partRange(part, of: parts, count: batch, alignment: 1)
            withUnsafePointer(to: geometry) { zoo_max_pool_backward_images(dy, winners, dx, $0, range.lowerBound, range.count) }
        }
    }
}

/// Grow-only `Int32` storage (max pooling's winners), reused across steps like `FloatBuffer`.
final class IndexBuffer {
    private(set) var pointer: UnsafeMutablePointer<Int32>
    private(set) var capacity: Int

    init() {
        capacity = 1
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: -1)
    }

    deinit { pointer.deallocate() }

    /// Ensures room for `count` elements (contents undefined after growing: -1).
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: -1, count: count)
    }
}
