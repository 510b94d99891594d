import Testing
@testable import ZooKit

/// The built-in architectures have the layer names and sizes of the PyTorch models they
/// reproduce: trainable parameters and all state-dict values counted as PyTorch counts them
/// (`sum(p.numel() for p in model.parameters())`, and the `state_dict()` without
/// `num_batches_tracked`), torchvision 0.29 and efficientnet-lite-pytorch 0.1.0.
@Suite struct ArchitectureTests {
    @Test(arguments: [
        (Architecture.resnet18, 1.0, 1000, 11_689_512, 11_699_112), (.resnet34, 1.0, 1000, 21_797_672, 21_814_696),
        (.resnet50, 1.0, 1000, 25_557_032, 25_610_152), (.mobilenetV2, 1.0, 1000, 3_504_872, 3_538_984),
        (.mobilenetV2, 0.35, 10, 408_938, -1), (.efficientnetLite0, 1.0, 1000, 4_652_008, 4_694_024),
    ])
    func sizesMatchPyTorch(_ architecture: Architecture, _ width: Double, _ classes: Int, _ parameters: Int, _ stateValues: Int) throws {
        let net = try architecture.build(classes: classes, widthMultiplier: width, inputSize: width < 1 ? 96 : 224)
        #expect(net.variables.filter(\.isTrainableKind).reduce(0) { $0 + $1.count } == parameters)
        if stateValues > 0 { #expect(net.variables.reduce(0) { $0 + $1.count } == stateValues) }
        #expect(net.outputShape == [classes])
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
        let lite = try Architecture.efficientnetLite0.build()
        for name in ["_conv_stem/kernel", "_blocks.0._depthwise_conv/depthwise_kernel", "_blocks.15._project_conv/kernel",
                     "_bn1/moving_mean", "_fc/kernel"] {
            _ = try lite.variable(named: name)
        }
    }
}
