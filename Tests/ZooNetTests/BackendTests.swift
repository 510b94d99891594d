import Testing
@testable import ZooNet

/// The compute backend runs the kernels the CPU deserves, and its failures are typed errors.
@Suite struct BackendTests {
    /// oneDNN picks its kernels from the CPU's feature flags: on a CPU with AVX2 it must run at
    /// least its AVX2 kernels, never a generic or SSE fallback (the failure mode of a BLAS that
    /// chooses by CPU model and does not know a new one).
    @Test func kernelsMatchTheCPU() {
        if ComputeBackend.cpuHasAVX2 {
            #expect(ComputeBackend.instructionSet >= .avx2, "oneDNN runs \(ComputeBackend.instructionSet) kernels on an AVX2 CPU")
        } else {
            #expect(ComputeBackend.instructionSet >= .generic)
        }
        #expect(ComputeBackend.version.hasPrefix("2."))
        #expect(ComputeBackend.summary.contains("oneDNN"))
    }

    /// A call oneDNN refuses (here a leading dimension smaller than the row) is recorded where
    /// it cannot throw and thrown as `ZooNetError.backend`, naming the operation and its shapes.
    @Test func refusedCallBecomesTypedError() throws {
        let a = [Float](repeating: 1, count: 16), b = [Float](repeating: 1, count: 16)
        var c = [Float](repeating: 0, count: 16)
        gemm(transposeA: false, transposeB: false, m: 4, n: 4, k: 4, a: a, lda: 1, b: b, ldb: 4, c: &c, ldc: 4)
        #expect {
            try OneDNN.throwRecordedFailure()
        } throws: { error in
            guard case let .backend(operation, status) = error as? ZooNetError else { return false }
            return operation == "sgemm m=4 n=4 k=4 lda=1 ldb=4 ldc=4" && status == "invalid arguments"
        }
        try OneDNN.throwRecordedFailure()  // cleared once thrown
    }

    /// dnnl_sgemm against a plain triple loop, in every transpose combination.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sgemmMatchesLoops(_ ta: Bool, _ tb: Bool) {
        let m = 5, n = 7, k = 3
        var rng = SplitMix64(seed: 3)
        let a = (0..<(m * k)).map { _ in rng.nextUnitFloat() - 0.5 }, b = (0..<(k * n)).map { _ in rng.nextUnitFloat() - 0.5 }
        var c = [Float](repeating: 0.25, count: m * n)
        let lda = ta ? m : k, ldb = tb ? k : n
        gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 2, a: a, lda: lda, b: b, ldb: ldb, beta: 0.5, c: &c, ldc: n)
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k { sum += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]) }
                #expect(abs(c[i * n + j] - (2 * sum + 0.125)) <= 1e-5)
            }
        }
    }
}
