import Dispatch
import Foundation

/// A range kernel: `kernel(context, lower, upper)` processes elements `lower..<upper`.
/// A C function pointer plus context, so handing work to the helper allocates nothing.
typealias RangeKernel = @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void

/// One long-lived worker thread that takes the upper half of large, memory-bound element-wise
/// kernels (optimizer updates) while the calling thread does the lower half.
///
/// Hand-off is two semaphores (no allocation per call, unlike `concurrentPerform`). Owned by
/// one optimizer (not shared, no global state); the thread exits when the owner is released.
final class HelperThread {
    private final class State: @unchecked Sendable {
        // Fields are written by the caller before `start.signal()` and read by the helper
        // after `start.wait()`; the semaphores order the accesses.
        let start = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        var kernel: RangeKernel?
        var context: UnsafeMutableRawPointer?
        var lower = 0, upper = 0
        var stop = false
    }

    private let state = State()

    init() {
        let state = self.state
        let thread = Thread {
            while true {
                state.start.wait()
                if state.stop { return }
                if let kernel = state.kernel, let context = state.context {
                    kernel(context, state.lower, state.upper)
                }
                state.done.signal()
            }
        }
        thread.name = "ZooNet helper"
        thread.start()
    }

    deinit {
        state.stop = true
        state.start.signal()
    }

    /// Runs `kernel` over `0..<count`, split at a multiple of 8 between the caller and the
    /// helper; returns when both halves are done. Small counts run inline.
    func run(count: Int, context: UnsafeMutableRawPointer, minimum: Int = 1 << 15, _ kernel: RangeKernel) {
        guard count >= minimum else { kernel(context, 0, count); return }
        let middle = ((count / 2) + 7) & ~7
        state.kernel = kernel
        state.context = context
        state.lower = middle
        state.upper = count
        state.start.signal()
        kernel(context, 0, middle)
        state.done.wait()
    }
}
