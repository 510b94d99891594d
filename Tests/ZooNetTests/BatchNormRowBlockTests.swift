import Testing
@testable import ZooNet

/// `BatchNorm` on few features and many rows runs over row blocks (partial sums added in block
/// order): training forward and backward, fused with ReLU6, match a double-precision reference
/// of the formulas, and one thread gives the bits of two.
@Suite(.serialized) struct BatchNormRowBlockTests {
    static let rows = 4096, features = 24

    /// y, dx, dγ, dβ and the moving mean after one training pass of `BN → relu6` on fixed data.
    static func run(threads: Int) throws -> (y: [Float], dx: [Float], dGamma: [Float], dBeta: [Float], movingMean: [Float]) {
        let saved = ComputeThreads.count
        ComputeThreads.set(threads)
        defer { ComputeThreads.set(saved) }
        let (n, c) = (rows, features)
        let bn = BatchNorm(momentum: 0.9, name: "bn")
        _ = try bn.build(inputShape: [c], seed: 1)
        #expect(bn.rowBlocks(rows: n, features: c) != nil, "the shape must take the row-block path")
        try bn.gamma!.assign(randomValues(c, seed: 2, scale: 0.5).map { $0 + 1 })
        try bn.beta!.assign(randomValues(c, seed: 3, scale: 2))
        let x = randomValues(n * c, seed: 4, scale: 3).enumerated().map { $0.element + Float($0.offset % c) }  // per-feature offsets
        var y = [Float](repeating: 0, count: n * c), dy = randomValues(n * c, seed: 5), dx = y
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { bn.forward(xp.baseAddress!, into: $0.baseAddress!, batch: n, training: true, activation: .relu6) }
            y.withUnsafeBufferPointer { yp in
                dy.withUnsafeMutableBufferPointer { dyp in
                    dx.withUnsafeMutableBufferPointer {
                        bn.backward(input: xp.baseAddress!, activationOutput: yp.baseAddress!, outputGradient: dyp.baseAddress!,
                                    activation: .relu6, inputGradient: $0.baseAddress!, batch: n)
                    }
                }
            }
        }
        return (y, dx, bn.gamma!.gradient.array(count: c), bn.beta!.gradient.array(count: c), bn.movingMean!.values)
    }

    @Test func matchesTheFormulasInDoublePrecision() throws {
        let (n, c) = (Self.rows, Self.features)
        let got = try Self.run(threads: 2)
        let x = randomValues(n * c, seed: 4, scale: 3).enumerated().map { Double($0.element + Float($0.offset % c)) }
        let gamma = randomValues(c, seed: 2, scale: 0.5).map { Double($0 + 1) }, beta = randomValues(c, seed: 3, scale: 2).map(Double.init)
        let dy = randomValues(n * c, seed: 5).map(Double.init)
        var worst = (y: 0.0, dx: 0.0, dGamma: 0.0, dBeta: 0.0, mean: 0.0)
        for j in 0..<c {
            let column = (0..<n).map { x[$0 * c + j] }
            let mu = column.reduce(0, +) / Double(n)
            let variance = column.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(n)
            let sigma = (variance + 1e-3).squareRoot()
            let xhat = column.map { ($0 - mu) / sigma }
            let pre = xhat.map { gamma[j] * $0 + beta[j] }
            let g = (0..<n).map { pre[$0] > 0 && pre[$0] < 6 ? dy[$0 * c + j] : 0 }
            let dBeta = g.reduce(0, +), dGamma = zip(g, xhat).map(*).reduce(0, +)
            for r in 0..<n {
                let y = min(max(pre[r], 0), 6)
                let dx = gamma[j] / (Double(n) * sigma) * (Double(n) * g[r] - dBeta - xhat[r] * dGamma)
                worst.y = max(worst.y, abs(Double(got.y[r * c + j]) - y))
                worst.dx = max(worst.dx, abs(Double(got.dx[r * c + j]) - dx))
            }
            worst.dGamma = max(worst.dGamma, abs(Double(got.dGamma[j]) - dGamma) / (1 + abs(dGamma)))
            worst.dBeta = max(worst.dBeta, abs(Double(got.dBeta[j]) - dBeta) / (1 + abs(dBeta)))
            worst.mean = max(worst.mean, abs(Double(got.movingMean[j]) - 0.1 * mu))
        }
        #expect(worst.y < 1e-4 && worst.dx < 1e-5 && worst.dGamma < 1e-4 && worst.dBeta < 1e-4 && worst.mean < 1e-5, "\(worst)")
    }

    @Test func oneThreadGivesTheBitsOfTwo() throws {
        let one = try Self.run(threads: 1), two = try Self.run(threads: 2)
        #expect(one.y == two.y && one.dx == two.dx && one.dGamma == two.dGamma && one.dBeta == two.dBeta)
    }
}
