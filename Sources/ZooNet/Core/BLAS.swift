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
