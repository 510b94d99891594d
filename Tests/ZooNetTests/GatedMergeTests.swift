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
}
