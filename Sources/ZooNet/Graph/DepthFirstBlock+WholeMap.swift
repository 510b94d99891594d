import Foundation
import CZooKernels

/// A depth-first block on fewer images than threads (batch 1) when its maps are small: each
/// convolution on the whole map, split evenly between the threads, so that no work is repeated.
///
/// Cut into bands of rows, one per thread, a small map computes the bands' overlap twice: a 5×5
/// depthwise convolution on a 7×7 map reads the expanded rows 0–5 for output rows 0–3 and rows
/// 2–6 for rows 4–6, so the expansion computes 11 rows for 7, and the 4 : 3 split keeps one
/// thread waiting. Where that overlap is large (`wholeMapOverlap`) and the maps fit the caches
/// (`wholeMapBytes`), the block runs as three regions whose maps the threads share:
/// 1. the expansion on runs of pixels, an equal run per thread (a pointwise convolution takes
///    any run of consecutive pixels as a map of one row), into the expanded map
///    `[padTop + H + padBottom, W, E]` per image, its padding rows zeros;
/// 2. the depthwise convolution on bands of output rows, reading the expanded map, into
///    `[Ho, Wo, E·m]` per image;
/// 3. the projection on equal runs of pixels into `y` (holding the addend first when it sums).
/// Each output value is the same sum of the same terms as node by node.
///
/// Measured (2-vCPU AMD EPYC, MobileNetV2 and EfficientNet-Lite0 at batch 1, `bench/conv/README.md`):
/// the threads read each other's halves of the maps, which costs most when the host puts the
/// two vCPUs on two dies; with a smaller overlap than 0.2 (MobileNetV2's 14×14 3×3 blocks:
/// 2 rows of 14) that cost outweighs the rows saved.
extension DepthFirstBlock {
    /// The largest expanded + depthwise maps (all images, bytes) run on the whole map:
    /// `ZOONET_WHOLE_MAP_BYTES`, else twice the L2 cache's size (`Cache.level2Bytes`); 0: never.
    static let wholeMapBytes: Int = {
        guard let text = getenv("ZOONET_WHOLE_MAP_BYTES"), let bytes = Int(String(cString: text)), bytes >= 0 else {
            return 2 * Cache.level2Bytes
        }
        return bytes
    }()

    /// The least share of rows banded stripes would compute twice (`stripedOverlap`) for a
    /// block to run on the whole map: `ZOONET_WHOLE_MAP_OVERLAP`, else 0.2. Below it the
    /// overlap saved is worth less than the threads reading each other's halves of the maps.
    static let wholeMapOverlap: Double = {
        guard let text = getenv("ZOONET_WHOLE_MAP_OVERLAP"), let share = Double(String(cString: text)), share >= 0 else {
            return 0.2
        }
        return share
    }()

    /// The layout of a whole-map run on `batch` images.
    struct WholeMap: Equatable {
        let batch: Int
        /// Zero rows above and below each image in the expanded map.
        let padTop: Int, padBottom: Int
        /// Floats per image of the expanded map and of the depthwise output.
        let expandedPerImage: Int, filteredPerImage: Int
        /// Pixel runs (expansion, projection) and row bands (depthwise) per image.
        let parts: Int
        var floats: Int { batch * (expandedPerImage + filteredPerImage) }
    }

    /// The whole-map layout for `batch` images on `threads` threads, or nil when the block runs
    /// in stripes: as many images as threads or more (each thread then has whole images), no
    /// expansion, maps larger than `wholeMapBytes` or bands that would overlap by less than
    /// `wholeMapOverlap` (`wholeMapOverride` decides in tests).
    func wholeMap(batch: Int, threads: Int) -> WholeMap? {
        guard wholeMapOverride ?? true, threads > 1, batch % threads != 0, expansion != nil else { return nil }
        let s = depthwise.shape
        let padBottom = Swift.max(0, depthwise.inputRows(s.outputHeight) - s.padTop - s.inputHeight)
        let map = WholeMap(batch: batch, padTop: s.padTop, padBottom: padBottom,
                           expandedPerImage: (s.padTop + s.inputHeight + padBottom) * s.inputWidth * s.inputChannels,
                           filteredPerImage: s.outputHeight * s.outputWidth * s.outputChannels,
                           parts: Swift.min(threads, s.outputHeight))
        if wholeMapOverride == true { return map }
        let fits = map.floats * MemoryLayout<Float>.size <= DepthFirstBlock.wholeMapBytes
        return fits && stripedOverlap(bands: map.parts) >= DepthFirstBlock.wholeMapOverlap ? map : nil
    }

    /// The expanded rows banded stripes compute twice, as a fraction of the map's rows: where
    /// `bands` bands of output rows meet, each computes the input rows its depthwise window
    /// shares with the next (2/7 for a 3×3 kernel on 7 rows in two bands, 4/7 for 5×5).
    func stripedOverlap(bands: Int) -> Double {
        let s = depthwise.shape
        let computed = (0..<bands).reduce(0) { total, band in
            let rows = evenRun(band, of: bands, count: s.outputHeight)
            guard !rows.isEmpty else { return total }
            let first = Swift.max(0, rows.lowerBound * s.strideHeight - s.padTop)
            let end = Swift.min(s.inputHeight, (rows.upperBound - 1) * s.strideHeight - s.padTop + depthwise.inputRows(1))
            return total + Swift.max(0, end - first)
        }
        return Double(computed) / Double(s.inputHeight) - 1
    }

    /// Makes the primitives of `map`: the expansion and the projection on each run's pixel
    /// count, the depthwise convolution on each band's rows; and the shared maps' buffer.
    /// - Throws: `ZooNetError.backend` if oneDNN has no kernel for a shape.
    func prepare(_ map: WholeMap, threads: Int) throws {
        let s = depthwise.shape
        func counts(_ total: Int) -> Set<Int> { Set((0..<map.parts).map { evenRun($0, of: map.parts, count: total).count }) }
        try expansion?.prepare(pixels: counts(s.inputHeight * s.inputWidth), threads: threads)
        try depthwise.prepare(outputRows: counts(s.outputHeight), threads: threads)
        try projection.prepare(pixels: counts(s.outputHeight * s.outputWidth), threads: threads)
        scratch.reserveShared(map.floats)
    }

    /// Runs the block as `map` lays it out; shapes as `run(_:addend:into:batch:)`.
    func run(_ map: WholeMap, x: UnsafePointer<Float>, addend: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
             threads: Int) {
        let expanded = scratch.shared
        let filtered = expanded + map.batch * map.expandedPerImage
        for phase in WholeMapPhase.allCases {
            WorkerPool.shared.parallel(map.batch * map.parts, WholeMapJob(
                block: self, map: map, phase: phase, x: x, addend: addend, y: y, expanded: expanded, filtered: filtered,
                threads: threads))
        }
    }

    /// Part `k` of `0..<count` cut into `parts` runs whose lengths differ by one at most (as the
    /// striped schedule cuts bands).
    private func evenRun(_ k: Int, of parts: Int, count: Int) -> Range<Int> {
        partRange(k, of: parts, count: count, alignment: 1)
    }

    /// Part `part` of `phase`: image `part / map.parts`, its run or band `part % map.parts`.
    fileprivate func run(part: Int, phase: WholeMapPhase, map: WholeMap, thread: Int, x: UnsafePointer<Float>,
                         addend: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                         expanded: UnsafeMutablePointer<Float>, filtered: UnsafeMutablePointer<Float>) {
        let s = depthwise.shape
        let image = part / map.parts, k = part % map.parts
        let mapRow = s.inputWidth * s.inputChannels
        let inputPixels = s.inputHeight * s.inputWidth, outputPixels = s.outputHeight * s.outputWidth
        let expandedImage = expanded + image * map.expandedPerImage
        switch phase {
        case .expansion:
            guard let expansion else { return }
            let pixels = evenRun(k, of: map.parts, count: inputPixels)
            let c = expansion.shape.inputChannels
            expansion.run(thread: thread, pixels: pixels.count, x: x + (image * inputPixels + pixels.lowerBound) * c,
                          y: expandedImage + map.padTop * mapRow + pixels.lowerBound * s.inputChannels)
            if k == 0 { expandedImage.update(repeating: 0, count: map.padTop * mapRow) }
            if k == map.parts - 1 {
                (expandedImage + (map.padTop + s.inputHeight) * mapRow).update(repeating: 0, count: map.padBottom * mapRow)
            }
        case .depthwise:
            // Output row r reads the virtual rows from r·stride − padTop: buffer row r·stride.
            let rows = evenRun(k, of: map.parts, count: s.outputHeight)
            depthwise.run(thread: thread, rows: rows.count, x: expandedImage + rows.lowerBound * s.strideHeight * mapRow,
                          y: filtered + image * map.filteredPerImage + rows.lowerBound * s.outputWidth * s.outputChannels)
        case .projection:
            let pixels = evenRun(k, of: map.parts, count: outputPixels)
            let channels = projection.shape.outputChannels
            let first = image * outputPixels + pixels.lowerBound
            if let addend { (y + first * channels).update(from: addend + first * channels, count: pixels.count * channels) }
            projection.run(thread: thread, pixels: pixels.count,
                           x: filtered + image * map.filteredPerImage + pixels.lowerBound * s.outputChannels,
                           y: y + first * channels)
        }
    }
}

/// The three regions of a whole-map run, in order.
private enum WholeMapPhase: CaseIterable { case expansion, depthwise, projection }

/// One region of a whole-map run: a part per image and run (or band).
private struct WholeMapJob: ParallelJob {
    unowned(unsafe) let block: DepthFirstBlock
    let map: DepthFirstBlock.WholeMap
    let phase: WholeMapPhase
    let x: UnsafePointer<Float>, addend: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>
    let expanded: UnsafeMutablePointer<Float>, filtered: UnsafeMutablePointer<Float>
    let threads: Int

    func run(_ part: Int) {
        block.run(part: part, phase: phase, map: map, thread: Int(zoo_thread_index()) % threads, x: x, addend: addend, y: y,
                  expanded: expanded, filtered: filtered)
    }
}
