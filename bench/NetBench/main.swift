// The engine's training-throughput benchmark (not a test): the configurations of
// bench/net/peers.py, on random data of MNIST shape (60,000 × 784).
//
//     swift run -c release zoo-net-bench            # or bash bench/net/run.sh for the peers too
//
// First prints a KERNELS line (the instruction set oneDNN's JIT uses, OpenBLAS's core name) and
// measures the backend's SGEMM peak through ZooNet's own `gemm` wrapper (GEMMProbe: the team's
// bands of single-threaded dnnl_sgemm calls, and one dnnl_sgemm threaded by oneDNN) beside
// Debian's OpenBLAS on its own threads (for comparison only; ZooNet does not use it): 1024³,
// then the GEMMs of one batch-256 step of 784-300-100-10 (forward X·W, weight gradient Xᵀ·G,
// input gradient G·Wᵀ). One GEMM of [m, k]·[k, n] is 2·m·n·k FLOP. Prints a GEMM line per
// shape, a PEAK line (the backend's best rate, in GFLOP/s) and an OPENBLAS_PEAK line.
//
// Then one tab-separated RESULT line per configuration: samples/s over a full epoch,
// samples/s of the best of 8 slices of 50 steps (the machine is shared), samples per
// CPU-second, GFLOP/s of the best slice, that as % of PEAK, GFLOP/s of the epoch, and that
// as % of PEAK. Training FLOP per sample count only the dense layers' GEMMs (the rest of the
// step is O(batch · width), not counted): forward 2·in·out per layer, backward 2·in·out for
// the weight gradient plus 2·in·out for the input gradient, which the first layer does not
// compute. So 784-300-100-10 is 4·784·300 + 6·(300·100 + 100·10) = 1,126,800 FLOP per sample.
// Environment: ZOONET_BENCH_THREADS (2), ZOONET_BENCH_SAMPLES (60000), ZOONET_BENCH_ONLY (a
// filter), ZOONET_BENCH_PEAK=0 skips the GEMM probe (% of peak then printed as 0).
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation
import ZooNet
import COpenBLAS

enum Benchmark {
    /// User + system CPU time of the process (all threads).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }

    static func environment(_ name: String) -> Int? {
        getenv(name).flatMap { Int(String(cString: $0)) }
    }

    struct Config: Sendable, CustomStringConvertible {
        let name: String, batch: Int, deep: Bool
        var description: String { "\(name) batch \(batch)" }
    }

    /// OpenBLAS's rate for one product on its own threads (as numpy would call it).
    static func openBLASGflops(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, threads: Int,
                               repeats: Int, trials: Int) -> Double {
        openblas_set_num_threads(Int32(threads))
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<(m * k) { a[i] = Float(i % 7) * 0.125 - 0.375 }
        for i in 0..<(k * n) { b[i] = Float(i % 5) * 0.25 - 0.5 }
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let run = {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, &c, Int32(n))
        }
        run()
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<trials {
            let elapsed = clock.measure { for _ in 0..<repeats { run() } }
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return 2 * Double(m) * Double(n) * Double(k) * Double(repeats) / best / 1e9
    }

    /// SGEMM rates of the backend (the team's bands, oneDNN's own threading) and of OpenBLAS;
    /// returns the backend's best rate (its measured peak).
    static func gemmPeak() -> Double {
        let threads = environment("ZOONET_BENCH_THREADS") ?? 2
        ComputeThreads.set(threads)
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        print("KERNELS\tzoonet\t\(ComputeBackend.summary)\tOpenBLAS \(core) (Debian, comparison only)"
              + "\tCPU AVX2: \(ComputeBackend.cpuHasAVX2 ? "yes" : "no")")
        var shapes: [(String, Int, Int, Int, Bool, Bool)] = [("1024x1024 . 1024x1024", 1024, 1024, 1024, false, false)]
        let widths = [784, 300, 100, 10], batch = 256
        for (i, o) in zip(widths, widths.dropFirst()) {
            shapes.append(("forward  [\(batch)x\(i)].[\(i)x\(o)]", batch, o, i, false, false))
            shapes.append(("dW       [\(batch)x\(i)]T.[\(batch)x\(o)]", i, o, batch, true, false))
            if i != 784 { shapes.append(("dX       [\(batch)x\(o)].[\(i)x\(o)]T", batch, i, o, false, true)) }
        }
        var peak = 0.0, openBLASPeak = 0.0
        print("GEMM\tshape\tteam bands (oneDNN) GFLOP/s\toneDNN threads GFLOP/s\tOpenBLAS threads GFLOP/s")
        for (name, m, n, k, ta, tb) in shapes {
            let flop = 2.0 * Double(m * n * k), repeats = max(1, Int(2e8 / flop))
            let rates = GEMMProbe.Threading.allCases.map { threading in
                GEMMProbe.gflops(m: m, n: n, k: k, transposeA: ta, transposeB: tb, threading: threading,
                                 repeats: repeats, trials: 7)
            }
            let openBLAS = openBLASGflops(m: m, n: n, k: k, transposeA: ta, transposeB: tb, threads: threads,
                                          repeats: repeats, trials: 7)
            peak = max(peak, rates.max() ?? 0)
            openBLASPeak = max(openBLASPeak, openBLAS)
            print("GEMM\t\(name)\t" + (rates + [openBLAS]).map { String(format: "%.1f", $0) }.joined(separator: "\t"))
        }
        openblas_set_num_threads(1)
        print("PEAK\tsgemm\t\(String(format: "%.1f", peak)) GFLOP/s (oneDNN)")
        print("OPENBLAS_PEAK\tsgemm\t\(String(format: "%.1f", openBLASPeak)) GFLOP/s")
        return peak
    }

    static func run(_ config: Config, peak: Double) throws {
        if let only = getenv("ZOONET_BENCH_ONLY").map({ String(cString: $0) }), !config.description.contains(only) { return }
        ComputeThreads.set(environment("ZOONET_BENCH_THREADS") ?? 2)
        let n = environment("ZOONET_BENCH_SAMPLES") ?? 60000
        var rng = SplitMix64(seed: 1)
        let x = try Tensor(shape: [n, 784], scalars: (0..<(n * 784)).map { _ in rng.nextUnitFloat() })
        let y = (0..<n).map { _ in Int(rng.next() % 10) }
        let data = try Dataset(inputs: x, labels: .classes(y))
        let layers: [any Layer]
        if config.deep {
            layers = (1...5).map { Dense(outputCount: 100, activation: .elu(alpha: 1), kernelInitializer: .heNormal, name: "hidden\($0)") }
                + [Dense(outputCount: 10, name: "outputs")]
        } else {
            layers = [
                Dense(outputCount: 300, name: "hidden1"), BatchNorm(momentum: 0.9, name: "bn1"), ActivationLayer(.elu(alpha: 1)),
                Dense(outputCount: 100, name: "hidden2"), BatchNorm(momentum: 0.9, name: "bn2"), ActivationLayer(.elu(alpha: 1)),
                Dense(outputCount: 10, name: "outputs"),
            ]
        }
        let net = try Sequential(inputShape: [784], layers: layers, seed: 1)
        let optimizer = try Adam(learningRate: 0.001)
        // Warm-up epoch on a slice, then one timed epoch.
        let warm = try Dataset(inputs: Tensor(shape: [config.batch * 20, 784], scalars: Array(x.scalars[0..<(config.batch * 20 * 784)])),
                               labels: .classes(Array(y[0..<(config.batch * 20)])))
        try net.fit(warm, loss: .softmaxCrossEntropy, optimizer: optimizer, epochs: 1, batchSize: config.batch)
        // Full epoch (what the peers report), then the best of 8 slices of 50 steps: the
        // machine is shared, so the best slice estimates uncontended throughput.
        let clock = ContinuousClock()
        let cpuStart = cpuSeconds()
        let elapsed = try clock.measure {
            try net.fit(data, loss: .softmaxCrossEntropy, optimizer: optimizer, epochs: 1, batchSize: config.batch)
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let cpu = cpuSeconds() - cpuStart
        let sliceCount = config.batch * 50
        let slice = try Dataset(inputs: Tensor(shape: [sliceCount, 784], scalars: Array(x.scalars[0..<(sliceCount * 784)])),
                                labels: .classes(Array(y[0..<sliceCount])))
        var best = Double.infinity
        for _ in 0..<8 {
            let t = try clock.measure {
                try net.fit(slice, loss: .softmaxCrossEntropy, optimizer: optimizer, epochs: 1, batchSize: config.batch)
            }
            best = min(best, Double(t.components.seconds) + Double(t.components.attoseconds) * 1e-18)
        }
        // Training FLOPs per sample: forward 2·in·out per dense layer, backward 4·in·out
        // (weights and inputs; the first layer needs no input gradient: 2·in·out).
        let widths = config.deep ? [784, 100, 100, 100, 100, 100, 10] : [784, 300, 100, 10]
        var flops = 0.0
        for (index, pair) in zip(widths, widths.dropFirst()).enumerated() {
            flops += Double(pair.0 * pair.1) * (index == 0 ? 4 : 6)
        }
        let epochRate = Double(n) / seconds, sliceRate = Double(sliceCount) / best
        let sliceGflops = sliceRate * flops / 1e9, epochGflops = epochRate * flops / 1e9
        let percent = { (g: Double) in String(format: "%.0f", peak > 0 ? 100 * g / peak : 0) }
        print("RESULT\tzoonet\t\(config)\t\(Int(epochRate))\t\(Int(sliceRate))\t\(Int(Double(n) / cpu))"
              + "\t\(String(format: "%.1f", sliceGflops))\t\(percent(sliceGflops))"
              + "\t\(String(format: "%.1f", epochGflops))\t\(percent(epochGflops))")
        print("  \(config): epoch \(Int(epochRate)) samples/s = \(String(format: "%.1f", epochGflops)) GFLOP/s"
              + " (\(percent(epochGflops)) % of peak); best slice \(Int(sliceRate)) samples/s = "
              + "\(String(format: "%.1f", sliceGflops)) GFLOP/s (\(percent(sliceGflops)) % of peak)")
    }
}

let peak = Benchmark.environment("ZOONET_BENCH_PEAK") == 0 ? 0 : Benchmark.gemmPeak()
for config in [
    Benchmark.Config(name: "784-300-100-10 BN+ELU Adam", batch: 64, deep: false),
    Benchmark.Config(name: "784-300-100-10 BN+ELU Adam", batch: 256, deep: false),
    Benchmark.Config(name: "5x100 He ELU Adam", batch: 64, deep: true),
] {
    try Benchmark.run(config, peak: peak)
}
