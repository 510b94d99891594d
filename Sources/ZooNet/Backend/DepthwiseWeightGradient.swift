import CZooKernels
import Synchronization

/// The weight gradient of a depthwise convolution (one filter per channel: groups = input
/// channels = output channels) on NHWC maps, by ZooNet's own kernel
/// (`zoo_depthwise_weight_gradient`):
///
///     dW[a, b, k] = Σ_{n, p, q} dY[n, p, q, k] · X[n, p·sh + a·dh − pt, q·sw + b·dw − pl, k],   db[k] = Σ_{n, p, q} dY[n, p, q, k]
///
/// (taps over the padding add nothing), dW in Keras' depthwise layout `[kh, kw, C, 1]`. The
/// channels are split among the compute team in runs of 8 (no reduction between threads); per
/// sample, a piece of 16 or 8 channels runs a kernel row's taps (in groups of up to 5) together
/// over the sample's positions, the sums in registers. The kernel follows oneDNN's effective
/// instruction set (`ONEDNN_MAX_CPU_ISA` below AVX2 keeps oneDNN's primitive).
///
/// Why: oneDNN 2.6 computes this with a generic kernel for most shapes — `jit:avx2` for 5×5
/// filters, an im2col GEMM (`gemm:jit`) when the filter is larger than the map (MobileNetV3's
/// and EfficientNet's 5×5 filters on 3×3 maps at 96 × 96 input: 10.7 ms per call at 576
/// channels, 21 ms at 1,152, batch 32, 2 Zen 3 cores). With this kernel those layers' whole
/// backward steps (data and weights) went from 467–640 to 20–61 µs per image
/// (`zoo-conv-bench profile train_efficientnet_b0_96 b32`, alternating
/// `ZOONET_OWN_DEPTHWISE_GRADIENT=1|0`).
struct DepthwiseWeightGradient {
    let shape: ConvolutionShape

    /// One filter per channel (depth multiplier 1), not transposed.
    static func supports(_ shape: ConvolutionShape) -> Bool {
        !shape.transposed && shape.groups > 1 && shape.groups == shape.inputChannels && shape.outputChannels == shape.groups
    }

    /// Whether this kernel runs instead of oneDNN's backward-weights primitive, whose
    /// implementation is `implementation`: switched on, oneDNN at AVX2 or above, and oneDNN's
    /// choice not its depthwise kernel (`jit_dw`, 3×3 filters on maps larger than the filter:
    /// MobileNetV2's layers ran 0.9–1.0× its speed on this kernel, `zoo-conv-bench profile
    /// train_mobilenet_v2_035 b32` alternating `ZOONET_OWN_DEPTHWISE_GRADIENT=1|0`). Read per call.
    static func replaces(_ implementation: String) -> Bool {
        ComputeBackend.ownDepthwiseGradient && OneDNN.instructionSet >= .avx2 && !implementation.hasPrefix("jit_dw")
    }

    /// dW `[kh, kw, C]` and, when `biasGradient` is given, db `[C]` from `x` `[N, H, W, C]` and
    /// `dy` `[N, OH, OW, C]`; both overwritten.
    func run(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, weightGradient dw: UnsafeMutablePointer<Float>,
             biasGradient db: UnsafeMutablePointer<Float>?) {
        let s = shape
        let geometry = zoo_depthwise_geometry(
            batch: batch, height: s.inputHeight, width: s.inputWidth, channels: s.inputChannels,
            out_height: s.outputHeight, out_width: s.outputWidth, kernel_height: s.kernelHeight, kernel_width: s.kernelWidth,
            stride_height: s.strideHeight, stride_width: s.strideWidth, dilation_height: s.dilationHeight,
            dilation_width: s.dilationWidth, pad_top: s.padTop, pad_left: s.padLeft)
        let pool = WorkerPool.shared
        let work = batch * s.outputHeight * s.outputWidth * s.kernelHeight * s.kernelWidth * s.inputChannels
        let parts = pool.parts(work: work, grain: WorkerPool.elementGrain, most: (s.inputChannels + 7) / 8)
        pool.parallel(parts, DepthwiseGradientChannels(geometry: geometry, x: x, dy: dy, dw: dw, db: db, parts: parts))
    }
}

/// A run of channels (multiples of 8 from the first) per part.
private struct DepthwiseGradientChannels: ParallelJob {
    let geometry: zoo_depthwise_geometry
    let x: UnsafePointer<Float>, dy: UnsafePointer<Float>
    let dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?
    let parts: Int

    func run(_ part: Int) {
        let channels = partRange(part, of: parts, count: geometry.channels, alignment: 8)
        withUnsafePointer(to: geometry) { g in
            zoo_depthwise_weight_gradient(x, dy, dw, db, g, channels.lowerBound, channels.upperBound)
        }
    }
}

extension ComputeBackend {
    /// Whether depthwise convolutions' weight gradients in training run on ZooNet's own kernel
    /// (`DepthwiseWeightGradient`) instead of oneDNN's backward-weights primitive. Default on;
    /// `ZOONET_OWN_DEPTHWISE_GRADIENT=0` starts with it off (to compare against oneDNN). Read
    /// at every backward pass.
    public static var ownDepthwiseGradient: Bool {
        get { ownDepthwiseGradientSwitch.load(ordering: .relaxed) }
        set { ownDepthwiseGradientSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let ownDepthwiseGradientSwitch = ComputeBackend.switchFromEnvironment("ZOONET_OWN_DEPTHWISE_GRADIENT")
