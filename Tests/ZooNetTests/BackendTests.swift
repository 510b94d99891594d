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

/// Regression: oneDNN 2.6's jit_1x1 weight gradient of a strided 1×1 convolution with fewer
/// than 8 input channels and no bias is wrong in most runs (reproduced in C; PyTorch 2.15,
/// which bundles oneDNN, crashed on the same case). ZooNet passes over that implementation.
@Suite struct StridedPointwiseGradientTests {
    @Test func weightGradientMatchesLoops() throws {
        let (h, c, o, n) = (8, 3, 5, 2)
        let x = Input(shape: [h, h, c])
        let conv = Conv2D(filters: o, kernelSize: (1, 1), strides: (2, 2), useBias: false, name: "conv")
        let net = try Network(inputs: [x], outputs: [conv(x)])
        let input = try tensor([n, h, h, c], seed: 3), r = try tensor([n, 4, 4, o], seed: 4)
        var want = [Float](repeating: 0, count: c * o)
        for b in 0..<n {
            for p in 0..<4 {
                for q in 0..<4 {
                    for i in 0..<c {
                        for j in 0..<o {
                            want[i * o + j] += input.scalars[((b * h + 2 * p) * h + 2 * q) * c + i] * r.scalars[((b * 4 + p) * 4 + q) * o + j]
                        }
                    }
                }
            }
        }
        for _ in 0..<20 {
            _ = try net.vectorJacobianProduct([input], outputGradient: r, training: true)
            let got = try net.variable(named: "conv/kernel").gradient.array(count: c * o)
            #expect(closeness(got, want, relative: 1e-5, absolute: 1e-5) <= 1)
        }
    }
}
