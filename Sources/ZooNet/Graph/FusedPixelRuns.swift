import CZooKernels
import Synchronization

/// A pointwise convolution with a residual add (ResNet's bottleneck-closing 1×1,
/// `y = f₂(conv(x) + b + addend)`) run on runs of consecutive pixels, one thread each: the
/// convolution without the sum into a per-thread buffer of one run (`P·K` floats, ~128 KB), then
/// the add and the clamp f₂ in ZooNet's own pass over the run of `y`, which holds the addend —
/// contiguous `P·K` floats read once, front to back.
///
/// oneDNN 2.6's NHWC 1×1 kernel with the sum post-op reads the addend in 8-channel pieces of each
/// pixel; at ResNet-50's inference pass of 6 images, where the addend (the block's input, 19 MB
/// at 56×56×256) has left the cache, the closing 1×1s took 1.48× ONNX Runtime's time per image
/// (level at batch 1; `bench/conv/README.md`). On runs, step profiles of ResNet-50 (AMD EPYC
/// Zen 3, alternating): the 56×56 ones 0.62× the time at 6 images, the 28×28 and 56×56 ones
/// together 0.8× at batch 1, the 14×14 ones 0.75–0.84× and the 7×7 ones 0.87–0.96× at 6. Every
/// run reads all the weights (from L2/L3), so passes of fewer than 4 runs per thread (the 7×7
/// and 14×14 maps at batch 1) keep oneDNN's whole-pass primitive. The rule is AVX2's, where it was
/// measured; elsewhere tuning decides (`ConvolutionKernelChoice`).
final class FusedPixelRuns {
    private let runs: StripeConvolution
    /// Pixels per run: ~128 KB of output.
    let pixelsPerRun: Int
    private let clamp: (lower: Float, upper: Float)
    private let buffers = FloatBuffer(count: 0)
    /// The batch and thread count the primitives and buffers were last prepared for.
    private var prepared = (batch: -1, threads: 0)

    /// Whether `fused` can run this way: a 1×1 stride-1 unpadded ungrouped convolution with a
    /// residual add and a clamp after it (none, ReLU, ReLU6), weights ≤ 4 MiB (ResNet-50's
    /// largest, 512 → 2048), switched on (`ComputeBackend.pixelRunSums`), on AVX2 — or where fused
    /// steps tune their kernels (`ComputeBackend.tunesKernels`), as a candidate.
    static func suits(_ fused: FusedConvolution) -> Bool {
        let s = fused.shape
        guard ComputeBackend.pixelRunSums, OneDNN.runsAVX2Kernels || ComputeBackend.tunesKernels, fused.sum,
              WinogradConvolution.clamp(fused.second) != nil else { return false }
        return s.isPointwise && s.inputChannels * s.outputChannels * MemoryLayout<Float>.size <= 4 << 20
    }

    /// For `fused` to hold; `withoutSum`: the post-ops of its first activation alone.
    init(heldBy fused: FusedConvolution, withoutSum: PrimitiveAttributes?) {
        runs = StripeConvolution(heldBy: fused, attributes: withoutSum)
        pixelsPerRun = Swift.max(8, (32 << 10) / Swift.max(fused.shape.outputChannels, 1))
        clamp = WinogradConvolution.clamp(fused.second) ?? (-.infinity, .infinity)
    }

    private func pixels(batch: Int) -> Int { batch * runs.shape.outputHeight * runs.shape.outputWidth }

    /// Whether a pass of `batch` samples runs on runs: at least 4 runs per thread.
    func pays(batch: Int) -> Bool { pixels(batch: batch) >= 4 * pixelsPerRun * WorkerPool.shared.width }

    /// Makes the run primitives (a full run and the last, shorter one) and the buffers.
    func prepare(batch: Int) throws {
        let threads = WorkerPool.shared.width
        let total = pixels(batch: batch)
        var lengths: Set<Int> = [Swift.min(pixelsPerRun, total)]
        if total % pixelsPerRun != 0 { lengths.insert(total % pixelsPerRun) }
        try runs.prepare(pixels: lengths, threads: threads)
        buffers.reserve(threads * pixelsPerRun * runs.shape.outputChannels)
        prepared = (batch, threads)
    }

    /// `y` holds the addend and receives `f₂(conv(x) + b + addend)`.
    func run(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int) {
        if prepared != (batch, WorkerPool.shared.width) {  // a thread each needs its primitive and buffer
            do { try prepare(batch: batch) } catch { OneDNN.recordError(error); return }
        }
        runs.refreshWeights()
        let total = pixels(batch: batch)
        let parts = (total + pixelsPerRun - 1) / pixelsPerRun
        WorkerPool.shared.parallel(parts, Job(owner: self, x: x, y: y, total: total, threads: WorkerPool.shared.width))
    }

    private struct Job: ParallelJob {
        let owner: FusedPixelRuns
        let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        let total: Int, threads: Int

        func run(_ part: Int) {
            let thread = Int(zoo_thread_index()) % threads
            let p = owner.pixelsPerRun, k = owner.runs.shape.outputChannels
            let first = part * p, count = Swift.min(p, total - first)
            let buffer = owner.buffers.pointer + thread * p * k
            owner.runs.run(thread: thread, pixels: count, x: x + first * owner.runs.shape.inputChannels, y: buffer)
            zoo_add_clamp(y + first * k, buffer, owner.clamp.lower, owner.clamp.upper, count * k)
        }
    }
}

extension ComputeBackend {
    /// Whether ResNet-style pointwise convolutions with a residual add run on runs of pixels
    /// (`FusedPixelRuns`). Default on; `ZOONET_PIXEL_RUN_SUMS=0` starts with it off (to compare).
    /// Read when a plan's steps are made.
    public static var pixelRunSums: Bool {
        get { pixelRunSumsSwitch.load(ordering: .relaxed) }
        set { pixelRunSumsSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let pixelRunSumsSwitch = ComputeBackend.switchFromEnvironment("ZOONET_PIXEL_RUN_SUMS")
