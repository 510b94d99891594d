import COpenBLAS

/// The one place ZooNet calls BLAS. Swap this file to use Accelerate.
///
/// Computes `C = alpha * op(A) * op(B) + beta * C` with row-major storage, where
/// `op(A)` is `[m, k]` (stored `[k, m]` if `transposeA`), `op(B)` is `[k, n]`
/// (stored `[n, k]` if `transposeB`), `C` is `[m, n]`. Leading dimensions are
/// the row strides of the matrices as stored.
@inline(__always)
func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
        transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// BLAS threading control.
public enum BLASThreads {
    /// Sets the number of BLAS worker threads (OpenBLAS `openblas_set_num_threads`).
    /// Values below 1 are ignored.
    public static func set(_ count: Int) {
        guard count >= 1 else { return }
        openblas_set_num_threads(Int32(count))
    }
}

/// Measures single-precision GEMM throughput through the same `gemm` wrapper the layers use
/// (for benchmarks: the machine's SGEMM peak, and the rate of the layers' own shapes).
///
/// One call of `C[m, n] = op(A)·op(B)` with inner dimension k counts `2·m·n·k` floating-point
/// operations (k multiplies and k adds per output element). Operands are filled with small
/// deterministic values; `repeats` calls are timed per trial and the best of `trials` is
/// returned, in GFLOP/s (the machine may be shared: the best trial estimates the
/// uncontended rate).
public enum GEMMProbe {
    public static func gflops(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                              repeats: Int = 10, trials: Int = 5) -> Double {
        precondition(m > 0 && n > 0 && k > 0 && repeats > 0 && trials > 0)
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        for i in 0..<(m * k) { a.pointer[i] = Float(i % 7) * 0.125 - 0.375 }
        for i in 0..<(k * n) { b.pointer[i] = Float(i % 5) * 0.25 - 0.5 }
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let run = {
            gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                 a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, c: c.pointer, ldc: n)
        }
        run()  // warm-up (thread start, page faults)
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<trials {
            let elapsed = clock.measure { for _ in 0..<repeats { run() } }
            best = Swift.min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return 2 * Double(m) * Double(n) * Double(k) * Double(repeats) / best / 1e9
    }
}
