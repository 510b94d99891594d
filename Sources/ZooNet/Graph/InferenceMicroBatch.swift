import Foundation

/// How many samples an inference pass runs through the network at once: as many as keep the
/// largest step's working set (its inputs and output, `floats · 4` bytes per sample) within
/// three quarters of the last-level cache, at least 1. Node by node, a batch of 32 MobileNetV2
/// images at 224×224 (5.6 MB per image in the 112×112 expansion) ran as passes of 4: measured
/// 25 % faster than one pass of 32, whose 180 MB of feature maps leave the cache between layers
/// (`bench/conv/README.md`); with its blocks depth-first (`DepthFirstBlock`: the expanded maps are
/// never stored) the largest step is the stem, 2.2 MB per image, and passes take 10. Results do
/// not depend on it: inference treats samples independently.
enum InferenceMicroBatch {
    /// The last-level cache's size (`Cache.lastLevelBytes`: `ZOONET_CACHE_BYTES`, else sysfs).
    static var cacheBytes: Int { Cache.lastLevelBytes }

    /// `32768K` → 33554432; `2M`, plain bytes.
    static func parseSize(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let factor = switch last { case "K", "k": 1 << 10; case "M", "m": 1 << 20; case "G", "g": 1 << 30; default: 1 }
        return Int(factor == 1 ? text : String(text.dropLast())).map { $0 * factor }
    }

    /// Samples per pass for a step working set of `floatsPerSample`, at most `limit`.
    static func samples(workingSetFloatsPerSample floatsPerSample: Int, limit: Int, cacheBytes: Int = cacheBytes) -> Int {
        guard floatsPerSample > 0 else { return limit }
        return Swift.max(1, Swift.min(limit, cacheBytes * 3 / 4 / (floatsPerSample * MemoryLayout<Float>.size)))
    }
}

extension Network {
    /// How many samples `predict(_:batchSize:)` runs through the network at once for this
    /// batch size: at most `batchSize`, fewer when the largest step's feature maps would not fit
    /// ¾ of the last-level cache (inference activations then take this many samples' worth).
    public func inferencePassSize(batchSize: Int) -> Int {
        InferenceMicroBatch.samples(workingSetFloatsPerSample: largestStepWorkingSet(plan(training: false)), limit: batchSize)
    }

    /// Per sample, the most floats one step of `plan` reads and writes (its inputs and output).
    func largestStepWorkingSet(_ plan: ExecutionPlan) -> Int {
        plan.steps.map { step in
            var inputs = inputsOf[step.first]
            if let addend = step.addend { inputs.append(addend) }
            return inputs.reduce(sizes[step.output]) { $0 + sizes[$1] }
        }.max() ?? 0
    }
}
