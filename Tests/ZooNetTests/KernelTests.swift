import CZooKernels
import Foundation
import Testing
@testable import ZooNet

/// The C element-wise kernels: the AVX2 and portable paths agree bit for bit, and both match
/// the formulas (ELU against Foundation's `expm1`, Adam against the Keras update).
@Suite(.serialized) struct KernelTests {
    /// Inputs covering both branches, the clamp range and lengths that leave a scalar tail.
    static func inputs(_ n: Int) -> [Float] {
        var rng = SplitMix64(seed: 11)
        return (0..<n).map { i in i % 97 == 0 ? -100 : (rng.nextUnitFloat() - 0.6) * 12 }
    }

    func bothPaths<R: Equatable>(_ body: () -> R) -> (R, R) {
        let vector = body()
        zoo_kernels_force_portable(1)
        defer { zoo_kernels_force_portable(0) }
        return (vector, body())
    }

    @Test(arguments: [1, 7, 8, 300, 1001]) func eluPathsAgreeAndMatchFormula(_ n: Int) {
        let x = Self.inputs(n)
        let (vector, portable) = bothPaths { () -> [Float] in
            var y = x
            zoo_elu(&y, n, 1.0507, 1.0507 * 1.6733)
            return y
        }
        #expect(vector == portable)
        for (input, output) in zip(x, vector) {
            let expected = input > 0 ? 1.0507 * Double(input) : 1.0507 * 1.6733 * expm1(Double(input))
            #expect(abs(Double(output) - expected) <= 1e-6 * max(1, abs(expected)))
        }
        let dy = x.map { $0 * 0.5 + 0.25 }
        let (dv, dp) = bothPaths { () -> [Float] in
            var dx = [Float](repeating: 0, count: n)
            zoo_elu_backward(&dx, dy, vector, n, 1.0507, 1.0507 * 1.6733)
            return dx
        }
        #expect(dv == dp)
        for i in 0..<n {
            let slope: Float = vector[i] > 0 ? 1.0507 : vector[i] + 1.0507 * 1.6733
            #expect(dv[i] == dy[i] * slope)
        }
    }

    @Test(arguments: [1, 9, 4099]) func adamPathsAgreeAndMatchFormula(_ n: Int) {
        let g = Self.inputs(n).map { $0 * 0.01 }
        let w0 = Self.inputs(n).reversed().map { $0 }
        let m0 = g.map { $0 * 0.3 }, v0 = g.map { $0 * $0 * 2 }
        let (vector, portable) = bothPaths { () -> [[Float]] in
            var w = w0, m = m0, v = v0
            zoo_adam(&w, g, &m, &v, n, 0.001, 0.1, 0.001, 1e-7)
            return [w, m, v]
        }
        #expect(vector == portable)
        for i in 0..<n {
            let m = m0[i] + (g[i] - m0[i]) * 0.1
            let v = v0[i] + (g[i] * g[i] - v0[i]) * 0.001
            #expect(vector[1][i] == m && vector[2][i] == v)
            #expect(vector[0][i] == w0[i] - m * 0.001 / (v.squareRoot() + 1e-7))
        }
    }

    /// The batch-norm and bias-gradient row kernels against their formulas, both paths.
    @Test(arguments: [1, 8, 13, 150]) func rowKernelsPathsAgreeAndMatchFormulas(_ n: Int) {
        let x = Self.inputs(n), g = x.map { $0 * 0.25 - 0.5 }, p = Self.inputs(n + 3).suffix(n).map { $0 }
        let q = p.map { $0 * -0.5 + 1 }, r = p.map { $0 * 0.125 }
        let (vector, portable) = bothPaths { () -> [[Float]] in
            var sum = r, sq = q, y = [Float](repeating: 0, count: n), sg = q, sgx = r, dx = y, total = p
            zoo_moments_row(x, p, &sum, &sq, n)
            zoo_scale_shift_row(x, &y, p, q, n)
            zoo_gradient_sums_row(g, x, p, &sg, &sgx, n)
            zoo_bn_input_gradient_row(g, x, &dx, p, q, r, n)
            zoo_add_row(&total, g, n)
            return [sum, sq, y, sg, sgx, dx, total]
        }
        #expect(vector == portable)
        for j in 0..<n {
            let d = x[j] - p[j]
            #expect(vector[0][j] == r[j] + d && vector[1][j] == q[j] + d * d)
            #expect(vector[2][j] == x[j] * p[j] + q[j])
            #expect(vector[3][j] == q[j] + g[j] && vector[4][j] == r[j] + g[j] * (x[j] - p[j]))
            #expect(vector[5][j] == p[j] * g[j] + x[j] * q[j] + r[j])
            #expect(vector[6][j] == p[j] + g[j])
        }
    }

    /// The clamp kernels fused into batch norm (ReLU: [0, ∞), ReLU6: [0, 6]) against their
    /// formulas, both paths; a NaN passes through the forward clamp.
    @Test(arguments: [(Float(0), Float.infinity), (0, 6)]) func clampKernelsPathsAgreeAndMatchFormulas(_ lo: Float, _ hi: Float) {
        let n = 21
        var x = Self.inputs(n)
        x[5] = .nan
        let a = x.map { _ in Float(1.5) }, d = x.map { _ in Float(0.25) }, mu = Self.inputs(n + 2).suffix(n).map { $0 }
        let g0 = x.map { $0 * 0.5 - 1 }
        let (vector, portable) = bothPaths { () -> [[Float]] in
            var y = [Float](repeating: 0, count: n), g = g0, masked = g0, sg = mu, sgx = mu
            zoo_scale_shift_clamp_row(x, &y, a, d, lo, hi, n)
            zoo_clamped_gradient_sums_row(&g, y, lo, hi, x, mu, &sg, &sgx, n)
            zoo_clamp_gradient_row(&masked, y, lo, hi, n)
            return [y, g, sg, sgx, masked]
        }
        #expect(vector.map { $0.map(\.bitPattern) } == portable.map { $0.map(\.bitPattern) })
        #expect(vector[0][5].isNaN)
        for j in 0..<n where j != 5 {
            let y = Swift.min(Swift.max(x[j] * a[j] + d[j], lo), hi)
            #expect(vector[0][j] == y)
            let kept = y > lo && y < hi ? g0[j] : 0
            #expect(vector[1][j] == kept && vector[4][j] == kept)
            #expect(vector[2][j] == mu[j] + kept && vector[3][j] == mu[j] + kept * (x[j] - mu[j]))
        }
    }
}
