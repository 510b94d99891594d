import Testing
@testable import ZooNet

@Suite struct DenseTests {
    @Test func seedExampleReLU() throws {
        let dense = Dense(inputCount: 2, outputCount: 3, activation: .relu, name: "hidden1")
        let net = try Sequential(inputShape: [2], layers: [dense])
        try net.assign("hidden1/kernel", values: [1, 2, 3, 4, 5, 6])
        try net.assign("hidden1/bias", values: [7, 8, 9])
        let y = try net.predict(Tensor(rows: [[10, 11]]))
        #expect(y.shape == [1, 3])
        #expect(y.scalars == [61, 83, 105])
    }

    @Test func variableNamesShapesAndOrder() throws {
        let net = try Sequential(inputShape: [784], layers: [
            Dense(inputCount: 784, outputCount: 300, name: "hidden1"), BatchNorm(momentum: 0.9, name: "bn1"),
            ActivationLayer(.elu(alpha: 1)), Dense(outputCount: 100, name: "hidden2"),
            BatchNorm(name: "bn2"), ActivationLayer(.elu(alpha: 1)), Dense(outputCount: 10, name: "outputs"),
        ])
        let s = net.snapshots
        #expect(s.map(\.name) == [
            "hidden1/kernel", "hidden1/bias", "bn1/gamma", "bn1/beta", "bn1/moving_mean", "bn1/moving_variance",
            "hidden2/kernel", "hidden2/bias", "bn2/gamma", "bn2/beta", "bn2/moving_mean", "bn2/moving_variance",
            "outputs/kernel", "outputs/bias",
        ])
        #expect(s[0].shape == [784, 300])
        #expect(s.map(\.trainable) == [true, true, true, true, false, false, true, true, true, true, false, false, true, true])
        #expect(net.layers[2].name == "activation" && net.layers[5].name == "activation_1")
    }

    @Test func typedErrors() throws {
        #expect(throws: ZooNetError.shapeMismatch(expected: [3], actual: [2], context: "d")) {
            try Sequential(inputShape: [2], layers: [Dense(inputCount: 3, outputCount: 1, name: "d")])
        }
        let net = try Sequential(inputShape: [2], layers: [Dense(outputCount: 1, name: "d")])
        #expect(throws: ZooNetError.unknownVariable("x/kernel")) { try net.assign("x/kernel", values: []) }
        #expect(throws: ZooNetError.countMismatch(expected: 2, actual: 3, context: "d/kernel")) {
            try net.assign("d/kernel", values: [1, 2, 3])
        }
        #expect(throws: ZooNetError.invalidPattern("(")) { try net.freeze(trainable: "(") }
        #expect(throws: ZooNetError.self) { try net.predict(Tensor(rows: [[1, 2, 3]])) }
        #expect(throws: ZooNetError.self) {
            try Sequential(inputShape: [2], layers: [Dense(outputCount: 1, activation: .elu(alpha: -1))])
        }
        #expect(throws: ZooNetError.self) { try Adam(beta1: 1.5) }
        #expect(throws: ZooNetError.self) { try SGD(clipValue: 1, clipNorm: 1) }
    }

    @Test func denseOnLastAxisOfRank3Input() throws {
        let net = try Sequential(inputShape: [2, 3], layers: [Dense(outputCount: 4, activation: .tanh)], seed: 3)
        #expect(net.outputShape == [2, 4])
        try checkGradients(net, regressionData(net, batch: 3, seed: 1), loss: .meanSquaredError)
    }
}
