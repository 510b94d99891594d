import Testing
@testable import ZooNet

/// oneDNN's max pooling against plain loops (forward values and the routed gradient), for the
/// paddings of both conventions.
@Suite struct PoolingTests {
    @Test(arguments: [(Padding.valid, false), (.same, false), (.valid, true), (.symmetric(1), false), (.symmetric(1), true)])
    func maxPoolingMatchesLoops(_ padding: Padding, _ ceilMode: Bool) throws {
        let (h, w, c, batch) = (8, 7, 3, 2)
        let layer = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), padding: padding, ceilMode: ceilMode)
        let net = try Sequential(inputShape: [h, w, c], layers: [layer])
        let g = try WindowGeometry(inputShape: [h, w, c], kernel: (3, 3), strides: (2, 2), padding: padding, ceilMode: ceilMode,
                                   layer: "pool")
        let x = try tensor([batch, h, w, c], seed: 21)
        let y = try net.predict(x)
        var expected = [Float](), routed = [Float](repeating: 0, count: x.count)
        for b in 0..<batch {
            for p in 0..<g.outputHeight {
                for q in 0..<g.outputWidth {
                    for k in 0..<c {
                        var best = -Float.infinity, arg = -1
                        for i in 0..<3 {
                            for j in 0..<3 {
                                let r = p * 2 - g.padTop + i, s = q * 2 - g.padLeft + j
                                guard r >= 0, r < h, s >= 0, s < w else { continue }
                                let index = ((b * h + r) * w + s) * c + k
                                if x.scalars[index] > best { best = x.scalars[index]; arg = index }
                            }
                        }
                        expected.append(best)
                        routed[arg] += 1
                    }
                }
            }
        }
        #expect(y.scalars == expected)
        // dLoss/dy = 1 everywhere (loss = Σy via MSE against y − ½): each input gets the count of windows it wins.
        let targets = try Tensor(shape: y.shape, scalars: y.scalars.map { $0 - Float(y.count) / 2 })
        let (_, dx) = try net.lossAndGradients(Dataset(inputs: x, labels: .values(targets)), loss: .meanSquaredError)
        let scale = dx.first { $0 != 0 }.map { $0 / (routed[dx.firstIndex { $0 != 0 }!]) } ?? 1
        #expect(zip(dx, routed).allSatisfy { abs($0 - $1 * scale) <= 1e-5 * max(1, abs($0)) })
    }
}
