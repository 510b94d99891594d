#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import CZooKernels
import Synchronization

/// ZooNet's compute threads: the calling thread plus `width − 1` long-lived workers.
///
/// A *region* (`parallel(_:_:)`) splits one piece of work into `parts` numbered
/// `0..<parts`; the caller and the workers claim parts from a shared counter, so a worker
/// that is scheduled late finds the work done and the caller never waits for it to start —
/// it only waits for parts a worker has already claimed. Layers open one region per pass and
/// do everything that pass needs inside it (e.g. Dense forward: a part fills its rows with
/// the bias, runs the sgemm of those rows and applies the activation to them), so there is
/// one hand-off per pass instead of one per BLAS call, and OpenBLAS itself runs
/// single-threaded inside the parts.
///
/// Waiting: after a region a worker spins (with PAUSE) on the region counter for ≈ 0.5 ms (the next
/// region of a training step usually starts sooner), then sleeps on its own semaphore.
/// Nested regions (a part opening a region) and regions opened while another thread owns the
/// pool run their parts inline, in order, on the calling thread: correct, just serial.
/// No allocation per region: a job is a struct on the caller's stack (`ParallelJob`).
final class WorkerPool: @unchecked Sendable {
    /// The pool every layer uses; width from `ComputeThreads` (default: the online cores,
    /// at most 8, or `ZOONET_NUM_THREADS`).
    static let shared = WorkerPool(width: WorkerPool.defaultWidth)

    /// At most this many threads.
    static let maximumWidth = 64

    static var defaultWidth: Int {
        if let text = getenv("ZOONET_NUM_THREADS"), let n = Int(String(cString: text)), n >= 1 { return Swift.min(n, maximumWidth) }
        return Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, 8))
    }

    /// Elements per part below which an element-wise pass is not split: a hand-off to a
    /// spinning worker costs about a microsecond, a pass over 4096 floats a few.
    static let elementGrain = 1 << 12

    /// Region-counter polls (each with a PAUSE) before a worker sleeps (≈ 0.5 ms of spinning).
    static let spinLimit = 20_000

    /// One worker thread's wake-up state.
    private final class Worker: @unchecked Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    private let generation = Atomic<Int>(0)
    private let nextPart = Atomic<Int>(0)
    private let finishedParts = Atomic<Int>(0)
    private let owned = Atomic<Bool>(false)
    private let widthValue: Atomic<Int>
    private let lock = NSLock()
    // Guarded by `lock`.
    private var context: UnsafeRawPointer?
    private var invoke: Invoker?
    private var partCount = 0
    private var open = false
    private var inside = 0
    private var workers: [Worker] = []

    init(width: Int) {
        widthValue = Atomic(Swift.max(1, width))
        BLASConfiguration.singleThreaded()
    }

    /// Threads that share a region (the caller included).
    var width: Int { widthValue.load(ordering: .relaxed) }

    /// Changes the number of threads; workers are started on the next region that needs them,
    /// surplus workers stay asleep.
    func setWidth(_ newValue: Int) {
        widthValue.store(Swift.max(1, Swift.min(newValue, WorkerPool.maximumWidth)), ordering: .relaxed)
    }

    /// How many parts to cut `work` units into so each has at least `grain` units (1 … width),
    /// and at most `most` (the bands or strips the data has: 0 for no data).
    func parts(work: Int, grain: Int, most: Int = .max) -> Int {
        Swift.min(Swift.max(1, Swift.min(width, work / Swift.max(grain, 1))), most)
    }

    /// Runs `job.run(part)` for every part in `0..<parts`, each exactly once, shared between
    /// the caller and the workers; returns when all are done. Parts must be independent (write
    /// disjoint memory).
    @inline(__always)
    func parallel<Job: ParallelJob>(_ parts: Int, _ job: Job) {
        guard parts > 1, width > 1,
              owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<Swift.max(parts, 0) { job.run(part) }
            return
        }
        defer { owned.store(false, ordering: .releasing) }
        // The job stays on the caller's stack; the workers get its address and a thin
        // function (no context), so nothing is allocated or reference-counted per region.
        withUnsafePointer(to: job) { runRegion(parts, context: UnsafeRawPointer($0), invoke: Job.invoke) }
    }

    private func runRegion(_ parts: Int, context: UnsafeRawPointer, invoke: @escaping Invoker) {
        startWorkers(upTo: Swift.min(width, parts) - 1)
        lock.lock()
        self.context = context
        self.invoke = invoke
        partCount = parts
        nextPart.store(0, ordering: .relaxed)
        finishedParts.store(0, ordering: .relaxed)
        open = true
        lock.unlock()
        generation.add(1, ordering: .sequentiallyConsistent)
        for worker in workers where worker.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            worker.wake.signal()
        }
        runParts(invoke, context, count: parts)
        var spins = 0
        while finishedParts.load(ordering: .acquiring) < parts {
            spins += 1
            if spins > 20_000 { sched_yield() } else { zoo_spin_pause() }  // past ≈ 1 ms the worker has lost its core
        }
        // No worker may still be reading the job (it lives on the caller's stack) when we return.
        lock.lock()
        open = false
        while inside > 0 { lock.unlock(); sched_yield(); lock.lock() }
        self.context = nil
        self.invoke = nil
        lock.unlock()
    }

    /// Claims and runs parts of the current region until none are left.
    private func runParts(_ invoke: Invoker, _ context: UnsafeRawPointer, count: Int) {
        while true {
            let part = nextPart.wrappingAdd(1, ordering: .relaxed).oldValue
            guard part < count else { return }
            invoke(context, part)
            finishedParts.add(1, ordering: .releasing)
        }
    }

    private func startWorkers(upTo count: Int) {
        lock.lock()
        defer { lock.unlock() }
        while workers.count < count {
            let worker = Worker(), index = workers.count
            workers.append(worker)
            let thread = Thread { self.workerLoop(worker, index: index) }  // pools live for the process
            thread.name = "ZooNet worker \(index + 1)"
            thread.start()
        }
    }

    private func workerLoop(_ worker: Worker, index: Int) {
        var seen = generation.load(ordering: .sequentiallyConsistent)
        while true {
            var spins = index + 1 < width ? 0 : Int.max  // surplus workers go straight to sleep
            while generation.load(ordering: .acquiring) == seen {
                if spins < WorkerPool.spinLimit { spins += 1; zoo_spin_pause(); continue }
                worker.sleeping.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen {
                    worker.wake.wait()  // the region's opener clears `sleeping` and signals
                } else if !worker.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                    worker.wake.wait()  // the opener already claimed the wake-up: consume its signal
                }
                spins = index + 1 < width ? 0 : Int.max
            }
            seen = generation.load(ordering: .acquiring)
            if index + 1 < width { joinRegion() }
        }
    }

    /// Takes part in the open region, if any (`inside` keeps the opener from returning, and
    /// its job from going out of scope, while this thread runs parts).
    private func joinRegion() {
        lock.lock()
        guard open, let invoke, let context else { lock.unlock(); return }
        let count = partCount
        inside += 1
        lock.unlock()
        runParts(invoke, context, count: count)
        lock.lock()
        inside -= 1
        lock.unlock()
    }
}

/// A region's work: `run(part)` is called once for each part, on any of the pool's threads.
/// Jobs are small structs of pointers and sizes (see `Dense`, `BatchNorm`, `Adam`), so
/// handing one to the workers allocates nothing.
protocol ParallelJob {
    func run(_ part: Int)
}

typealias Invoker = (UnsafeRawPointer, Int) -> Void

extension ParallelJob {
    static func invoke(_ context: UnsafeRawPointer, _ part: Int) {
        context.assumingMemoryBound(to: Self.self).pointee.run(part)
    }
}

/// The contiguous range of part `part` when `0..<count` is cut into `parts` pieces whose
/// boundaries are multiples of `alignment` (except the end).
@inline(__always)
func partRange(_ part: Int, of parts: Int, count: Int, alignment: Int = 16) -> Range<Int> {
    guard parts > 1 else { return 0..<count }
    let units = (count + alignment - 1) / alignment
    let lower = Swift.min(count, (units * part / parts) * alignment)
    let upper = part == parts - 1 ? count : Swift.min(count, (units * (part + 1) / parts) * alignment)
    return lower..<upper
}

/// The number of threads ZooNet computes with (its worker pool; OpenBLAS runs single-threaded
/// inside the pool's parts). Default: the online cores, at most 8, or `ZOONET_NUM_THREADS`.
public enum ComputeThreads {
    /// Sets the thread count (the caller included); values below 1 are ignored.
    public static func set(_ count: Int) {
        guard count >= 1 else { return }
        WorkerPool.shared.setWidth(count)  // creating the pool makes OpenBLAS single-threaded
    }

    /// The current thread count.
    public static var count: Int { WorkerPool.shared.width }
}
