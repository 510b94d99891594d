import ZooFormat
import ZooNet

extension Architecture {
    /// The PyTorch `state_dict` keys of this architecture (`num_batches_tracked` included), from
    /// the architecture built at its smallest size with the same module names (channels divided,
    /// a few classes): names do not depend on widths, so this costs kilobytes, not VGG's 500 MB.
    func stateDictKeys() throws -> Set<String> {
        let network: Network
        switch self {
        case .resnet18: network = try ResNet.build(block: .basic, layers: [2, 2, 2, 2], classes: 2, inputSize: 32, width: 4)
        case .resnet34: network = try ResNet.build(block: .basic, layers: [3, 4, 6, 3], classes: 2, inputSize: 32, width: 4)
        case .resnet50: network = try ResNet.build(block: .bottleneck, layers: [3, 4, 6, 3], classes: 2, inputSize: 32, width: 4)
        case .resnet101: network = try ResNet.build(block: .bottleneck, layers: [3, 4, 23, 3], classes: 2, inputSize: 32, width: 4)
        case .resnet152: network = try ResNet.build(block: .bottleneck, layers: [3, 8, 36, 3], classes: 2, inputSize: 32, width: 4)
        // MobileNets keep their full width: below it, a block whose expansion equals its input drops its expand conv.
        case .mobilenetV2, .mobilenetV3Small, .mobilenetV3Large: network = try build(classes: 2, inputSize: 32)
        case .efficientnetB0: network = try EfficientNet.build(widthMultiplier: 0.1, classes: 2, inputSize: 32)
        case .vgg11, .vgg11BN, .vgg16:
            let configuration = (self == .vgg16 ? VGG.configurationD : VGG.configurationA).map { $0.map { _ in 2 } }
            network = try VGG.build(configuration: configuration, batchNorm: self == .vgg11BN, classes: 2, inputSize: 32, hidden: 2)
        case .densenet121: network = try DenseNet.build(growthRate: 2, initialFeatures: 2, bottleneck: 1, classes: 2, inputSize: 32)
        case .efficientnetLite0, .squeezenet1_1, .pnet, .rnet, .onet: network = try build()
        }
        return Set(try TorchStateDictExport.tensors(of: network).tensors.map(\.name))
    }

    /// The catalog architecture whose state-dict keys `keys` are (at least 90 % of both sets in
    /// common, the best such), with that share; nil when none comes close.
    public static func matching(keys: Set<String>) -> (architecture: Architecture, share: Double)? {
        var best: (Architecture, Double)?
        for candidate in allCases {
            guard let expected = try? candidate.stateDictKeys() else { continue }
            let share = Double(keys.intersection(expected).count) / Double(max(keys.union(expected).count, 1))
            if share >= 0.9, share > (best?.1 ?? 0) { best = (candidate, share) }
        }
        return best
    }
}
