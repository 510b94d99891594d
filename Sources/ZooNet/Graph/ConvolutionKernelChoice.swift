import CZooKernels
import Foundation
import Synchronization

/// The kernels a fused inference convolution step (`FusedConvolution`) can run on.
enum ConvolutionKernel: String, Sendable, Hashable, CaseIterable {
    /// Winograd F(2×2, 3×3) (`WinogradConvolution`): 3×3 stride-1 convolutions.
    case winograd = "Winograd"
    /// ZooNet's own direct kernel (`DirectConvolution`): register tiles on NHWC.
    case ownDirect = "own direct"
    /// A pointwise convolution on runs of output pixels, the residual add in ZooNet's own pass
    /// (`FusedPixelRuns`).
    case pixelRuns = "pixel runs"
    /// oneDNN's convolution primitive (on NHWC, or on nChw8c between two reorders).
    case oneDNN
}

extension ComputeBackend {
    /// When fused inference convolutions pick their kernel by timing the candidates on this
    /// machine, as cuDNN's benchmark mode or TVM's tuning do, instead of by ZooNet's rules.
    public enum KernelTuning: String, Sendable, CaseIterable {
        /// Never: the rules only. They were measured on AVX2 machines, and where oneDNN runs
        /// other kernels (AVX-512, AVX) they leave every convolution to oneDNN.
        case off
        /// Where the rules were not measured: oneDNN runs kernels other than AVX2 on a CPU that
        /// has AVX2 and FMA (ZooNet's own kernels need them). The default.
        case automatic
        /// Always, also on AVX2 (to check the rules against the clock).
        case on
    }

    /// The tuning mode; from `ZOONET_TUNE` at start (`0` off, `1` on, otherwise automatic).
    /// Read when a plan's steps are made and prepared. Choices are kept for the process and in
    /// a file for later processes on the same machine: `ZOONET_TUNE_CACHE` when set (`0`: none),
    /// else `kernel-choices.json` in `$XDG_CACHE_HOME/zoo` or `~/.cache/zoo`.
    public static var kernelTuning: KernelTuning {
        get { KernelTuning.allCases[kernelTuningMode.load(ordering: .relaxed)] }
        set { kernelTuningMode.store(KernelTuning.allCases.firstIndex(of: newValue)!, ordering: .relaxed) }
    }

    /// Whether fused convolutions tune their kernels now (`kernelTuning`, this CPU and oneDNN's
    /// instruction set).
    static var tunesKernels: Bool {
        switch kernelTuning {
        case .off: return false
        case .on: return zoo_cpu_has_avx2_fma() != 0
        case .automatic: return !OneDNN.runsAVX2Kernels && zoo_cpu_has_avx2_fma() != 0
        }
    }
}

private let kernelTuningMode: Atomic<Int> = {
    let text = getenv("ZOONET_TUNE").map { String(cString: $0) }
    let mode: ComputeBackend.KernelTuning = text == "0" ? .off : text == "1" ? .on : .automatic
    return Atomic(ComputeBackend.KernelTuning.allCases.firstIndex(of: mode)!)
}()

/// Picks a convolution's kernel by the clock: each candidate runs the step on scratch maps,
/// alternating, and the fastest (least of its runs) wins — the rule's own choice unless
/// another is more than `margin` faster, so the noise of a shared machine does not move a
/// step away from a measured rule. A choice is kept for the process (per shape, batch, thread
/// count and candidates), so every network with the same layer runs the same kernel and a
/// second build of a network measures nothing; the choices of networks' steps are also kept on
/// disk for later processes on the machine (`KernelChoiceFile`).
enum ConvolutionKernelChoice {
    /// What a choice is kept under.
    struct Key: Hashable {
        let shape: ConvolutionShape
        let batch: Int
        let threads: Int
        let sum: Bool
        let candidates: [ConvolutionKernel]

        /// The key in `KernelChoiceFile`: all of the above as text.
        var name: String {
            "\(shape) · batch \(batch) · \(threads) threads · sum \(sum) · \(candidates.map(\.rawValue).joined(separator: ", "))"
        }
    }

    /// How much faster (a fraction) another kernel must run than the rule's choice to replace it.
    static let margin = 0.03

    /// A choice and the times it was made on.
    struct Measured: Equatable {
        /// The kernel picked.
        let kernel: ConvolutionKernel
        /// Each candidate's time as `measure` gave it (a fused step's: its least seconds per sample).
        let seconds: [ConvolutionKernel: Double]

        /// `seconds` by kernel name (`Winograd`, `own direct`, …), as profiles and the file give them.
        var secondsByName: [String: Double] {
            Dictionary(uniqueKeysWithValues: seconds.map { ($0.key.rawValue, $0.value) })
        }
    }

    private static let chosen = Mutex<[Key: Measured]>([:])
    private static let measuredCount = Atomic<Int>(0)

    /// Per file: its choices for this machine (read at the first choice that may come from it)
    /// and the choices measured since the last save, by key name.
    private static let onDisk = Mutex<[URL: (read: [String: Measured]?, unsaved: [String: Measured])]>([:])

    /// How many choices were measured in this process (not taken from the kept ones); `Network`
    /// saves to the file only after a preparation that measured.
    static var measurements: Int { measuredCount.load(ordering: .relaxed) }

    /// The kept choice for `key`, or `measure`'s result for it, kept. `measure` returns each
    /// candidate's time; `rule` is the rules' choice (one of the candidates). With a `file`,
    /// a choice it holds for this machine is taken instead of measuring, and a measured one is
    /// written to it at the next `saveMeasured(to:)`.
    static func choice(for key: Key, rule: ConvolutionKernel, file: KernelChoiceFile? = nil,
                       measure: () throws -> [ConvolutionKernel: Double]) rethrows -> Measured {
        if let kept = chosen.withLock({ $0[key] }) { return kept }
        let picked: Measured
        if let file, let stored = storedChoice(key, in: file) {
            picked = stored
        } else {
            let times = try measure()
            picked = Measured(kernel: pick(times, rule: rule), seconds: times)
            measuredCount.add(1, ordering: .relaxed)
            if let file { onDisk.withLock { $0[file.url, default: (nil, [:])].unsaved[key.name] = picked } }
        }
        return chosen.withLock { table in
            if let kept = table[key] { return kept }
            table[key] = picked
            return picked
        }
    }

    /// `file`'s choice for `key` on this machine, if it holds one of `key`'s candidates.
    private static func storedChoice(_ key: Key, in file: KernelChoiceFile) -> Measured? {
        let stored = onDisk.withLock { files in
            if files[file.url]?.read == nil { files[file.url, default: (nil, [:])].read = file.load(machine: KernelChoiceFile.machine) }
            return files[file.url]?.read?[key.name]
        }
        guard let stored, key.candidates.contains(stored.kernel) else { return nil }
        return stored
    }

    /// Writes the choices measured since the last save to `file` (`Network` calls it once a
    /// plan's steps are prepared). A failed write is dropped: the choices stay in the process.
    static func saveMeasured(to file: KernelChoiceFile? = KernelChoiceFile.standard) {
        guard let file else { return }
        let unsaved = onDisk.withLock { files in
            defer { files[file.url]?.unsaved = [:] }
            return files[file.url]?.unsaved ?? [:]
        }
        guard !unsaved.isEmpty else { return }
        try? file.save(unsaved, machine: KernelChoiceFile.machine)
    }

    /// The fastest of `times` (seconds per run), or `rule` when it is within `margin` of it
    /// (or has no time: then the fastest timed one).
    static func pick(_ times: [ConvolutionKernel: Double], rule: ConvolutionKernel) -> ConvolutionKernel {
        guard let fastest = times.min(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue < $1.key.rawValue) })
        else { return rule }
        if let ruleTime = times[rule], ruleTime <= fastest.value * (1 + margin) { return rule }
        return fastest.key
    }

    /// Times `run` for each candidate: one untimed run each (packing weights, making
    /// primitives, warming caches), then rounds in alternating order keeping each candidate's
    /// least time. After each round a candidate more than `dropRatio` times slower than the
    /// fastest so far stops running; rounds end when one candidate is left, after 3 rounds once
    /// they took 50 ms in all, or after 7 — so a large layer with a clear winner costs two runs
    /// per candidate and close ones get the repeats.
    static func time(_ candidates: [ConvolutionKernel], run: (ConvolutionKernel) -> Void) -> [ConvolutionKernel: Double] {
        let clock = ContinuousClock()
        return time(candidates) { kernel in
            clock.measure { run(kernel) }.inSeconds
        }
    }

    /// `time(_:run:)` with `seconds` running a candidate once and returning how long it took.
    static func time(_ candidates: [ConvolutionKernel], seconds: (ConvolutionKernel) -> Double) -> [ConvolutionKernel: Double] {
        for kernel in candidates { _ = seconds(kernel) }
        var best = [ConvolutionKernel: Double]()
        var running = candidates
        var total = 0.0
        for round in 0..<7 {
            for kernel in round % 2 == 0 ? running : running.reversed() {
                let t = seconds(kernel)
                total += t
                best[kernel] = Swift.min(best[kernel] ?? .infinity, t)
            }
            let fastest = running.map { best[$0]! }.min()!
            running = running.filter { best[$0]! <= fastest * dropRatio }
            if running.count < 2 || (round >= 2 && total >= 0.05) { break }
        }
        return best
    }

    /// The samples to time a step of `batch` samples on: all of them, or as few as make 2 GFLOP
    /// (at least one) — a layer that large keeps its speed per sample at fewer samples (VGG-16's
    /// 224×224×64 convolutions make 3.7 GFLOP per image, and a frozen VGG base in a training
    /// step of 32 would otherwise time each candidate on 118 GFLOP).
    static func timedBatch(_ batch: Int, flopPerSample: Int) -> Int {
        Swift.min(batch, Swift.max(1, (2_000_000_000 + flopPerSample - 1) / Swift.max(flopPerSample, 1)))
    }

    /// How many times slower than the fastest a candidate may run and still be timed again.
    static let dropRatio = 1.2
}

