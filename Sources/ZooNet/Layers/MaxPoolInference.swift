import CZooKernels
import Synchronization

/// Max pooling's forward pass where no gradient flows (inference), in ZooNet's own loops
/// (`zoo_max_pool_rows`, AVX2), the batch's output rows split between the threads.
///
/// oneDNN 2.6's pooling primitive (`jit:avx2`) took 0.62–1.25 ms on ResNet-50's 3×3 stride-2
/// pooling of the 112×112×64 stem output at batch 1 (2 threads, AMD EPYC Zen 3), where ONNX
/// Runtime's takes 0.26 ms; the max of 9 contiguous 64-float runs per output pixel needs no
/// more than one pass over the input. Training runs `MaxPoolTraining`, which also records the
/// winners' positions for the backward pass. Results are the same: max is exact.
struct MaxPoolInference {
    let geometry: zoo_pool_geometry

    init(_ g: WindowGeometry) {
        geometry = zoo_pool_geometry(
            height: g.inputHeight, width: g.inputWidth, channels: g.channels, out_height: g.outputHeight,
            out_width: g.outputWidth, kernel_height: g.kernelHeight, kernel_width: g.kernelWidth,
            stride_height: g.strideHeight, stride_width: g.strideWidth, pad_top: g.padTop, pad_left: g.padLeft)
    }

    /// y `[batch, oh, ow, c]` = the window maxima of x `[batch, h, w, c]`.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int) {
        let rows = batch * geometry.out_height
        let work = rows * geometry.out_width * geometry.channels * geometry.kernel_height * geometry.kernel_width
        let pool = WorkerPool.shared
        let parts = pool.parts(work: work, grain: WorkerPool.elementGrain, most: rows)
        pool.parallel(parts, Rows(x: x, y: y, geometry: geometry, rows: rows, parts: parts))
    }

    private struct Rows: ParallelJob {
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        let geometry: zoo_pool_geometry
        let rows: Int, parts: Int

        func run(_ part: Int) {
            let range = partRange(part, of: parts, count: rows, alignment: 1)
            withUnsafePointer(to: geometry) { zoo_max_pool_rows(x, y, $0, range.lowerBound, range.count) }
        }
    }
}

extension ComputeBackend {
    /// Whether max pooling runs in ZooNet's own loops (`MaxPoolInference`, `MaxPoolTraining`).
    /// Default on; `ZOONET_OWN_MAX_POOL=0` starts with oneDNN's primitives instead (to compare).
    /// Read when a layer prepares and at every forward pass.
    public static var ownMaxPool: Bool {
        get { ownMaxPoolSwitch.load(ordering: .relaxed) }
        set { ownMaxPoolSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let ownMaxPoolSwitch = ComputeBackend.switchFromEnvironment("ZOONET_OWN_MAX_POOL")
