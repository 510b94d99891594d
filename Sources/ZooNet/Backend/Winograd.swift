#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZooKernels
import Synchronization

/// A 3×3, stride-1 convolution computed as Winograd F(2×2, 3×3) (Lavin & Gray, 2016): each
/// 4×4 input tile d and each kernel g are transformed (V = Bᵀ d B, U = G g Gᵀ), the 16
/// positions of a tile become 16 matrix products `M[ξ] = V[ξ]·U[ξ]` ([tiles, C]·[C, K], one
/// `dnnl_sgemm` each) and `Aᵀ M A` gives 2×2 outputs, to which the bias, a clamp activation
/// (none, ReLU, ReLU6), a residual add and a second clamp are applied in the same pass.
///
/// 16 multiplications per 2×2 outputs and channel pair instead of 36: 2.25× fewer. oneDNN 2.6
/// has Winograd kernels only for AVX-512; on AVX2 its direct convolution runs near the FMA
/// peak, and this one is 1.8–2.9× faster for ResNet's and VGG's 3×3 layers (1.2× for
/// 7×7×512 at batch 6; 2 threads, AMD EPYC; `zoo-conv-bench winograd`). Used by fused
/// inference steps (`FusedConvolution`) and by `Conv2D`'s forward, backward-data and
/// weight-gradient passes (`ConvolutionCore`). Tiles are cut into blocks, one block's V and M
/// (16·tiles·(C + K) floats, ≤ 1.5 MB) staying in cache between the transforms and the
/// products; each thread takes every `parts`-th block. Numerically the transforms only add and subtract (the kernel
/// transform halves, in double): outputs agree with the direct convolution to a few ulps of
/// the largest term (tests: ≤ 1e-5 relative).
final class WinogradConvolution {
    let shape: ConvolutionShape
    let scratch: WinogradScratch
    /// U, `[16, C, K]`, for the kernel version `transformedVersion`.
    private let transformed = FloatBuffer(count: 0)
    private var transformedVersion = -1

    /// Whether `shape` is a convolution this class computes: 3×3, stride 1, no dilation, no
    /// groups, not transposed, at least 16 input and output channels.
    static func supports(_ shape: ConvolutionShape) -> Bool {
        !shape.transposed && shape.kernelHeight == 3 && shape.kernelWidth == 3 && shape.strideHeight == 1
            && shape.strideWidth == 1 && shape.dilationHeight == 1 && shape.dilationWidth == 1 && shape.groups == 1
            && shape.inputChannels >= 16 && shape.outputChannels >= 16
            && shape.outputHeight == shape.inputHeight + shape.padTop + shape.padBottom - 2
            && shape.outputWidth == shape.inputWidth + shape.padLeft + shape.padRight - 2
    }

    /// Whether the rules use Winograd for `shape` at `batch` samples: supported, switched on
    /// (`ComputeBackend.winograd`), oneDNN on AVX2 (on AVX-512 the rule was not measured against
    /// oneDNN's kernels; fused steps time it there, `ConvolutionKernelChoice`), and at least 24
    /// tiles per thread (fewer and the products are too thin: ResNet-50's 512-channel 7×7 layer
    /// runs 0.6× direct at batch 1 and 2, 1.2–1.4× from 4).
    static func pays(for shape: ConvolutionShape, batch: Int, threads: Int) -> Bool {
        guard supports(shape), ComputeBackend.winograd, OneDNN.runsAVX2Kernels else { return false }
        return tiles(shape, batch: batch) >= 24 * Swift.max(threads, 1)
    }


    /// An activation as the clamp `min(max(x, lower), upper)` the output transform applies, if it is one.
    static func clamp(_ activation: Activation) -> (lower: Float, upper: Float)? {
        switch activation {
        case .linear: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        default: return nil
        }
    }

    /// Tiles of 2×2 outputs down and across one output map (the last may overhang).
    static func tileGrid(_ shape: ConvolutionShape) -> (down: Int, across: Int) {
        ((shape.outputHeight + 1) / 2, (shape.outputWidth + 1) / 2)
    }

    static func tiles(_ shape: ConvolutionShape, batch: Int) -> Int {
        let grid = tileGrid(shape)
        return batch * grid.down * grid.across
    }

    /// The C kernels' description of `shape` at `batch` samples.
    func geometry(batch: Int) -> zoo_winograd_geometry {
        let grid = WinogradConvolution.tileGrid(shape)
        return zoo_winograd_geometry(
            batch: batch, height: shape.inputHeight, width: shape.inputWidth, in_channels: shape.inputChannels,
            out_height: shape.outputHeight, out_width: shape.outputWidth, out_channels: shape.outputChannels,
            pad_top: shape.padTop, pad_left: shape.padLeft,
            tiles_y: grid.down, tiles_x: grid.across)
    }

    /// Threads (parts), blocks (a multiple of the parts) and tiles per block: blocks of ≤ 1.5 MB
    /// of V and M, tiles spread evenly over them.
    func blocking(tiles: Int, pool: WorkerPool) -> WinogradBlocks {
        let parts = Swift.max(1, Swift.min(pool.width, tiles / 24))
        let largestBlock = Swift.max(16, Swift.min(96, 24_576 / (shape.inputChannels + shape.outputChannels)))
        var blocks = Swift.max(parts, (tiles + largestBlock - 1) / largestBlock)
        blocks = (blocks + parts - 1) / parts * parts
        return WinogradBlocks(tiles: tiles, count: blocks, tilesPerBlock: (tiles + blocks - 1) / blocks, parts: parts)
    }

    init(shape: ConvolutionShape, scratch: WinogradScratch) {
        self.shape = shape
        self.scratch = scratch
    }

    /// `y = f₂(f₁(conv(x, W) + b) + y)` (`sum`) or `y = f₁(conv(x, W) + b)`, f as clamps
    /// `(lower, upper)`; `kernel` in the Keras layout `[3, 3, C, K]`, transformed again when
    /// `version` differs from the last transform's or is nil (training: every step, as the
    /// direct path reorders). x `[batch, H, W, C]`, y `[batch, H', W', K]`.
    func run(_ x: UnsafePointer<Float>, kernel: UnsafePointer<Float>, version: Int?, bias: UnsafePointer<Float>?,
             first: (lower: Float, upper: Float), sum: Bool, second: (lower: Float, upper: Float),
             into y: UnsafeMutablePointer<Float>, batch: Int, pool: WorkerPool = .shared) {
        let c = shape.inputChannels, k = shape.outputChannels
        if version == nil || version != transformedVersion {
            transformed.reserve(16 * c * k)
            zoo_winograd_f2_kernel(kernel, transformed.pointer, c, k)
            transformedVersion = version ?? -1
        }
        let geometry = self.geometry(batch: batch)
        let blocks = blocking(tiles: WinogradConvolution.tiles(shape, batch: batch), pool: pool)
        let perPart = 16 * blocks.rowStride * (c + k)
        scratch.buffer.reserve(blocks.parts * perPart)
        pool.parallel(blocks.parts, WinogradJob(
            geometry: geometry, blocks: blocks, perPart: perPart,
            x: x, u: transformed.pointer, bias: bias, first: first, sum: sum, second: second, y: y,
            scratch: scratch.buffer.pointer))
    }
}

extension WinogradConvolution {
    /// The kernel gradient `dW` (`[3, 3, C, K]`, overwritten) from the input `x` and the output
    /// gradient `dy` (after the activation's derivative): per tile block V = Bᵀ x B and
    /// dM = A dy Aᵀ, `dU[ξ] += V[ξ]ᵀ·dM[ξ]` (16 sgemm products accumulating over the blocks, one
    /// `dU` per thread, summed at the end), then `dW = Gᵀ dU G`.
    func runWeightGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>,
                           batch: Int, pool: WorkerPool = .shared) {
        let c = shape.inputChannels, k = shape.outputChannels
        let geometry = self.geometry(batch: batch)
        let blocks = blocking(tiles: WinogradConvolution.tiles(shape, batch: batch), pool: pool)
        let blockFloats = 16 * blocks.rowStride * (c + k), perPart = blockFloats + 16 * c * k
        scratch.buffer.reserve(blocks.parts * perPart)
        pool.parallel(blocks.parts, WinogradGradientJob(
            geometry: geometry, blocks: blocks, perPart: perPart, x: x, dy: dy, scratch: scratch.buffer.pointer))
        let total = scratch.buffer.pointer + blockFloats
        for part in 1..<blocks.parts {
            addInPlace(total, scratch.buffer.pointer + part * perPart + blockFloats, count: 16 * c * k)
        }
        zoo_winograd_f2_kernel_gradient(total, dw, c, k)
    }
}

/// One thread's share of a weight gradient: its blocks' products summed into its own dU.
private struct WinogradGradientJob: ParallelJob {
    let geometry: zoo_winograd_geometry
    let blocks: WinogradBlocks
    let perPart: Int
    let x: UnsafePointer<Float>, dy: UnsafePointer<Float>
    let scratch: UnsafeMutablePointer<Float>

    func run(_ part: Int) {
        let c = geometry.in_channels, k = geometry.out_channels, rows = blocks.rowStride
        let v = scratch + part * perPart, m = v + 16 * rows * c, du = m + 16 * rows * k
        du.update(repeating: 0, count: 16 * c * k)
        withUnsafePointer(to: geometry) { g in
            blocks.forEach(of: part) { firstTile, count in
                zoo_winograd_f2_input(x, g, firstTile, count, v, rows)
                zoo_winograd_f2_output_gradient(dy, g, firstTile, count, m, rows)
                for xi in 0..<16 {
                    gemm(transposeA: true, transposeB: false, m: c, n: k, k: count, a: v + xi * rows * c, lda: c,
                         b: m + xi * rows * k, ldb: k, beta: 1, c: du + xi * c * k, ldc: k)
                }
            }
        }
    }
}

/// The V and M blocks of the Winograd convolutions of one network (its steps run one at a
/// time): grows to the largest need, never shrinks.
final class WinogradScratch {
    let buffer = FloatBuffer(count: 0)
}

/// One thread's share of a Winograd convolution: blocks `part`, `part + parts`, …; per block
/// the input transform, the 16 products and the output transform.
private struct WinogradJob: ParallelJob {
    let geometry: zoo_winograd_geometry
    let blocks: WinogradBlocks
    let perPart: Int
    let x: UnsafePointer<Float>, u: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    let first: (lower: Float, upper: Float), sum: Bool, second: (lower: Float, upper: Float)
    let y: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>

    func run(_ part: Int) {
        let c = geometry.in_channels, k = geometry.out_channels, rows = blocks.rowStride
        let v = scratch + part * perPart, m = v + 16 * rows * c
        withUnsafePointer(to: geometry) { g in
            blocks.forEach(of: part) { firstTile, count in
                zoo_winograd_f2_input(x, g, firstTile, count, v, rows)
                for xi in 0..<16 {
                    gemm(transposeA: false, transposeB: false, m: count, n: k, k: c, a: v + xi * rows * c, lda: c,
                         b: u + xi * c * k, ldb: k, c: m + xi * rows * k, ldc: k)
                }
                zoo_winograd_f2_output(m, rows, g, firstTile, count, bias, first.lower, first.upper, sum ? 1 : 0,
                                       second.lower, second.upper, y)
            }
        }
    }
}

/// How a pass's tiles are cut: `count` blocks of `tilesPerBlock` tiles (the last may be
/// shorter), `parts` threads, each taking blocks `part`, `part + parts`, ….
struct WinogradBlocks {
    let tiles: Int, count: Int, tilesPerBlock: Int, parts: Int

    /// Tile rows between the 16 matrices of a block's V and M (`[16][rowStride][C]`, `[16][rowStride][K]`):
    /// `tilesPerBlock` made odd. The transforms write all 16 per tile; 16 rows an even multiple
    /// of 1,024 floats apart (e.g. 96 tiles × 64 channels, the small CNN's block on one thread)
    /// fall into the same L1 sets and evicted one another — that transform took 25 % of the step.
    var rowStride: Int { tilesPerBlock | 1 }

    /// Calls `body(firstTile, tiles)` for each block of thread `part`.
    @inline(__always)
    func forEach(of part: Int, _ body: (_ firstTile: Int, _ tiles: Int) -> Void) {
        for block in stride(from: part, to: count, by: parts) {
            let firstTile = block * tilesPerBlock
            let tileCount = Swift.min(tilesPerBlock, tiles - firstTile)
            if tileCount > 0 { body(firstTile, tileCount) }
        }
    }
}

extension ComputeBackend {
    /// Whether 3×3 stride-1 convolutions run as Winograd F(2×2, 3×3) where it pays
    /// (`WinogradConvolution`; inference, and the three passes of training). Default on; `ZOONET_WINOGRAD=0`
    /// starts with it off (to compare against oneDNN's direct convolution).
    public static var winograd: Bool {
        get { winogradSwitch.load(ordering: .relaxed) }
        set { winogradSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let winogradSwitch = ComputeBackend.switchFromEnvironment("ZOONET_WINOGRAD")
