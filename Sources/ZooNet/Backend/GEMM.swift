import CDNNL

/// The one place ZooNet multiplies matrices: oneDNN's `dnnl_sgemm`.
///
/// Computes `C = alpha * op(A) * op(B) + beta * C` with row-major storage, where
/// `op(A)` is `[m, k]` (stored `[k, m]` if `transposeA`), `op(B)` is `[k, n]`
/// (stored `[n, k]` if `transposeB`), `C` is `[m, n]`. Leading dimensions are
/// the row strides of the matrices as stored. Called inside a compute region's part it runs
/// single-threaded on that part's thread (oneDNN sees the active OpenMP region); called
/// outside one it uses the whole team. A failing status (only possible for invalid
/// arguments, which the layers' shape checks rule out) is recorded and thrown by the network
/// when the pass ends.
@inline(__always)
func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    let status = dnnl_sgemm(
        transposeA ? 84 : 78, transposeB ? 84 : 78,  // "T" / "N"
        dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k), alpha, a, dnnl_dim_t(lda), b, dnnl_dim_t(ldb), beta, c,
        dnnl_dim_t(ldc))
    OneDNN.record(status, "sgemm m=\(m) n=\(n) k=\(k) lda=\(lda) ldb=\(ldb) ldc=\(ldc)")
}

/// Rows `rows` of `C = alpha·op(A)·op(B) + beta·C` (a horizontal band: the matching rows of
/// op(A), all of op(B)).
@inline(__always)
func gemmRows(
    _ rows: Range<Int>, transposeA: Bool, transposeB: Bool, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    gemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
         a: transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda: lda, b: b, ldb: ldb,
         beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
}

/// Columns `columns` of `C = alpha·op(A)·op(B) + beta·C` (a vertical band: all of op(A), the
/// matching columns of op(B)).
@inline(__always)
func gemmColumns(
    _ columns: Range<Int>, transposeA: Bool, transposeB: Bool, m: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: columns.count, k: k, alpha: alpha,
         a: a, lda: lda, b: transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound, ldb: ldb,
         beta: beta, c: c + columns.lowerBound, ldc: ldc)
}

/// Work per part below which a product is not split (FLOP): a hand-off costs a few µs.
let minimumFLOPPerPart = 1 << 19

/// `gemm` split across the compute team: bands of the larger of m and n (multiples of 16),
/// one single-threaded sgemm per part. Small products run on the caller.
func parallelGEMM(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
    pool: WorkerPool = .shared
) {
    let parts = pool.parts(work: 2 * m * n * k, grain: minimumFLOPPerPart, most: (Swift.max(m, n) + 15) / 16)
    pool.parallel(parts, GEMMBands(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, parts: parts))
}

/// One product cut into bands of rows (m ≥ n) or columns, a band per part.
private struct GEMMBands: ParallelJob {
    let transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float
    let a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int
    let beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    let parts: Int

    func run(_ part: Int) {
        if m >= n {
            gemmRows(partRange(part, of: parts, count: m), transposeA: transposeA, transposeB: transposeB, n: n, k: k,
                     alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        } else {
            gemmColumns(partRange(part, of: parts, count: n), transposeA: transposeA, transposeB: transposeB, m: m, k: k,
                        alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }
}

/// Former name of `ComputeThreads`.
@available(*, deprecated, renamed: "ComputeThreads")
public typealias BLASThreads = ComputeThreads

/// Measures single-precision GEMM throughput (for benchmarks: the backend's SGEMM peak, and
/// the rate of the layers' own shapes).
///
/// One call of `C[m, n] = op(A)·op(B)` with inner dimension k counts `2·m·n·k` floating-point
/// operations (k multiplies and k adds per output element). Operands are filled with small
/// deterministic values; `repeats` calls are timed per trial and the best of `trials` is
/// returned, in GFLOP/s (the machine may be shared: the best trial estimates the
/// uncontended rate).
public enum GEMMProbe {
    /// How the product is spread over `ComputeThreads.count` threads.
    public enum Threading: String, Sendable, CaseIterable {
        /// ZooNet's way in its layers: the team cuts C into bands, one single-threaded sgemm each.
        case pool
        /// One `dnnl_sgemm` call threaded by oneDNN itself over the same team.
        case oneDNN
    }

    /// Measures the single-precision product C = op(A)·op(B) of an `m × k` and a `k × n`
    /// matrix: the best of `trials` timings of `repeats` products, in GFLOP/s (2·m·n·k per product).
    /// - Parameters:
    ///   - m: rows of C.
    ///   - n: columns of C.
    ///   - k: the inner dimension.
    ///   - transposeA: use Aᵀ.
    ///   - transposeB: use Bᵀ.
    ///   - threading: how the product is spread over the threads.
    ///   - repeats: products per timing.
    ///   - trials: timings; the best is kept.
    public static func gflops(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                              threading: Threading = .pool, repeats: Int = 10, trials: Int = 5) -> Double {
        precondition(m > 0 && n > 0 && k > 0 && repeats > 0 && trials > 0)
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        for i in 0..<(m * k) { a.pointer[i] = Float(i % 7) * 0.125 - 0.375 }
        for i in 0..<(k * n) { b.pointer[i] = Float(i % 5) * 0.25 - 0.5 }
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let pool = WorkerPool.shared
        pool.prepareCallingThread()
        let run = {
            switch threading {
            case .pool:
                parallelGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                             a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, c: c.pointer, ldc: n, pool: pool)
            case .oneDNN:
                gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, c: c.pointer, ldc: n)
            }
        }
        run()  // warm-up (thread start, JIT, page faults)
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<trials {
            let elapsed = clock.measure { for _ in 0..<repeats { run() } }
            best = Swift.min(best, elapsed.inSeconds)
        }
        return 2 * Double(m) * Double(n) * Double(k) * Double(repeats) / best / 1e9
    }
}
