import Testing
@testable import ZooNet

/// Squeeze-and-excitation gates (`[H, W, C] ∘ [1, 1, C]`, either order, product and sum) take
/// the merge's straight per-sample loops: every output value is the whole input's value times
/// (plus) its sample's gate value, on maps large enough to be split between threads.
@Suite struct GatedMergeTests {
    @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
    func gateAppliesPerSampleAndChannel(_ gateFirst: Bool, _ sum: Bool) throws {
        let batch = 3, height = 13, width = 11, channels = 40
        let layer: ElementwiseMerge = sum ? Add() : Multiply()
        let whole = [height, width, channels], gate = [1, 1, channels]
        #expect(try layer.build(inputShapes: gateFirst ? [gate, whole] : [whole, gate], seed: 0) == whole)
        let count = batch * height * width * channels
        #expect(count > WorkerPool.elementGrain)
        let x = (0..<count).map { Float($0 % 997) * 0.25 - 60 }
        let g = (0..<(batch * channels)).map { Float($0 % 23) * 0.5 - 3 }
        var expected = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let gateValue = g[(i / (height * width * channels)) * channels + i % channels]
            expected[i] = sum ? x[i] + gateValue : x[i] * gateValue
        }
        var y = [Float](repeating: .nan, count: count)
        x.withUnsafeBufferPointer { xs in
            g.withUnsafeBufferPointer { gs in
                let list = gateFirst ? [gs.baseAddress!, xs.baseAddress!] : [xs.baseAddress!, gs.baseAddress!]
                list.withUnsafeBufferPointer { inputs in
                    y.withUnsafeMutableBufferPointer { layer.forward(inputs, into: $0.baseAddress!, batch: batch, training: false) }
                }
            }
        }
        #expect(y == expected)
    }

    /// The gradients of a gate (product: Σ over the sample's positions of dy · whole; sum: Σ dy)
    /// and of the whole map (product: dy · gate; sum: dy), against double sums; both orders.
    @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
    func gradientsSumOverPositionsPerSample(_ gateFirst: Bool, _ sum: Bool) throws {
        let batch = 3, height = 9, width = 7, channels = 40, positions = height * width
        let layer: ElementwiseMerge = sum ? Add() : Multiply()
        let whole = [height, width, channels], gate = [1, 1, channels]
        _ = try layer.build(inputShapes: gateFirst ? [gate, whole] : [whole, gate], seed: 0)
        let count = batch * positions * channels
        let x = (0..<count).map { Float($0 % 997) * 0.01 - 4 }
        let g = (0..<(batch * channels)).map { Float($0 % 23) * 0.5 - 3 }
        var dy = (0..<count).map { Float(($0 * 7) % 101) * 0.02 - 1 }
        var dx = [Float](repeating: .nan, count: count), dg = [Float](repeating: .nan, count: batch * channels)
        let y = [Float](repeating: 0, count: count)  // not read by these gradients
        x.withUnsafeBufferPointer { xs in
            g.withUnsafeBufferPointer { gs in
                let list = gateFirst ? [gs.baseAddress!, xs.baseAddress!] : [xs.baseAddress!, gs.baseAddress!]
                list.withUnsafeBufferPointer { inputs in
                    dx.withUnsafeMutableBufferPointer { dxs in
                        dg.withUnsafeMutableBufferPointer { dgs in
                            let targets: [UnsafeMutablePointer<Float>?] = gateFirst ? [dgs.baseAddress!, dxs.baseAddress!]
                                : [dxs.baseAddress!, dgs.baseAddress!]
                            targets.withUnsafeBufferPointer { t in
                                y.withUnsafeBufferPointer { ys in
                                    dy.withUnsafeMutableBufferPointer {
                                        layer.backward(inputs: inputs, output: ys.baseAddress!, outputGradient: $0.baseAddress!,
                                                       inputGradients: t, batch: batch)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<count {
            let gateValue = g[(i / (positions * channels)) * channels + i % channels]
            #expect(dx[i] == (sum ? dy[i] : dy[i] * gateValue))
        }
        for sample in 0..<batch {
            for c in 0..<channels {
                var want = 0.0
                for p in 0..<positions {
                    let i = (sample * positions + p) * channels + c
                    want += sum ? Double(dy[i]) : Double(dy[i]) * Double(x[i])
                }
                let got = Double(dg[sample * channels + c])
                #expect(abs(got - want) <= 1e-4 * max(1, abs(want)), "sample \(sample) channel \(c): \(got) vs \(want)")
            }
        }
    }
}
