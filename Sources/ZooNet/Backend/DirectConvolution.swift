import CZooKernels
import Synchronization

/// A direct convolution on NHWC maps computed by ZooNet's own AVX2 + FMA kernel
/// (`zoo_direct_convolution`): register tiles of 6 output pixels × 16 output channels walking
/// the kernel's taps and input channels (an implicit GEMM; the packed kernel is
/// `[K/16, kh, kw, C, 16]`), with the bias, a clamp activation (none, ReLU, ReLU6), a residual
/// add and a second clamp applied as the tiles are stored.
///
/// Why: oneDNN 2.6's AVX2 direct kernel (`jit:avx2`) ran ResNet-50's stride-2 and 7×7 3×3
/// convolutions at 66–81 GFLOP/s in the network on 2 Zen 3 cores, ONNX Runtime's at 110–135;
/// this kernel ran them at 92–176 GFLOP/s (`bench/conv/onednn/own_direct.c`; 1.05–1.69× oneDNN
/// on nChw8c with its reorders and 1.12–2.71× oneDNN on NHWC at batch 1, 1.01–1.53× and
/// 1.33–2.30× at batch 6). Used by fused inference steps (`FusedConvolution`) on AVX2 for the
/// convolutions oneDNN would run with that kernel (`suits`).
final class DirectConvolution {
    let shape: ConvolutionShape
    /// The kernel packed for the tiles, for the kernel version `packedVersion`.
    private let packed = FloatBuffer(count: 0)
    private var packedVersion = -1

    /// Whether the rules run a forward convolution of `shape` on this kernel: switched on
    /// (`ComputeBackend.ownDirect`), oneDNN on AVX2 (where the rules were measured), a kernel
    /// larger than 1×1 (oneDNN's 1×1 kernel is a matrix product already: this one ran ResNet-50's
    /// 1×1s at 0.80–1.10× its speed, and no faster in the network), and what `runs` asks.
    static func suits(_ shape: ConvolutionShape, first: Activation, sum: Bool, second: Activation) -> Bool {
        ComputeBackend.ownDirect && OneDNN.runsAVX2Kernels && shape.kernelHeight * shape.kernelWidth > 1
            && runs(shape, first: first, second: second)
    }

    /// Whether this kernel can run a forward convolution of `shape` well enough to be a candidate
    /// when fused steps tune their kernels (switched on as well): at most 64 taps, no groups, not
    /// transposed, at least 16 input channels (a tile's loop over a stem's 3 channels is too
    /// short: ResNet-50's 7×7 stem ran 1.85× oneDNN's time), output channels in blocks of 16, the
    /// CPU with AVX2 and FMA; activations that are clamps (`WinogradConvolution.clamp`).
    static func runs(_ shape: ConvolutionShape, first: Activation, second: Activation) -> Bool {
        guard ComputeBackend.ownDirect, !shape.transposed, shape.groups == 1, shape.inputChannels >= 16,
              WinogradConvolution.clamp(first) != nil, WinogradConvolution.clamp(second) != nil else { return false }
        var g = geometry(shape, batch: 1)
        return zoo_direct_supports(&g) != 0
    }

    /// The C kernel's description of `shape` at `batch` samples.
    static func geometry(_ shape: ConvolutionShape, batch: Int) -> zoo_direct_geometry {
        zoo_direct_geometry(
            batch: batch, height: shape.inputHeight, width: shape.inputWidth, in_channels: shape.inputChannels,
            out_height: shape.outputHeight, out_width: shape.outputWidth, out_channels: shape.outputChannels,
            kernel_height: shape.kernelHeight, kernel_width: shape.kernelWidth,
            stride_y: shape.strideHeight, stride_x: shape.strideWidth,
            dilation_y: shape.dilationHeight, dilation_x: shape.dilationWidth,
            pad_top: shape.padTop, pad_left: shape.padLeft)
    }

    init(shape: ConvolutionShape) {
        self.shape = shape
    }

    /// `y = f₂(f₁(conv(x, W) + b) + y)` (`sum`) or `y = f₁(conv(x, W) + b)`, f as clamps
    /// `(lower, upper)`: `kernel` in the Keras layout `[kh, kw, C, K]`, packed again when
    /// `version` differs from the last packing's. x `[batch, H, W, C]`, y `[batch, H', W', K]`.
    func run(_ x: UnsafePointer<Float>, kernel: UnsafePointer<Float>, version: Int, bias: UnsafePointer<Float>?,
             first: (lower: Float, upper: Float), sum: Bool, second: (lower: Float, upper: Float),
             into y: UnsafeMutablePointer<Float>, batch: Int, pool: WorkerPool = .shared) {
        var g = DirectConvolution.geometry(shape, batch: batch)
        if version != packedVersion {
            packed.reserve(zoo_direct_packed_count(&g))
            zoo_direct_pack(&g, kernel, packed.pointer)
            packedVersion = version
        }
        var schedule = zoo_direct_default_schedule(&g, Int32(pool.width), Cache.level2Bytes)
        var epilogue = zoo_direct_epilogue(lo1: first.lower, hi1: first.upper, sum: sum ? 1 : 0, lo2: second.lower,
                                           hi2: second.upper)
        zoo_direct_convolution(&g, &schedule, x, packed.pointer, bias, &epilogue, y, Int32(pool.width))
    }
}

extension ComputeBackend {
    /// Whether inference convolutions that oneDNN's AVX2 direct kernel would run use ZooNet's
    /// own kernel instead (`DirectConvolution`). Default on; `ZOONET_OWN_DIRECT=0` starts with
    /// it off (to compare against oneDNN). Read when a plan's steps are made.
    public static var ownDirect: Bool {
        get { ownDirectSwitch.load(ordering: .relaxed) }
        set { ownDirectSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let ownDirectSwitch = ComputeBackend.switchFromEnvironment("ZOONET_OWN_DIRECT")
