import CDNNL
import CZooKernels

/// One convolution run on horizontal stripes of a single image (`DepthFirstBlock`): the same
/// convolution with an input of `inputRows(outputRows)` rows, an output of `outputRows` rows and
/// no top or bottom padding (whoever calls it supplies the padding rows as zeros). A pointwise
/// (1×1, stride 1, unpadded) convolution also runs on runs of consecutive pixels, as one row of
/// `pixels` pixels (an output pixel depends only on the same input pixel).
///
/// Per stripe height (or run length), one oneDNN forward primitive, made for one thread (the stripes of a
/// region run single-threaded, one image or band per thread) and shared by the threads; per
/// thread a bound copy of it (its own argument memories, scratchpad and stream: parts run
/// concurrently). The kernel is reordered into the primitives' layout once per change of the
/// weights (`refreshWeights`, on the calling thread before the region), one copy per distinct
/// layout the heights' primitives chose.
final class StripeConvolution {
    /// The step whose convolution this runs; held by `owner` unless the step holds these
    /// stripes itself (`FusedPixelRuns`: a strong reference would be a cycle).
    unowned let fused: FusedConvolution
    private let owner: FusedConvolution?
    let shape: ConvolutionShape

    private struct Height {
        let layout: Int
        var bound: [BoundPrimitive]
    }
    /// A stripe of output rows, or a run of pixels of a pointwise convolution.
    private enum Extent: Hashable {
        case rows(Int)
        case pixels(Int)
    }
    private var heights: [Extent: Height] = [:]
    private var weightLayouts: [WeightLayout] = []
    private var reordered: [UnsafePointer<Float>] = []
    private var bias: UnsafePointer<Float>?
    private var reorderedVersion = -1

    /// The post-ops the primitives are made with.
    private let attributes: PrimitiveAttributes?

    /// `fused`'s convolution with its post-ops.
    init(_ fused: FusedConvolution) {
        self.fused = fused
        owner = fused
        shape = fused.shape
        attributes = fused.attributes
    }

    /// `fused`'s convolution with other post-ops, for the step itself to hold
    /// (`FusedPixelRuns`: without the residual add).
    init(heldBy fused: FusedConvolution, attributes: PrimitiveAttributes?) {
        self.fused = fused
        owner = nil
        shape = fused.shape
        self.attributes = attributes
    }

    /// Input rows a stripe of `outputRows` output rows reads: `(rows − 1)·stride + (k − 1)·dilation + 1`.
    func inputRows(_ outputRows: Int) -> Int {
        (outputRows - 1) * shape.strideHeight + (shape.kernelHeight - 1) * shape.dilationHeight + 1
    }

    /// The convolution's shape on a stripe of `outputRows` output rows.
    func stripeShape(_ outputRows: Int) -> ConvolutionShape {
        var stripe = shape
        stripe.inputHeight = inputRows(outputRows)
        stripe.outputHeight = outputRows
        stripe.padTop = 0
        stripe.padBottom = 0
        return stripe
    }

    /// The convolution's shape on a run of `pixels` pixels: maps of one row (pointwise only).
    func pixelShape(_ pixels: Int) -> ConvolutionShape {
        var run = shape
        run.inputHeight = 1
        run.outputHeight = 1
        run.inputWidth = pixels
        run.outputWidth = pixels
        return run
    }

    private func extentShape(_ extent: Extent) -> ConvolutionShape {
        switch extent {
        case .rows(let rows): return stripeShape(rows)
        case .pixels(let pixels): return pixelShape(pixels)
        }
    }

    /// Makes the primitives for these stripe heights, each bound once per thread (`threads`).
    /// - Throws: `ZooNetError.backend` if oneDNN has no kernel for a stripe's shape.
    func prepare(outputRows: Set<Int>, threads: Int) throws {
        try prepare(outputRows.sorted().map(Extent.rows), threads: threads)
    }

    /// Makes the primitives for runs of these pixel counts (pointwise convolutions only), each
    /// bound once per thread.
    /// - Throws: `ZooNetError.backend` if oneDNN has no kernel for a run's shape.
    func prepare(pixels: Set<Int>, threads: Int) throws {
        try prepare(pixels.sorted().map(Extent.pixels), threads: threads)
    }

    private func prepare(_ extents: [Extent], threads: Int) throws {
        for extent in extents {
            if let existing = heights[extent], existing.bound.count >= threads { continue }
            let stripe = extentShape(extent)
            let layouts = try ConvolutionLayouts(shape: stripe, batch: 1, name: "\(stripe) stripe")
            // Made for one thread: that is how it runs (inside a region), and oneDNN sizes its
            // blocking by the thread count it sees when the primitive is made.
            zoo_set_team_size(1)
            defer { WorkerPool.shared.prepareCallingThread() }
            let primitive = try layouts.forwardPrimitive(training: false, hasBias: fused.hasBias, attributes: attributes)
            let chosen = try primitive.memory(dnnl_query_weights_md)
            let layout: Int
            if let same = weightLayouts.firstIndex(where: { $0.primitiveLayout.sameLayout(as: chosen) }) {
                layout = same
            } else {
                weightLayouts.append(try WeightLayout(user: layouts.userWeights, primitive: chosen, toPrimitive: true,
                                                      name: layouts.name))
                layout = weightLayouts.count - 1
                reorderedVersion = -1
            }
            var arguments: [(kind: Int32, layout: MemoryDescriptor)] = [(DNNL_ARG_SRC, layouts.src), (DNNL_ARG_WEIGHTS, chosen)]
            if fused.hasBias { arguments.append((DNNL_ARG_BIAS, layouts.bias)) }
            arguments.append((DNNL_ARG_DST, layouts.dst))
            var bound = heights[extent]?.bound ?? []
            while bound.count < threads { bound.append(try BoundPrimitive(primitive, arguments: arguments)) }
            heights[extent] = Height(layout: layout, bound: bound)
        }
    }

    /// Folds and reorders the weights if they changed since the last call (on the calling
    /// thread, before the stripes run).
    func refreshWeights() {
        let weights = fused.currentWeights()
        bias = weights.bias
        guard weights.version != reorderedVersion || reordered.count != weightLayouts.count else { return }
        reordered = weightLayouts.map { $0.prepare(weights.kernel) }
        reorderedVersion = weights.version
    }

    /// One stripe on thread `thread`'s bound primitive: `x` holds `inputRows(rows)` rows of
    /// `[inputWidth, inputChannels]`, `y` receives `rows` rows of `[outputWidth, outputChannels]`
    /// (holding the addend first when the post-ops sum).
    @inline(__always)
    func run(thread: Int, rows: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        run(thread: thread, .rows(rows), x: x, y: y)
    }

    /// A run of `pixels` consecutive pixels on thread `thread`'s bound primitive: `x`
    /// `[pixels, inputChannels]` → `y` `[pixels, outputChannels]` (holding the addend first
    /// when the post-ops sum); prepared by `prepare(pixels:threads:)`.
    @inline(__always)
    func run(thread: Int, pixels: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        run(thread: thread, .pixels(pixels), x: x, y: y)
    }

    @inline(__always)
    private func run(thread: Int, _ extent: Extent, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        guard let height = heights[extent] else {
            OneDNN.recordError(ZooNetError.backend(operation: "\(extentShape(extent)) stripe", status: "not prepared"))
            return
        }
        let primitive = height.bound[thread % height.bound.count]
        primitive.bind(0, x)
        primitive.bind(1, reordered[height.layout])
        var next = 2
        if let bias { primitive.bind(next, bias); next += 1 }
        primitive.bind(next, y)
        primitive.run()
    }
}
