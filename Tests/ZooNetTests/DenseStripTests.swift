import CZooKernels
import Foundation
import Testing
@testable import ZooNet

/// `Dense` on few rows: up to 4 (a classifier at batch 1) its forward pass streams bands of W's
/// rows into partial sums (`ForwardSplit.matVec`), on fewer rows than make a band per thread it
/// cuts strips of W's columns (`.strips`). The values match the double-precision formula for
/// element-wise, row-wise (softmax) and input-derivative activations (GELU, whose backward pass
/// reads the pre-activation both keep); the AVX2 and portable products agree bit for bit.
@Suite(.serialized) struct DenseStripTests {
    static let inputs = 640, outputs = 1000

    /// A built layer with a random bias, its input `[rows, inputs]` and the pre-activation
    /// z = x·W + b in double precision.
    static func layer(_ activation: Activation, rows: Int) throws -> (Dense, x: [Float], z: [Double]) {
        let dense = Dense(outputCount: outputs, activation: activation, name: "fc")
        _ = try dense.build(inputShape: [inputs], seed: 1)
        try dense.bias!.assign(randomValues(outputs, seed: 2))
        let x = randomValues(rows * inputs, seed: 3)
        let w = dense.kernel!.values, b = dense.bias!.values
        var z = [Double](repeating: 0, count: rows * outputs)
        for r in 0..<rows {
            for j in 0..<outputs {
                var sum = Double(b[j])
                for i in 0..<inputs { sum += Double(x[r * inputs + i]) * Double(w[i * outputs + j]) }
                z[r * outputs + j] = sum
            }
        }
        return (dense, x, z)
    }

    static func forward(_ dense: Dense, _ x: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outputs)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { dense.forward(xp.baseAddress!, into: $0.baseAddress!, batch: rows, training: true) }
        }
        return y
    }

    static func gelu(_ z: Double) -> Double { 0.5 * z * (1 + erf(z / 2.squareRoot())) }

    @Test(arguments: [1, 3, 8])
    func fewRowsMatchTheFormula(rows: Int) throws {
        for activation in [Activation.linear, .relu6, .gelu(approximate: false), .softmax] {
            let (dense, x, z) = try Self.layer(activation, rows: rows)
            if WorkerPool.shared.width > 1 {
                let split = dense.forwardSplit(rows: rows, inputCount: Self.inputs)
                let expected: Dense.ForwardSplit = rows <= Dense.matVecRows ? .matVec(split.parts.count) : .strips(split.parts.count)
                #expect(split == expected && split.parts.count > 1, "\(activation) on \(rows) rows: \(split)")
            }
            if rows <= Dense.matVecRows {
                zoo_kernels_force_portable(1)
                let portable = Self.forward(dense, x, rows: rows)
                zoo_kernels_force_portable(0)
                #expect(portable == Self.forward(dense, x, rows: rows), "\(activation): AVX2 and portable differ")
            }
            var want: [Double]
            switch activation {
            case .relu6: want = z.map { min(max($0, 0), 6) }
            case .gelu: want = z.map(Self.gelu)
            case .softmax:
                want = []
                for r in 0..<rows {
                    let row = z[(r * Self.outputs)..<((r + 1) * Self.outputs)]
                    let top = row.max()!
                    let e = row.map { exp($0 - top) }
                    let total = e.reduce(0, +)
                    want += e.map { $0 / total }
                }
            default: want = z
            }
            let got = Self.forward(dense, x, rows: rows)
            #expect(closeness(got, want.map(Float.init), relative: 1e-5, absolute: 1e-6) <= 1, "\(activation)")
        }
    }

    /// GELU's derivative comes from the pre-activation, which both few-row forms copy aside.
    @Test(arguments: [1, 8])
    func inputGradientAfterFewRowsUsesThePreActivation(rows: Int) throws {
        let (dense, x, z) = try Self.layer(.gelu(approximate: false), rows: rows)
        let y = Self.forward(dense, x, rows: rows)
        var dy = randomValues(rows * Self.outputs, seed: 4)
        let upstream = dy.map(Double.init)
        var dx = [Float](repeating: 0, count: rows * Self.inputs)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                dy.withUnsafeMutableBufferPointer { dyp in
                    dx.withUnsafeMutableBufferPointer {
                        dense.backward(input: xp.baseAddress!, output: yp.baseAddress!, outputGradient: dyp.baseAddress!,
                                       inputGradient: $0.baseAddress!, batch: rows)
                    }
                }
            }
        }
        let w = dense.kernel!.values
        let g = zip(upstream, z).map { dy, z in dy * (0.5 * (1 + erf(z / 2.squareRoot())) + z * exp(-z * z / 2) / (2 * Double.pi).squareRoot()) }
        let want = (0..<(rows * Self.inputs)).map { index in
            let (r, i) = index.quotientAndRemainder(dividingBy: Self.inputs)
            return (0..<Self.outputs).reduce(0.0) { $0 + g[r * Self.outputs + $1] * Double(w[i * Self.outputs + $1]) }
        }
        #expect(closeness(dx, want.map(Float.init), relative: 1e-4, absolute: 1e-5) <= 1)
    }
}
