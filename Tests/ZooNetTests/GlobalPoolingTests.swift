import Testing
@testable import ZooNet

/// Global average pooling against sums in double, at batch 1 (each sample's positions split
/// between threads, the partial sums added afterwards), batch 2 and batch 5 (whole samples per
/// thread), on maps large enough to be split.
@Suite struct GlobalPoolingTests {
    @Test(arguments: [1, 2, 5]) func averagesMatchDoubleSums(_ batch: Int) throws {
        let (h, w, c) = (37, 41, 24)
        let layer = GlobalAveragePooling2D()
        #expect(try layer.build(inputShape: [h, w, c], seed: 0) == [c])
        let positions = h * w
        #expect(positions * c > 2 * WorkerPool.elementGrain)
        let x = (0..<(batch * positions * c)).map { Float(($0 * 7919) % 1009) / 97 - 5 }
        var y = [Float](repeating: .nan, count: batch * c)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { layer.forward(xs.baseAddress!, into: $0.baseAddress!, batch: batch, training: false) }
        }
        for b in 0..<batch {
            for k in 0..<c {
                var sum = 0.0
                for p in 0..<positions { sum += Double(x[(b * positions + p) * c + k]) }
                let want = sum / Double(positions)
                #expect(abs(Double(y[b * c + k]) - want) <= 1e-5 * max(1, abs(want)), "sample \(b), channel \(k)")
            }
        }
    }
}
