import ZooFormat
import ZooNet

/// Built-in architectures, with layer names equal to the PyTorch module paths of the
/// implementation they reproduce, so a `state_dict` of that implementation loads one to one.
/// Inputs are NHWC `[size, size, 3]` (ZooNet's layout); outputs are the logits.
public enum Architecture: String, CaseIterable, Sendable {
    case resnet18, resnet34, resnet50, resnet101, resnet152
    case mobilenetV2 = "mobilenet_v2"
    case efficientnetLite0 = "efficientnet_lite0"

    /// Builds the network (`classes` outputs; `widthMultiplier` α for MobileNetV2).
    /// - Throws: `ZooNetError` if the sizes do not fit (an input too small for the strides).
    public func build(classes: Int = 1000, widthMultiplier: Double = 1, inputSize: Int = 224) throws -> Network {
        switch self {
        case .resnet18: return try ResNet.build(block: .basic, layers: [2, 2, 2, 2], classes: classes, inputSize: inputSize)
        case .resnet34: return try ResNet.build(block: .basic, layers: [3, 4, 6, 3], classes: classes, inputSize: inputSize)
        case .resnet50: return try ResNet.build(block: .bottleneck, layers: [3, 4, 6, 3], classes: classes, inputSize: inputSize)
        case .resnet101: return try ResNet.build(block: .bottleneck, layers: [3, 4, 23, 3], classes: classes, inputSize: inputSize)
        case .resnet152: return try ResNet.build(block: .bottleneck, layers: [3, 8, 36, 3], classes: classes, inputSize: inputSize)
        case .mobilenetV2: return try MobileNetV2.build(widthMultiplier: widthMultiplier, classes: classes, inputSize: inputSize)
        case .efficientnetLite0: return try EfficientNetLite.build(classes: classes, inputSize: inputSize)
        }
    }

    /// Loads a PyTorch state dict of this architecture into `network` (built by `build`).
    /// - Throws: `ZooKitError.invalidRequest` naming missing, unexpected and mis-shaped keys.
    public static func loadStateDict(_ archive: TensorArchive, into network: Network) throws {
        try TorchStateDict.load(archive, into: network, layers: network.layersByName)
    }
}
