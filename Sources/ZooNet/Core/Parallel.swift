import Dispatch

/// Splits `0..<count` into `ways` contiguous ranges run concurrently on the calling thread and
/// Dispatch workers, when `count` is large enough to amortize the hand-off (memory-bound
/// element-wise kernels such as optimizer updates); otherwise runs `body(0..<count)` inline.
/// Ranges start at multiples of 8 so SIMD kernels stay aligned to their lanes.
@inline(__always)
func forEachChunk(_ count: Int, ways: Int = 2, minimum: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    guard ways > 1, count >= minimum else { body(0..<count); return }
    let step = ((count + ways - 1) / ways + 7) & ~7
    withoutActuallyEscaping(body) { body in
        // Safe: concurrentPerform returns only after every part ran, and parts touch
        // disjoint ranges.
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: ways) { part in
            let start = part * step
            if start < count { work(start..<Swift.min(start + step, count)) }
        }
    }
}
