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

/// Optimizer state: stopping after some steps and continuing in a fresh optimizer from
/// `state(of:)` gives exactly the weights of an uninterrupted run, for every optimizer; and a
/// state that does not fit is refused.
@Suite struct OptimizerStateTests {
    static let makers: [(String, @Sendable () throws -> Optimizer)] = [
        ("sgd-momentum", { try SGD(learningRate: 0.05, momentum: 0.9, nesterov: true) }),
        ("adagrad", { try AdaGrad(learningRate: 0.1) }),
        ("rmsprop", { try RMSProp(learningRate: 0.01, momentum: 0.5, centered: true) }),
        ("adam", { try Adam(learningRate: 0.01) }),
        ("adam-amsgrad", { try Adam(learningRate: 0.01, amsgrad: true) }),
        ("adamw", { try AdamW(learningRate: 0.01) }),
        ("nadam", { try Nadam(learningRate: 0.01) }),
        ("adam-exponential", { try Adam(schedule: try ExponentialDecay(initialLearningRate: 0.01, decaySteps: 2, decayRate: 0.5)) }),
    ]

    static func network() throws -> Sequential {
        try Sequential(inputShape: [6], layers: [Dense(outputCount: 5, activation: .elu(alpha: 1), name: "d1"),
                                                 Dense(outputCount: 3, name: "d2")], seed: 3)
    }

    @Test(arguments: 0..<makers.count) func continuedEqualsUninterrupted(_ index: Int) throws {
        let make = Self.makers[index].1
        let data = try regressionData(try Self.network(), batch: 16, seed: 8)
        let whole = try Self.network(), wholeOptimizer = try make()
        try whole.fit(data, loss: .meanSquaredError, optimizer: wholeOptimizer, epochs: 4, batchSize: 4)
        let part = try Self.network(), first = try make()
        try part.fit(data, loss: .meanSquaredError, optimizer: first, epochs: 2, batchSize: 4)
        let state = first.state(of: part.trainableVariables)
        #expect(state.iterations == 8)
        let second = try make()
        try second.restore(state, for: part.trainableVariables)
        try part.fit(data, loss: .meanSquaredError, optimizer: second, epochs: 4, initialEpoch: 2, batchSize: 4)
        #expect(part.snapshots == whole.snapshots, "\(Self.makers[index].0)")
        #expect(second.state(of: part.trainableVariables) == wholeOptimizer.state(of: whole.trainableVariables))
    }

    @Test func statesThatDoNotFitAreRefused() throws {
        let net = try Self.network()
        let data = try regressionData(net, batch: 4, seed: 1)
        let adam = try Adam()
        try net.fit(data, loss: .meanSquaredError, optimizer: adam, epochs: 1, batchSize: 4)
        let state = adam.state(of: net.trainableVariables)
        #expect(state.slots.map(\.name).prefix(2) == ["d1/kernel/0", "d1/kernel/1"])
        #expect(throws: ZooNetError.self) { try SGD(momentum: 0.9).restore(state, for: net.trainableVariables) }
        var wrongSize = state
        wrongSize.slots[0] = VariableSnapshot(name: "d1/kernel/0", shape: [2], trainable: false, values: [0, 0])
        #expect(throws: ZooNetError.self) { try Adam().restore(wrongSize, for: net.trainableVariables) }
        var unknown = state
        unknown.scalars["u_product"] = 0.5
        #expect(throws: ZooNetError.self) { try Adam().restore(unknown, for: net.trainableVariables) }
        try Nadam().restore(unknown, for: net.trainableVariables)
        #expect(throws: ZooNetError.self) {
            try net.fit(data, loss: .meanSquaredError, optimizer: adam, epochs: 1, initialEpoch: 2, batchSize: 4)
        }
    }
}
