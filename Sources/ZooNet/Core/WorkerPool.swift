#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import CZooKernels
import Synchronization

/// ZooNet's compute threads: the OpenMP team (libgomp) that oneDNN runs its primitives on.
///
/// A *region* (`parallel(_:_:)`) splits one piece of work into `parts` numbered `0..<parts`
/// (in memory order of the data they touch); the caller and the team's other threads each claim
/// the parts of their own contiguous band first, then what is left of the others' bands, so a
/// thread that starts late finds the work done (`ComputeBackend.bandedParts`). Layers open one
/// region per pass and do everything the pass needs inside it (e.g. Dense forward: a part fills
/// its rows with the bias, runs the sgemm of those rows and applies the activation), so there
/// is one hand-off per pass; oneDNN calls made inside a part run single-threaded (oneDNN sees
/// the active region).
///
/// Why OpenMP's threads and not a pool of ZooNet's own: oneDNN (as Debian builds it) runs its
/// primitives on OpenMP. A second set of threads would either oversubscribe the cores or sit
/// spinning while the other set works; with one team, ZooNet's regions and oneDNN's primitives
/// take turns on the same threads. Between regions the team's threads spin for a while and
/// then sleep (libgomp's policy; `OMP_WAIT_POLICY` and `GOMP_SPINCOUNT` tune it).
///
/// Nested regions (a part opening a region) run their parts inline, in order: correct, just
/// serial. Each thread that calls into ZooNet leads its own team (libgomp keeps one per
/// calling thread). No allocation per region: a job is a struct on the caller's stack
/// (`ParallelJob`).
final class WorkerPool: @unchecked Sendable {
    /// The pool every layer uses; width from `ComputeThreads` (default: the online cores,
    /// at most 8, or `ZOONET_NUM_THREADS`).
    static let shared: WorkerPool = {
        zoo_set_banded_parts(ComputeBackend.bandedParts ? 1 : 0)
        return WorkerPool(width: WorkerPool.defaultWidth)
    }()

    /// At most this many threads.
    static let maximumWidth = 64

    static var defaultWidth: Int {
        if let text = getenv("ZOONET_NUM_THREADS"), let n = Int(String(cString: text)), n >= 1 { return Swift.min(n, maximumWidth) }
        return Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, 8))
    }

    /// Elements per part below which an element-wise pass is not split: a hand-off to a
    /// spinning thread costs about a microsecond, a pass over 4096 floats a few.
    static let elementGrain = 1 << 12

    private let widthValue: Atomic<Int>

    init(width: Int) {
        widthValue = Atomic(Swift.max(1, Swift.min(width, WorkerPool.maximumWidth)))
    }

    /// Threads that share a region (the caller included).
    var width: Int { widthValue.load(ordering: .relaxed) }

    /// Changes the number of threads (regions and oneDNN primitives started afterwards use it).
    func setWidth(_ newValue: Int) {
        widthValue.store(Swift.max(1, Swift.min(newValue, WorkerPool.maximumWidth)), ordering: .relaxed)
    }

    /// Makes oneDNN's primitives, run from the calling thread, use `width` threads (OpenMP's
    /// thread count is a per-thread setting; this is a cheap check when it is already right).
    func prepareCallingThread() {
        zoo_set_team_size(Int32(width))
    }

    /// How many parts to cut `work` units into so each has at least `grain` units (1 … width),
    /// and at most `most` (the bands or strips the data has: 0 for no data).
    func parts(work: Int, grain: Int, most: Int = .max) -> Int {
        Swift.min(Swift.max(1, Swift.min(width, work / Swift.max(grain, 1))), most)
    }

    /// Runs `job.run(part)` for every part in `0..<parts`, each exactly once, shared between
    /// the caller and the team; returns when all are done. Parts must be independent (write
    /// disjoint memory).
    @inline(__always)
    func parallel<Job: ParallelJob>(_ parts: Int, _ job: Job) {
        let threads = width
        guard parts > 1, threads > 1 else {
            for part in 0..<Swift.max(parts, 0) { job.run(part) }
            return
        }
        // The job stays on the caller's stack; the team gets its address and a thin function
        // (no context), so nothing is allocated or reference-counted per region.
        withUnsafePointer(to: job) { jobPointer in
            var region = Region(job: UnsafeRawPointer(jobPointer), invoke: Job.invoke)
            withUnsafePointer(to: &region) { regionPointer in
                zoo_parallel_for(Region.run, UnsafeRawPointer(regionPointer), parts, Int32(threads))
            }
        }
    }

    /// What the C side calls for each part: the job's address and its typed entry point.
    private struct Region {
        let job: UnsafeRawPointer
        let invoke: Invoker

        static let run: zoo_part_function = { context, part in
            guard let region = context?.assumingMemoryBound(to: Region.self) else { return }
            region.pointee.invoke(region.pointee.job, part)
        }
    }
}

/// A region's work: `run(part)` is called once for each part, on any of the team's threads.
/// Jobs are small structs of pointers and sizes (see `Dense`, `BatchNorm`, `Adam`), so
/// handing one to the team allocates nothing.
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

extension ComputeBackend {
    /// Whether a region's parts are cut into one contiguous band per thread, each thread
    /// claiming its own band first (`zoo_parallel_for`): balanced threads then work on the same
    /// stretch of every tensor in every region, as oneDNN's primitives split the batch, and read
    /// what their own core wrote. Default on; `ZOONET_BANDED_PARTS=0` starts with it off (one
    /// shared counter: any thread takes the next part). Results do not depend on it.
    public static var bandedParts: Bool {
        get { bandedPartsSwitch.load(ordering: .relaxed) }
        set {
            bandedPartsSwitch.store(newValue, ordering: .relaxed)
            zoo_set_banded_parts(newValue ? 1 : 0)
        }
    }
}

private let bandedPartsSwitch = ComputeBackend.switchFromEnvironment("ZOONET_BANDED_PARTS")

/// The number of threads ZooNet computes with: its own regions and oneDNN's primitives, on
/// one OpenMP team. Default: the online cores, at most 8, or `ZOONET_NUM_THREADS`.
public enum ComputeThreads {
    /// Sets the thread count (the caller included); values below 1 are ignored.
    public static func set(_ count: Int) {
        guard count >= 1 else { return }
        WorkerPool.shared.setWidth(count)
        WorkerPool.shared.prepareCallingThread()
    }

    /// The current thread count.
    public static var count: Int { WorkerPool.shared.width }
}
