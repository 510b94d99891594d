import ZooFormat
import ZooNet

/// Built-in architectures, with layer names equal to the PyTorch module paths of the
/// implementation they reproduce, so a `state_dict` of that implementation loads one to one.
/// Inputs are NHWC `[size, size, 3]` (ZooNet's layout); outputs are what the module's
/// `forward` returns, in its order: the logits `[classes]` for the classifiers; MTCNN's
/// `pnet` gives `[m, m, 4]` and `[m, m, 2]` maps, `rnet` `[4]` and `[2]`, `onet` `[4]`, `[10]`, `[2]`.
/// The raw value is the PyTorch constructor's name (`mobilenet_v3_small`, `vgg11_bn`, `pnet`).
public enum Architecture: String, CaseIterable, Sendable {
    /// torchvision `resnet18`: basic blocks [2, 2, 2, 2].
    case resnet18
    /// torchvision `resnet34`: basic blocks [3, 4, 6, 3].
    case resnet34
    /// torchvision `resnet50`: bottleneck blocks [3, 4, 6, 3].
    case resnet50
    /// torchvision `resnet101`: bottleneck blocks [3, 4, 23, 3].
    case resnet101
    /// torchvision `resnet152`: bottleneck blocks [3, 8, 36, 3].
    case resnet152
    /// torchvision `mobilenet_v2`, width multiplier α.
    case mobilenetV2 = "mobilenet_v2"
    /// torchvision `mobilenet_v3_small`, width multiplier α.
    case mobilenetV3Small = "mobilenet_v3_small"
    /// torchvision `mobilenet_v3_large`, width multiplier α.
    case mobilenetV3Large = "mobilenet_v3_large"
    /// torchvision `efficientnet_b0` (SiLU, squeeze-excitation).
    case efficientnetB0 = "efficientnet_b0"
    /// EfficientNet-Lite0 as the PyPI package `efficientnet-lite-pytorch` defines it.
    case efficientnetLite0 = "efficientnet_lite0"
    /// torchvision `vgg11` (configuration A, no batch norm).
    case vgg11
    /// torchvision `vgg11_bn` (configuration A with batch norm).
    case vgg11BN = "vgg11_bn"
    /// torchvision `vgg16` (configuration D, no batch norm).
    case vgg16
    /// torchvision `squeezenet1_1`.
    case squeezenet1_1
    /// torchvision `densenet121`: growth rate 32, blocks [6, 12, 24, 16].
    case densenet121
    /// facenet-pytorch's MTCNN `PNet` (fully convolutional, any input size ≥ 12).
    case pnet
    /// facenet-pytorch's MTCNN `RNet` (24 × 24 inputs).
    case rnet
    /// facenet-pytorch's MTCNN `ONet` (48 × 48 inputs).
    case onet

    /// The input side the architecture is built for when none is given: 224 for the
    /// ImageNet classifiers, 12 for `pnet`, 24 for `rnet`, 48 for `onet`.
    public var defaultInputSize: Int {
        switch self {
        case .pnet: 12
        case .rnet: 24
        case .onet: 48
        default: 224
        }
    }

    /// Whether the PyTorch constructor takes a width multiplier (`width_mult`).
    public var hasWidthMultiplier: Bool { [.mobilenetV2, .mobilenetV3Small, .mobilenetV3Large].contains(self) }

    /// Whether the PyTorch constructor takes `num_classes` (the MTCNN networks do not).
    public var hasClasses: Bool { ![.pnet, .rnet, .onet].contains(self) }

    /// Whether the input side can differ from `defaultInputSize` (not for `rnet` and `onet`,
    /// whose first linear layer fixes it).
    public var hasVariableInputSize: Bool { ![.rnet, .onet].contains(self) }

    /// Builds the network.
    /// - Parameters:
    ///   - classes: the number of outputs (`num_classes`); nil: 1000. Only where `hasClasses`.
    ///   - widthMultiplier: α (`width_mult`); only where `hasWidthMultiplier`.
    ///   - inputSize: the input side s of `[s, s, 3]`; nil: `defaultInputSize`.
    /// - Throws: `ZooKitError.invalidRequest` for an option the architecture does not have or a
    ///   value out of range; `ZooNetError` if the sizes do not fit (an input too small for the strides).
    public func build(classes: Int? = nil, widthMultiplier: Double = 1, inputSize: Int? = nil) throws -> Network {
        if let classes, !hasClasses { throw ZooKitError.invalidRequest("\(rawValue) has no number of classes (got \(classes))") }
        if widthMultiplier != 1, !hasWidthMultiplier {
            throw ZooKitError.invalidRequest("\(rawValue) has no width multiplier (got \(widthMultiplier)); only \(Architecture.allCases.filter(\.hasWidthMultiplier).map(\.rawValue).joined(separator: ", ")) have one")
        }
        if let inputSize, inputSize != defaultInputSize, !hasVariableInputSize {
            throw ZooKitError.invalidRequest("\(rawValue) takes \(defaultInputSize) × \(defaultInputSize) inputs only (its first linear layer fixes the size), not \(inputSize)")
        }
        let classes = classes ?? 1000, size = inputSize ?? defaultInputSize
        guard classes >= 1 else { throw ZooKitError.invalidRequest("\(rawValue): the number of classes must be at least 1, got \(classes)") }
        guard widthMultiplier > 0, widthMultiplier.isFinite else {
            throw ZooKitError.invalidRequest("\(rawValue): the width multiplier must be positive, got \(widthMultiplier)")
        }
        guard size >= 1 else { throw ZooKitError.invalidRequest("\(rawValue): the input size must be positive, got \(size)") }
        switch self {
        case .resnet18: return try ResNet.build(block: .basic, layers: [2, 2, 2, 2], classes: classes, inputSize: size)
        case .resnet34: return try ResNet.build(block: .basic, layers: [3, 4, 6, 3], classes: classes, inputSize: size)
        case .resnet50: return try ResNet.build(block: .bottleneck, layers: [3, 4, 6, 3], classes: classes, inputSize: size)
        case .resnet101: return try ResNet.build(block: .bottleneck, layers: [3, 4, 23, 3], classes: classes, inputSize: size)
        case .resnet152: return try ResNet.build(block: .bottleneck, layers: [3, 8, 36, 3], classes: classes, inputSize: size)
        case .mobilenetV2: return try MobileNetV2.build(widthMultiplier: widthMultiplier, classes: classes, inputSize: size)
        case .mobilenetV3Small: return try MobileNetV3.build(.small, widthMultiplier: widthMultiplier, classes: classes, inputSize: size)
        case .mobilenetV3Large: return try MobileNetV3.build(.large, widthMultiplier: widthMultiplier, classes: classes, inputSize: size)
        case .efficientnetB0: return try EfficientNet.build(classes: classes, inputSize: size)
        case .efficientnetLite0: return try EfficientNetLite.build(classes: classes, inputSize: size)
        case .vgg11: return try VGG.build(configuration: VGG.configurationA, batchNorm: false, classes: classes, inputSize: size)
        case .vgg11BN: return try VGG.build(configuration: VGG.configurationA, batchNorm: true, classes: classes, inputSize: size)
        case .vgg16: return try VGG.build(configuration: VGG.configurationD, batchNorm: false, classes: classes, inputSize: size)
        case .squeezenet1_1: return try SqueezeNet.build(classes: classes, inputSize: size)
        case .densenet121: return try DenseNet.build(classes: classes, inputSize: size)
        case .pnet: return try MTCNN.pnet(inputSize: size)
        case .rnet: return try MTCNN.rnet()
        case .onet: return try MTCNN.onet()
        }
    }

    /// Loads a PyTorch state dict of this architecture into `network` (built by `build`).
    /// - Parameters:
    ///   - archive: the state dict (`.pt`, `.pth`, safetensors, `.npz`).
    ///   - network: the network `build` made.
    ///   - architecture: the architecture the network was built as, named in the error.
    /// - Throws: `ZooKitError.stateDictMismatch` naming missing, unexpected and mis-shaped keys,
    ///   and the catalog architecture the file's keys are, if it is another one.
    public static func loadStateDict(_ archive: TensorArchive, into network: Network, architecture: Architecture? = nil) throws {
        do {
            try TorchStateDict.load(archive, into: network, layers: network.layersByName, architecture: architecture?.rawValue)
        } catch let ZooKitError.stateDictMismatch(name, missing, unexpected, misshaped, _) where !missing.isEmpty || !unexpected.isEmpty {
            let keys = Set(archive.tensors.map(\.name))
            let match = matching(keys: keys).flatMap { $0.architecture == architecture ? nil : $0.architecture.rawValue }
            throw ZooKitError.stateDictMismatch(architecture: name, missing: missing, unexpected: unexpected, misshaped: misshaped, matches: match)
        }
    }
}
