import CDNNL
import Synchronization

/// Where a direct convolution runs on oneDNN's blocked layout nChw8c (`[N, C/8, H, W, 8]`)
/// instead of the NHWC that ZooNet keeps between layers: the input is reordered into
/// `source`, the primitive writes `destination`, which is reordered back into the NHWC output.
///
/// oneDNN 2.6's AVX2 direct kernel (`jit:avx2`, the one for kernels larger than 1×1 that are
/// not depthwise) is written for nChw8c; on NHWC it reads 8-channel pieces of pixels `C` floats
/// apart. Measured with both reorders included (`bench/conv/onednn/blocked_direct.c`, 2
/// threads, AMD EPYC Zen 3): ResNet-50's 3×3 layers 1.07× (batch 1) to 1.32–1.44× (batch 4 and
/// 32) faster than on NHWC, 2.0–2.15× for the 56×56 stride-2 one at batch 2 and 32. The 1×1
/// (`jit_1x1`) and depthwise (`jit_dw`) kernels run as fast on NHWC, and AVX-512's NHWC kernels
/// are oneDNN's own choice there, so only these convolutions take the detour — and only those
/// ZooNet's own direct kernel (`DirectConvolution`, faster still) does not take: fewer than 16
/// input channels, output channels not in sixteens, activations that are not clamps.
///
/// One pair of buffers serves every convolution of a network (one step runs at a time); each
/// grows to the largest input and output that use it.
final class BlockedActivations {
    /// The input in nChw8c.
    let source = FloatBuffer(count: 0)
    /// The output in nChw8c, before it is reordered into the step's NHWC output.
    let destination = FloatBuffer(count: 0)

    /// Whether a forward convolution of `shape` without a sum post-op runs blocked: switched on
    /// (`ComputeBackend.blockedDirect`), oneDNN on AVX2, a kernel larger than 1×1, no groups, not
    /// transposed, channels in whole blocks of 8 (in and out). A residual add would need the
    /// addend reordered too, so steps with one stay on NHWC.
    static func suits(_ shape: ConvolutionShape, sum: Bool) -> Bool {
        guard ComputeBackend.blockedDirect, OneDNN.runsAVX2Kernels, !sum else { return false }
        return !shape.transposed && shape.groups == 1 && shape.kernelHeight * shape.kernelWidth > 1
            && shape.inputChannels % 8 == 0 && shape.outputChannels % 8 == 0
    }
}

/// The two reorders around a blocked convolution: NHWC input → nChw8c `source`, nChw8c
/// `destination` → NHWC output.
final class BlockedReorders {
    private let toBlocked: BoundPrimitive
    private let fromBlocked: BoundPrimitive
    private let buffers: BlockedActivations

    /// `nhwcSource`/`blockedSource` and `blockedDestination`/`nhwcDestination`: the same
    /// tensors in the two layouts. Grows the shared buffers to the blocked sizes.
    init(nhwcSource: MemoryDescriptor, blockedSource: MemoryDescriptor, blockedDestination: MemoryDescriptor,
         nhwcDestination: MemoryDescriptor, buffers: BlockedActivations, name: String) throws {
        toBlocked = try BoundPrimitive(Primitive(reorderFrom: nhwcSource, to: blockedSource, name: "\(name) input"),
                                       arguments: [(DNNL_ARG_FROM, nhwcSource), (DNNL_ARG_TO, blockedSource)])
        fromBlocked = try BoundPrimitive(Primitive(reorderFrom: blockedDestination, to: nhwcDestination, name: "\(name) output"),
                                         arguments: [(DNNL_ARG_FROM, blockedDestination), (DNNL_ARG_TO, nhwcDestination)])
        self.buffers = buffers
        buffers.source.reserve(blockedSource.floatCount)
        buffers.destination.reserve(blockedDestination.floatCount)
    }

    /// Reorders `x` into the blocked source and returns it, with the blocked destination the
    /// convolution is to write.
    func enter(_ x: UnsafePointer<Float>) -> (source: UnsafePointer<Float>, destination: UnsafeMutablePointer<Float>) {
        toBlocked.bind(0, x)
        toBlocked.bind(1, buffers.source.pointer)
        toBlocked.run()
        return (UnsafePointer(buffers.source.pointer), buffers.destination.pointer)
    }

    /// Reorders the blocked destination into the NHWC output `y`.
    func leave(into y: UnsafeMutablePointer<Float>) {
        fromBlocked.bind(0, buffers.destination.pointer)
        fromBlocked.bind(1, y)
        fromBlocked.run()
    }
}

extension MemoryDescriptor {
    /// Activations of `[n, h, w, c]` (logical `(N, C, H, W)`) in oneDNN's nChw8c: blocks of 8
    /// channels, each `[H, W, 8]`.
    static func nChw8c(batch n: Int, height h: Int, width w: Int, channels c: Int,
                       context: @autoclosure () -> String) throws -> MemoryDescriptor {
        var raw = dnnl_memory_desc_t()
        let status = withDims([n, c, h, w]) { d in dnnl_memory_desc_init_by_tag(&raw, 4, d, dnnl_f32, dnnl_nChw8c) }
        try OneDNN.check(status, "nChw8c memory descriptor [\(n), \(h), \(w), \(c)] for \(context())")
        return MemoryDescriptor(raw: raw)
    }
}

extension ComputeBackend {
    /// Whether inference convolutions that oneDNN's AVX2 direct kernel runs go through the
    /// blocked layout (`BlockedActivations`). Default on; `ZOONET_BLOCKED_DIRECT=0` starts with it
    /// off (to compare against NHWC). Read when a plan's primitives are made.
    public static var blockedDirect: Bool {
        get { blockedDirectSwitch.load(ordering: .relaxed) }
        set { blockedDirectSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let blockedDirectSwitch = ComputeBackend.switchFromEnvironment("ZOONET_BLOCKED_DIRECT")
