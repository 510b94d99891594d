import Foundation
import Testing
@testable import ZooNet

@Suite struct LossTests {
    func network(outputs: Int) throws -> Sequential {
        try Sequential(inputShape: [4], layers: [Dense(outputCount: outputs, activation: .tanh), Dense(outputCount: outputs)], seed: 21)
    }

    @Test func sparseSoftmaxCrossEntropyGradient() throws {
        let net = try network(outputs: 5)
        let data = try Dataset(inputs: tensor([6, 4], seed: 1), labels: .classes([0, 4, 2, 2, 1, 3]))
        try checkGradients(net, data, loss: .softmaxCrossEntropy)
    }

    @Test func oneHotSoftmaxCrossEntropyMatchesSparse() throws {
        let net = try network(outputs: 3)
        let labels = [2, 0, 1, 1]
        let oneHot = labels.flatMap { l in (0..<3).map { Float($0 == l ? 1 : 0) } }
        let x = try tensor([4, 4], seed: 2)
        let sparse = try net.evaluate(Dataset(inputs: x, labels: .classes(labels)), loss: .softmaxCrossEntropy)
        let dense = try Dataset(inputs: x, labels: .values(Tensor(shape: [4, 3], scalars: oneHot)))
        let denseResult = try net.evaluate(dense, loss: .softmaxCrossEntropy)
        #expect(abs(sparse.loss - denseResult.loss) < 1e-6)
        #expect(sparse.accuracy == denseResult.accuracy)
        try checkGradients(net, dense, loss: .softmaxCrossEntropy)
    }

    @Test func softmaxCrossEntropyValue() throws {
        // Logits [1, 2, 3], label 2: log(e + e² + e³) − 3.
        let net = try Sequential(inputShape: [3], layers: [Dense(outputCount: 3, useBias: false, kernelInitializer: .zeros, name: "d")])
        try net.assign("d/kernel", values: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let r = try net.evaluate(Dataset(inputs: Tensor(rows: [[1, 2, 3]]), labels: .classes([2])), loss: .softmaxCrossEntropy)
        #expect(abs(r.loss - 0.40760596444438) < 1e-6)
        #expect(r.accuracy == 1)
    }

    @Test func sigmoidCrossEntropyGradientAndValue() throws {
        let net = try network(outputs: 3)
        var rng = SplitMix64(seed: 3)
        let targets = (0..<12).map { _ in Float(rng.next() % 2) }
        let data = try Dataset(inputs: tensor([4, 4], seed: 4), labels: .values(Tensor(shape: [4, 3], scalars: targets)))
        try checkGradients(net, data, loss: .sigmoidCrossEntropy)
        let logits = try net.predict(data.inputs).scalars
        var expected = 0.0
        for (z, t) in zip(logits, targets) {
            let p = 1 / (1 + exp(-Double(z)))
            expected -= Double(t) * log(p) + Double(1 - t) * log(1 - p)
        }
        #expect(abs(try net.evaluate(data, loss: .sigmoidCrossEntropy).loss - expected / 12) < 1e-5)
    }

    @Test func meanSquaredErrorGradientAndValue() throws {
        let net = try network(outputs: 2)
        let data = try regressionData(net, batch: 5, seed: 5)
        try checkGradients(net, data, loss: .meanSquaredError)
        let y = try net.predict(data.inputs).scalars
        guard case .values(let t) = data.labels else { return }
        let expected = zip(y, t.scalars).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +) / 10
        let r = try net.evaluate(data, loss: .meanSquaredError)
        #expect(abs(r.loss - expected) < 1e-5)
        #expect(r.accuracy == nil)
    }

    @Test func labelValidation() throws {
        let net = try network(outputs: 3)
        let data = try Dataset(inputs: tensor([2, 4], seed: 1), labels: .classes([0, 3]))
        #expect(throws: ZooNetError.labelOutOfRange(label: 3, classCount: 3)) {
            try net.evaluate(data, loss: .softmaxCrossEntropy)
        }
    }
}
