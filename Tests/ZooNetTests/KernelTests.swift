import CZooKernels
import Foundation
import Testing
@testable import ZooNet

/// The C element-wise kernels: the AVX2 and portable paths agree bit for bit, and both match
/// the formulas (ELU against Foundation's `expm1`, sigmoid and swish against `exp` in double,
/// Adam against the Keras update).
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

    /// Sigmoid, swish and swish's derivative: both paths bit for bit (in place too), within
    /// 2e-6 (relative, or absolute near 0) of the formulas in double, saturating without
    /// overflow at ±100, a NaN kept.
    @Test(arguments: [1, 7, 8, 300, 1001]) func sigmoidAndSwishPathsAgreeAndMatchFormulas(_ n: Int) {
        var x = Self.inputs(n)
        if n > 8 { x[3] = 100; x[5] = .nan; x[6] = 17; x[7] = -30 }
        let dy = x.map { $0.isNaN ? 1 : $0 * 0.5 + 0.25 }
        let (vector, portable) = bothPaths { () -> [[Float]] in
            var sigmoid = [Float](repeating: 0, count: n), swish = sigmoid, slope = sigmoid, inPlace = x
            zoo_sigmoid(&sigmoid, x, n)
            zoo_swish(&swish, x, n)
            zoo_swish_backward(&slope, dy, x, n)
            zoo_swish(&inPlace, inPlace, n)
            return [sigmoid, swish, slope, inPlace]
        }
        // Bit for bit, every NaN counted as one (its sign bit differs between the paths).
        func bits(_ values: [Float]) -> [UInt32] { values.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern } }
        #expect(vector.map(bits) == portable.map(bits))
        #expect(bits(vector[3]) == bits(vector[1]))
        for i in 0..<n {
            let v = Double(x[i])
            guard !v.isNaN else {
                #expect(vector[0][i].isNaN && vector[1][i].isNaN && vector[2][i].isNaN)
                continue
            }
            let s = 1 / (1 + exp(-v))
            let want = [s, v * s, Double(dy[i]) * s * (1 + v * (1 - s))]
            for (k, expected) in want.enumerated() {
                let got = Double(vector[k][i])
                #expect(got.isFinite && abs(got - expected) <= 2e-6 * max(1, abs(expected)), "kernel \(k) at x = \(v): \(got) vs \(expected)")
            }
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

    /// The batch-norm kernels over 3 rows with a row stride of n + 2 (the gaps stay as they
    /// were) and the bias-gradient row kernel against their formulas (sums added down each
    /// column in row order), both paths. n = 40 and 150 take the 4-vector strips of the sums,
    /// their single vectors and a scalar tail.
    @Test(arguments: [1, 8, 13, 40, 150]) func rowKernelsPathsAgreeAndMatchFormulas(_ n: Int) {
        let rows = 3, ld = n + 2, size = (rows - 1) * ld + n
        let x = Self.inputs(size), g = x.map { $0 * 0.25 - 0.5 }, p = Self.inputs(n + 3).suffix(n).map { $0 }
        let q = p.map { $0 * -0.5 + 1 }, r = p.map { $0 * 0.125 }, gap: Float = 7
        let (vector, portable) = bothPaths { () -> [[Float]] in
            var sum = r, sq = q, y = [Float](repeating: gap, count: size), sg = q, sgx = r, dx = y, total = p
            zoo_moments_rows(x, ld, rows, p, &sum, &sq, n)
            zoo_scale_shift_rows(x, &y, ld, rows, p, q, n)
            zoo_gradient_sums_rows(g, x, ld, rows, p, &sg, &sgx, n)
            zoo_bn_input_gradient_rows(g, x, &dx, ld, rows, p, q, r, n)
            zoo_add_row(&total, g, n)
            return [sum, sq, y, sg, sgx, dx, total]
        }
        #expect(vector == portable)
        for j in 0..<n {
            var sum = r[j], sq = q[j], sg = q[j], sgx = r[j]
            for row in 0..<rows {
                let i = row * ld + j, d = x[i] - p[j]
                sum = sum + d
                sq = sq + d * d
                sg = sg + g[i]
                sgx = sgx + g[i] * (x[i] - p[j])
                #expect(vector[2][i] == x[i] * p[j] + q[j])
                #expect(vector[5][i] == p[j] * g[i] + x[i] * q[j] + r[j])
            }
            #expect(vector[0][j] == sum && vector[1][j] == sq)
            #expect(vector[3][j] == sg && vector[4][j] == sgx)
            #expect(vector[6][j] == p[j] + g[j])
        }
        for row in 0..<(rows - 1) { for i in (row * ld + n)..<((row + 1) * ld) { #expect(vector[2][i] == gap && vector[5][i] == gap) } }
    }

    /// The clamp kernels fused into batch norm (ReLU: [0, ∞), ReLU6: [0, 6]) over 2 rows of 37
    /// features (a strip, a vector, a tail) with a row stride of 40, against their formulas,
    /// both paths: the forward clamp (a NaN passes through), the mask recomputed from x in the
    /// backward sums and input gradient (the same as the forward output's lo < y < hi, also for
    /// the NaN), and the mask applied to g in place from y.
    @Test(arguments: [(Float(0), Float.infinity), (0, 6)]) func clampKernelsPathsAgreeAndMatchFormulas(_ lo: Float, _ hi: Float) {
        let n = 37, rows = 2, ld = 40, size = ld + n
        var x = Self.inputs(size)
        x[5] = .nan
        let a = (0..<n).map { Float(1.5) + Float($0 % 3) }, d = (0..<n).map { Float(0.25) - Float($0 % 2) }
        let mu = Self.inputs(n + 2).suffix(n).map { $0 }, e = mu.map { $0 * 0.5 }, f = mu.map { 1 - $0 }
        let g0 = x.map { $0 * 0.5 - 1 }, gap: Float = 7
        let (vector, portable) = bothPaths { () -> [[Float]] in
            var y = [Float](repeating: 0, count: size), masked = g0, sg = mu, sgx = mu, dx = [Float](repeating: gap, count: size)
            zoo_scale_shift_clamp_rows(x, &y, ld, rows, a, d, lo, hi, n)
            zoo_clamped_gradient_sums_rows(g0, x, ld, rows, a, d, lo, hi, mu, &sg, &sgx, n)
            zoo_bn_clamped_input_gradient_rows(g0, x, &dx, ld, rows, a, d, lo, hi, e, f, n)
            zoo_clamp_gradient_rows(&masked, y, lo, hi, ld, rows, n)
            return [y, dx, sg, sgx, masked]
        }
        #expect(vector.map { $0.map(\.bitPattern) } == portable.map { $0.map(\.bitPattern) })
        #expect(vector[0][5].isNaN && vector[4][5] == 0)
        for j in 0..<n {
            var sg = mu[j], sgx = mu[j]
            for row in 0..<rows {
                let i = row * ld + j
                let y = vector[0][i], kept = y > lo && y < hi ? g0[i] : 0
                #expect(vector[4][i] == kept)
                sg = sg + kept
                sgx = sgx + kept * (x[i] - mu[j])
                guard i != 5 else { continue }
                #expect(y == Swift.min(Swift.max(x[i] * a[j] + d[j], lo), hi))
                #expect(vector[1][i] == (a[j] * kept + x[i] * e[j]) + f[j])
            }
            if j != 5 { #expect(vector[2][j] == sg && vector[3][j] == sgx) }
        }
        for i in n..<ld { #expect(vector[4][i] == g0[i] && vector[1][i] == gap) }
    }
}
