#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Testing
@testable import ZooNet

@Suite struct OptimizerTests {
    /// A variable large enough for the two-thread path, checked against the Keras formula.
    @Test func adamLargeVariableMatchesFormula() throws {
        let net = try Sequential(inputShape: [256], layers: [Dense(outputCount: 160, name: "d")], seed: 4)
        let data = try regressionData(net, batch: 8, seed: 3)
        let kernel = try net.variable(named: "d/kernel")
        #expect(kernel.count >= 1 << 15)
        let adam = try Adam(learningRate: 0.01)
        var w = kernel.values, m = [Float](repeating: 0, count: kernel.count), v = m
        for step in 1...3 {
            _ = try net.lossAndGradients(data, loss: .meanSquaredError)
            let g = kernel.gradient.array(count: kernel.count)
            let alpha = 0.01 * (1 - powf(0.999, Float(step))).squareRoot() / (1 - powf(0.9, Float(step)))
            for i in 0..<w.count {
                m[i] += (g[i] - m[i]) * (1 - 0.9)
                v[i] += (g[i] * g[i] - v[i]) * (1 - 0.999)
                w[i] -= m[i] * alpha / (v[i].squareRoot() + 1e-7)
            }
            adam.apply(to: net.trainableVariables)
            #expect(closeness(kernel.values, w, relative: 1e-6, absolute: 1e-7) <= 1, "step \(step)")
        }
    }

    @Test func clippingByNormAndValue() throws {
        func step(_ optimizer: Optimizer, gradient: [Float]) throws -> [Float] {
            let net = try Sequential(inputShape: [1], layers: [Dense(outputCount: 2, useBias: false, kernelInitializer: .zeros, name: "d")])
            let kernel = try net.variable(named: "d/kernel")
            gradient.withUnsafeBufferPointer { kernel.gradient.pointer.update(from: $0.baseAddress!, count: 2) }
            optimizer.apply(to: [kernel])
            return kernel.values
        }
        // g = (3, 4), ‖g‖ = 5.
        #expect(try step(SGD(learningRate: 1, clipNorm: 1), gradient: [3, 4]) == [-0.6, -0.8])
        #expect(try step(SGD(learningRate: 1, globalClipNorm: 2.5), gradient: [3, 4]) == [-1.5, -2])
        #expect(try step(SGD(learningRate: 1, clipValue: 3.5), gradient: [3, 4]) == [-3, -3.5])
        #expect(try step(SGD(learningRate: 1, clipNorm: 10), gradient: [3, 4]) == [-3, -4])
    }
}
