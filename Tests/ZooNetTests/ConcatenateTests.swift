import Testing
@testable import ZooNet

/// `Concatenate` on maps large enough to be split between threads: every output value is the
/// input value the axis places there, and backward hands each input exactly its slice of dy
/// (an input without a gradient buffer is skipped), for the channel axis and an inner one.
@Suite struct ConcatenateTests {
    /// (axis, per-sample input shapes): SqueezeNet's channel concatenation at a small map, three
    /// inputs of unequal depth, and a concatenation along the height of NHWC maps.
    static let cases: [(Int, [[Int]])] = [
        (-1, [[23, 19, 16], [23, 19, 48]]),
        (-1, [[9, 11, 3], [9, 11, 40], [9, 11, 7]]),
        (1, [[5, 17, 24], [12, 17, 24]]),
    ]

    @Test(arguments: cases.indices) func gathersAndScattersAcrossThreads(_ index: Int) throws {
        let (axis, shapes) = Self.cases[index]
        let batch = 3
        let layer = Concatenate(axis: axis)
        let outputShape = try layer.build(inputShapes: shapes, seed: 0)
        let rank = shapes[0].count, d = axis < 0 ? rank + axis : axis - 1
        #expect(outputShape[d] == shapes.reduce(0) { $0 + $1[d] })

        // Input k's value at flat index i is 1000·k + i (unique, exact in float).
        let counts = shapes.map { batch * $0.reduce(1, *) }
        let inputs = counts.enumerated().map { k, n in (0..<n).map { Float(1000 * k + $0) } }
        let total = batch * outputShape.reduce(1, *)
        #expect(total > WorkerPool.elementGrain)  // large enough for the pool to split
        let outer = batch * shapes[0][..<d].reduce(1, *)
        let spans = shapes.map { $0[d...].reduce(1, *) }
        let width = spans.reduce(0, +)
        var expected = [Float](repeating: 0, count: total)
        for b in 0..<outer {
            var offset = b * width
            for (k, span) in spans.enumerated() {
                for j in 0..<span { expected[offset + j] = inputs[k][b * span + j] }
                offset += span
            }
        }

        let sources = inputs.map { values in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
            buffer.initialize(from: values, count: values.count)
            return buffer
        }
        // Backward leaves input 1 without a gradient buffer.
        let targets = counts.indices.map { k in k == 1 ? nil : UnsafeMutablePointer<Float>.allocate(capacity: counts[k]) }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: total)
        defer {
            sources.forEach { $0.deallocate() }
            targets.forEach { $0?.deallocate() }
            y.deallocate()
        }
        y.initialize(repeating: .nan, count: total)
        sources.map { UnsafePointer($0) }.withUnsafeBufferPointer { list in
            layer.forward(list, into: y, batch: batch, training: false)
        }
        #expect(Array(UnsafeBufferPointer(start: y, count: total)) == expected)

        // dy = the output's own values: each input's gradient must be that input.
        sources.map { UnsafePointer($0) }.withUnsafeBufferPointer { list in
            targets.withUnsafeBufferPointer { gradients in
                layer.backward(inputs: list, output: y, outputGradient: y, inputGradients: gradients, batch: batch)
            }
        }
        for (k, target) in targets.enumerated() {
            guard let target else { continue }
            #expect(Array(UnsafeBufferPointer(start: target, count: counts[k])) == inputs[k], "input \(k)")
        }
    }
}
