#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// A range kernel: `kernel(context, lower, upper)` processes elements `lower..<upper`.
/// A C function pointer plus context, so handing work to the helper allocates nothing.
typealias RangeKernel = @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void

/// One long-lived worker thread that helps with large, memory-bound element-wise kernels
/// (optimizer updates).
///
/// The range is cut into chunks that the caller and the helper claim under a lock, so the
/// helper is opportunistic: the caller never waits for it to be scheduled. This matters when
/// the cores are busy (OpenBLAS's two threads spin-yield after each sgemm, and the machine may be
/// shared): a helper that wakes late finds the work done and goes back to sleep, and the caller
/// only ever waits for a chunk the helper has already started. No allocation per call. Owned by
/// one optimizer (not shared, no global state); the thread exits when the owner is released.
final class HelperThread {
    private final class State: @unchecked Sendable {
        let start = DispatchSemaphore(value: 0)
        let lock = NSLock()
        // Guarded by `lock` (except `stop`, written before `start.signal()`).
        var kernel: RangeKernel?
        var context: UnsafeMutableRawPointer?
        var count = 0, chunkSize = 1, chunkCount = 0
        var nextChunk = 0, finishedChunks = 0
        var open = false
        var stop = false

        /// Claims and runs chunks of the open job until none are left; returns how many ran.
        @discardableResult
        func work() -> Int {
            var ran = 0
            while true {
                lock.lock()
                guard open, nextChunk < chunkCount, let kernel, let context else { lock.unlock(); return ran }
                let chunk = nextChunk
                nextChunk += 1
                let lower = chunk * chunkSize, upper = Swift.min(count, lower + chunkSize)
                lock.unlock()
                kernel(context, lower, upper)
                lock.lock()
                finishedChunks += 1
                lock.unlock()
                ran += 1
            }
        }
    }

    private let state = State()

    init() {
        let state = self.state
        let thread = Thread {
            while true {
                state.start.wait()
                if state.stop { return }
                state.work()
            }
        }
        thread.name = "ZooNet helper"
        thread.start()
    }

    deinit {
        state.stop = true
        state.start.signal()
    }

    /// Runs `kernel` over `0..<count` in chunks (multiples of 8 elements) shared between the
    /// caller and the helper; returns when every chunk is done. Small counts run inline.
    func run(count: Int, context: UnsafeMutableRawPointer, minimum: Int = 1 << 15, chunk: Int = 1 << 14,
             _ kernel: RangeKernel) {
        guard count >= minimum else { kernel(context, 0, count); return }
        let size = Swift.max(8, (chunk + 7) & ~7)
        state.lock.lock()
        state.kernel = kernel
        state.context = context
        state.count = count
        state.chunkSize = size
        state.chunkCount = (count + size - 1) / size
        state.nextChunk = 0
        state.finishedChunks = 0
        state.open = true
        state.lock.unlock()
        state.start.signal()
        state.work()
        while true {
            state.lock.lock()
            if state.finishedChunks == state.chunkCount {
                state.open = false
                state.kernel = nil
                state.context = nil
                state.lock.unlock()
                return
            }
            state.lock.unlock()
            sched_yield()  // the helper is finishing a chunk it claimed
        }
    }
}
