import Foundation
import ZooNet

/// How to reuse a pretrained network, as the seed chapter does: keep the
/// lower layers with their weights, drop the head (and maybe the top hidden
/// layers), add a new softmax head, and freeze what should not train.
public struct TransferOptions: Sendable {
    public enum Head: Sendable, Equatable {
        /// Keep the pretrained classifier (fine-tune it for the same classes).
        case keep
        /// Replace it with a dense softmax layer of this many classes.
        case new(classes: Int)
    }

    public var head: Head = .keep
    /// Drop this many of the top hidden (dense or conv) layers, with the layers that follow them, before the new head.
    public var dropLayers = 0
    /// The new head's kernel initializer (raw values: the CLI's names).
    public enum HeadInitializer: String, Sendable, CaseIterable {
        /// He normal (for ReLU/ELU heads; the seed's advice).
        case he
        /// Glorot uniform, Keras' default.
        case glorot
    }

    public var headInitializer = HeadInitializer.glorot
    /// Variables not to train: a regex matched at the start of each name (`hidden[123]`).
    public var freeze: String?
    /// Freeze every layer below this one.
    public var freezeBelow: String?
    /// A dropout layer of this rate before the new head.
    public var dropout: Float?
    /// Override every batch-normalization layer's momentum.
    public var batchNormMomentum: Double?
    /// Kernel regularization of the dense and conv layers.
    public var l1: Float?
    public var l2: Float?
    public var seed: UInt64 = 42
    /// Reuse no pretrained weights: the same architecture, freshly initialized (the baseline).
    public var fromScratch = false

    public init() {}

    /// The new head's name.
    public static let newHeadName = "new_outputs"
}

/// The network built for transfer: its layer specs, the weights reused, and what is trainable.
public final class TransferNetwork {
    public let inputShape: [Int]
    public let specs: [LayerSpec]
    public let network: Sequential
    public let head: String
    /// Variables that received pretrained values.
    public let reused: [String]
    /// Messages for the user (a freeze pattern that matched nothing, …).
    public private(set) var warnings: [String] = []
    let options: TransferOptions

    init(inputShape: [Int], specs: [LayerSpec], network: Sequential, head: String, reused: [String], options: TransferOptions) {
        self.inputShape = inputShape
        self.specs = specs
        self.network = network
        self.head = head
        self.reused = reused
        self.options = options
    }

    /// Builds the transfer network from `pretrained`.
    /// - Throws: `invalidRequest` for impossible requests (a head of 0 classes, dropping more
    ///   layers than there are, an unknown `freezeBelow` layer, freezing everything).
    public static func build(from pretrained: PretrainedModel, options: TransferOptions) throws -> TransferNetwork {
        let manifest = pretrained.manifest
        var specs = manifest.architecture
        var head = manifest.head
        switch options.head {
        case .keep:
            guard options.dropLayers == 0 else { throw ZooKitError.invalidRequest("--drop-layers needs --new-head") }
        case .new(let classes):
            guard classes > 0 else { throw ZooKitError.invalidRequest("the new head needs at least one class, not \(classes)") }
            guard let headIndex = specs.firstIndex(where: { $0.name == manifest.head }) else {
                throw ZooKitError.invalidRequest("\(manifest.name): no head layer '\(manifest.head)'")
            }
            specs.removeSubrange(headIndex...)
            for _ in 0..<options.dropLayers {
                guard let last = specs.lastIndex(where: \.isHiddenLayer) else {
                    throw ZooKitError.invalidRequest("--drop-layers \(options.dropLayers): \(manifest.name) has only \(manifest.architecture.filter(\.isHiddenLayer).count - 1) hidden layers below its head")
                }
                specs.removeSubrange(last...)
            }
            guard !specs.isEmpty else { throw ZooKitError.invalidRequest("nothing would be left of \(manifest.name) to reuse") }
            if let rate = options.dropout {
                var dropout = LayerSpec(type: "dropout", name: "head_dropout")
                dropout.rate = Double(rate)
                specs.append(dropout)
            }
            specs.append(.dense(TransferOptions.newHeadName, units: classes, activation: "softmax"))
            head = TransferOptions.newHeadName
        }
        if let momentum = options.batchNormMomentum {
            for index in specs.indices where specs[index].type == "batch_normalization" { specs[index].momentum = momentum }
        }
        let network = try makeNetwork(specs, inputShape: manifest.input.shape, options: options, head: head)
        // Reuse every pretrained variable that still exists with the same shape.
        var reused: [String] = []
        for variable in network.variables where !options.fromScratch {
            guard let source = try? pretrained.network.variable(named: variable.name), source.shape == variable.shape else { continue }
            try variable.assign(source.values)
            reused.append(variable.name)
        }
        let transfer = TransferNetwork(inputShape: manifest.input.shape, specs: specs, network: network, head: head, reused: reused, options: options)
        try transfer.applyFreezing(freeze: options.freeze, freezeBelow: options.freezeBelow)
        return transfer
    }

    /// A network with these layers; the new head uses the requested initializer.
    static func makeNetwork(_ specs: [LayerSpec], inputShape: [Int], options: TransferOptions, head: String) throws -> Sequential {
        let regularizer: Regularizer? = switch (options.l1, options.l2) {
        case (let l1?, let l2?): .l1l2(l1: l1, l2: l2)
        case (let l1?, nil): .l1(l1)
        case (nil, let l2?): .l2(l2)
        case (nil, nil): nil
        }
        let headInitializer: Initializer = options.headInitializer == .he ? .heNormal : .glorotUniform
        let layers = try specs.map { spec in
            try spec.makeLayer(kernelRegularizer: spec.isHiddenLayer ? regularizer : nil, kernelInitializer: spec.name == head ? headInitializer : nil)
        }
        do {
            return try Sequential(inputShape: inputShape, layers: layers, seed: options.seed)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: "transfer network", reason: error.description)
        }
    }

    /// Makes trainable everything except the variables `freeze` matches (at the start of
    /// their names) and those of the layers below `freezeBelow`.
    func applyFreezing(freeze: String?, freezeBelow: String?) throws {
        var frozen: Set<String> = []
        if let freeze {
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(freeze) } catch { throw ZooKitError.invalidRequest("--freeze '\(freeze)' is not a valid regular expression") }
            let matched = network.variables.map(\.name).filter { (try? regex.prefixMatch(in: $0)) != nil }
            if matched.isEmpty { warnings.append("--freeze '\(freeze)' matches no variable: nothing is frozen by it") }
            frozen.formUnion(matched)
        }
        if let freezeBelow {
            guard let index = network.layers.firstIndex(where: { $0.name == freezeBelow }) else {
                throw ZooKitError.invalidRequest("--freeze-below: no layer named '\(freezeBelow)' (layers: \(network.layers.map(\.name).joined(separator: ", ")))")
            }
            for layer in network.layers[..<index] { frozen.formUnion(layer.variables.map(\.name)) }
        }
        try setTrainable(network.variables.map(\.name).filter { !frozen.contains($0) })
    }

    /// Makes exactly `names` trainable (among the trainable kinds); the rest frozen.
    func setTrainable(_ names: [String]) throws {
        let trainableKinds = network.variables.filter(\.isTrainableKind).map(\.name)
        let trainable = names.filter(trainableKinds.contains)
        guard !trainable.isEmpty else {
            throw ZooKitError.invalidRequest("every variable is frozen: nothing would train (check --freeze / --freeze-below)")
        }
        try network.freeze(trainable: Self.exactPattern(trainable))
    }

    /// A regex matching exactly these names (for `Sequential.freeze(trainable:)`, which matches at the start).
    static func exactPattern(_ names: [String]) -> String {
        "(?:" + names.map(NSRegularExpression.escapedPattern(for:)).joined(separator: "|") + ")$"
    }

    /// Names of the trainable variables.
    public var trainableNames: [String] { network.trainableVariables.map(\.name) }
}
