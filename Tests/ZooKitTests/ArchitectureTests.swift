import Testing
@testable import ZooKit
import ZooNet

/// The built-in architectures have the layer names and sizes of the PyTorch models they
/// reproduce: trainable parameters and all state-dict values counted as PyTorch counts them
/// (`sum(p.numel() for p in model.parameters())`, and the `state_dict()` without
/// `num_batches_tracked`), torchvision 0.29, efficientnet-lite-pytorch 0.1.0 and
/// facenet-pytorch 2.6.0 (`Tests/Fixtures/torcharch/torcharch.py`'s `count`).
@Suite struct ArchitectureTests {
    @Test(arguments: [
        (Architecture.resnet18, 1.0, 1000, 11_689_512, 11_699_112), (.resnet34, 1.0, 1000, 21_797_672, 21_814_696),
        (.resnet50, 1.0, 1000, 25_557_032, 25_610_152), (.mobilenetV2, 1.0, 1000, 3_504_872, 3_538_984),
        (.mobilenetV2, 0.35, 10, 408_938, -1), (.efficientnetLite0, 1.0, 1000, 4_652_008, 4_694_024),
        (.mobilenetV3Small, 1.0, 1000, 2_542_856, 2_554_968), (.mobilenetV3Large, 1.0, 1000, 5_483_032, 5_507_432),
        (.mobilenetV3Large, 0.75, 10, 2_426_186, 2_444_602), (.efficientnetB0, 1.0, 1000, 5_288_548, 5_330_564),
        (.vgg11, 1.0, 1000, 132_863_336, 132_863_336), (.vgg11BN, 1.0, 1000, 132_868_840, 132_874_344),
        (.vgg16, 1.0, 1000, 138_357_544, 138_357_544), (.squeezenet1_1, 1.0, 1000, 1_235_496, 1_235_496),
        (.densenet121, 1.0, 1000, 7_978_856, 8_062_504),
    ])
    func sizesMatchPyTorch(_ architecture: Architecture, _ width: Double, _ classes: Int, _ parameters: Int, _ stateValues: Int) throws {
        let net = try architecture.build(classes: classes, widthMultiplier: width, inputSize: width < 1 ? 96 : 224)
        #expect(net.variables.filter(\.isTrainableKind).reduce(0) { $0 + $1.count } == parameters)
        if stateValues > 0 { #expect(net.variables.reduce(0) { $0 + $1.count } == stateValues) }
        #expect(net.outputShape == [classes])
    }

    /// MTCNN (facenet-pytorch 2.6.0): sizes and the shapes of the several outputs, in `forward`'s order.
    @Test(arguments: [
        (Architecture.pnet, 12, 6_632, [[1, 1, 4], [1, 1, 2]]), (.pnet, 31, 6_632, [[11, 11, 4], [11, 11, 2]]),
        (.rnet, 24, 100_178, [[4], [2]]), (.onet, 48, 389_040, [[4], [10], [2]]),
    ])
    func mtcnnSizesMatchFacenetPyTorch(_ architecture: Architecture, _ size: Int, _ parameters: Int, _ outputShapes: [[Int]]) throws {
        let net = try architecture.build(inputSize: size)
        #expect(net.variables.reduce(0) { $0 + $1.count } == parameters)
        #expect(net.outputShapes == outputShapes)
    }

    /// Options an architecture does not have are refused by name, not ignored.
    @Test func optionsTheArchitectureLacksAreRefused() throws {
        #expect(throws: ZooKitError.invalidRequest("resnet18 has no width multiplier (got 0.5); only mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large have one")) {
            try Architecture.resnet18.build(widthMultiplier: 0.5)
        }
        #expect(throws: ZooKitError.invalidRequest("onet takes 48 × 48 inputs only (its first linear layer fixes the size), not 64")) {
            try Architecture.onet.build(inputSize: 64)
        }
        #expect(throws: ZooKitError.invalidRequest("pnet has no number of classes (got 10)")) { try Architecture.pnet.build(classes: 10) }
        #expect(throws: ZooKitError.invalidRequest("vgg11: the number of classes must be at least 1, got 0")) { try Architecture.vgg11.build(classes: 0) }
        #expect(throws: ZooNetError.self) { try Architecture.pnet.build(inputSize: 8) }
    }

    /// EfficientNet-B0's stochastic depth is torchvision's (`StochasticDepth(p, "row")` on the
    /// residual blocks, p = 0.2 · k / 16 for block k of 16): one drop decision per sample.
    @Test func efficientNetDropsResidualBlocksPerSampleAsTorchvision() throws {
        let net = try Architecture.efficientnetB0.build(classes: 10, inputSize: 96)
        var rates: [String: Float] = [:]
        for layer in net.layersInOrder {
            guard let dropout = layer as? Dropout, layer.name.hasSuffix(".stochastic_depth") else { continue }
            rates[layer.name] = dropout.rate
            #expect(dropout.noiseShape == [1, 1, 1])
        }
        let residual = [("2.1", 2), ("3.1", 4), ("4.1", 6), ("4.2", 7), ("5.1", 9), ("5.2", 10), ("6.1", 12), ("6.2", 13), ("6.3", 14)]
        #expect(rates == Dictionary(uniqueKeysWithValues: residual.map { ("features.\($0.0).stochastic_depth", 0.2 * Float($0.1) / 16) }))
        let plain = try EfficientNet.build(classes: 10, inputSize: 96, stochasticDepth: 0)
        #expect(!plain.layersInOrder.contains { $0.name.hasSuffix(".stochastic_depth") })
    }

    @Test func namesAreTheModulePaths() throws {
        let resnet = try Architecture.resnet50.build()
        for name in ["conv1/kernel", "bn1/moving_variance", "layer1.0.downsample.0/kernel", "layer4.2.conv3/kernel", "fc/kernel"] {
            _ = try resnet.variable(named: name)
        }
        let mobilenet = try Architecture.mobilenetV2.build()
        for name in ["features.0.0/kernel", "features.1.conv.0.0/depthwise_kernel", "features.1.conv.1/kernel",
                     "features.2.conv.1.0/depthwise_kernel", "features.18.1/gamma", "classifier.1/bias"] {
            _ = try mobilenet.variable(named: name)
        }
        let names: [(Architecture, [String])] = [
            (.mobilenetV3Small, ["features.0.0/kernel", "features.1.block.0.0/depthwise_kernel", "features.1.block.1.fc1/kernel",
                                 "features.1.block.1.fc2/bias", "features.4.block.2.fc1/bias", "features.12.1/gamma",
                                 "classifier.0/kernel", "classifier.3/bias"]),
            (.efficientnetB0, ["features.0.0/kernel", "features.1.0.block.1.fc1/kernel", "features.2.1.block.2.fc2/bias",
                               "features.6.3.block.3.1/moving_mean", "features.8.0/kernel", "classifier.1/kernel"]),
            (.squeezenet1_1, ["features.0/kernel", "features.3.squeeze/kernel", "features.12.expand3x3/bias", "classifier.1/kernel"]),
            (.densenet121, ["features.conv0/kernel", "features.denseblock1.denselayer1.norm1/gamma",
                            "features.denseblock4.denselayer16.conv2/kernel", "features.transition3.conv/kernel",
                            "features.norm5/beta", "classifier/kernel"]),
            (.onet, ["conv1/kernel", "prelu1/alpha", "prelu5/alpha", "dense6_3/kernel"]),
        ]
        for (architecture, variables) in names {
            let network = try architecture.build(inputSize: architecture.hasVariableInputSize ? 64 : nil)
            for name in variables { _ = try network.variable(named: name) }
        }
        // vgg11_bn's numbering of features (conv, BN, ReLU; pools between), with a narrow classifier to build fast.
        let vgg = try VGG.build(configuration: VGG.configurationA, batchNorm: true, classes: 10, inputSize: 32, hidden: 8)
        for name in ["features.0/kernel", "features.1/gamma", "features.26/moving_variance", "classifier.0/kernel", "classifier.6/bias"] {
            _ = try vgg.variable(named: name)
        }
        #expect(try vgg.variable(named: "classifier.0/kernel").shape == [512 * 7 * 7, 8])
        let lite = try Architecture.efficientnetLite0.build()
        for name in ["_conv_stem/kernel", "_blocks.0._depthwise_conv/depthwise_kernel", "_blocks.15._project_conv/kernel",
                     "_bn1/moving_mean", "_fc/kernel"] {
            _ = try lite.variable(named: name)
        }
    }
}
