import ZooNet

/// How to reuse a pretrained network, as the seed chapter does: keep the lower layers with
/// their weights, drop the head (and maybe the top hidden layers), add a new head, and freeze
/// what should not train.
///
/// The Keras and timm idioms map onto it:
///
///     // Keras: Model(base.input, Dense(5, activation="softmax")(base.get_layer("hidden5").output))
///     try pretrained.transfer(through: "hidden5", head: [.dense("new_outputs", units: 5, activation: "softmax")])
///     // timm: create_model("fashion-0to4-dnn", pretrained=True, num_classes=5)
///     try pretrained.transfer(classes: 5)
public struct TransferOptions: Sendable {
    /// What sits on top of the reused layers.
    public enum Head: Sendable, Equatable {
        /// Keep the pretrained classifier (fine-tune it for the same classes).
        case keep
        /// Replace it with a dense softmax layer of this many classes, named ``TransferOptions/newHeadName``.
        case new(classes: Int)
        /// Replace it with these layers (a new head of your own); the last one with weights is the head.
        case layers([LayerSpec])
    }

    /// The new head's kernel initializer (raw values: the CLI's names).
    public enum HeadInitializer: String, Sendable, CaseIterable {
        /// He normal (for ReLU/ELU heads; the seed's advice).
        case he
        /// Glorot uniform, Keras' default.
        case glorot
    }

    /// What sits on top of the reused layers (default: the pretrained head, kept).
    public var head: Head = .keep
    /// With a new head: reuse the pretrained layers from the input through this one (inclusive)
    /// and drop the rest. Nil: every layer below the pretrained head.
    public var reuseThrough: String?
    /// With a new head: drop this many of the top hidden (dense or conv) layers that would be
    /// reused, with the layers that follow them.
    public var dropLayers = 0
    /// The new head's kernel initializer.
    public var headInitializer = HeadInitializer.glorot
    /// Variables not to train: a regex matched at the start of each name (`hidden[123]`; see `NamePattern`).
    public var freeze: String?
    /// Freeze every layer below this one.
    public var freezeBelow: String?
    /// With a new head: a dropout layer of this rate (in [0, 1)) below it.
    public var dropout: Float?
    /// Override every batch-normalization layer's momentum (in [0, 1]).
    public var batchNormMomentum: Double?
    /// L1 regularization factor of the dense and conv kernels (≥ 0): adds `l1·Σ|w|` to the loss.
    public var l1: Float?
    /// L2 regularization factor of the dense and conv kernels (≥ 0): adds `l2·Σw²` to the loss.
    public var l2: Float?
    /// Seeds the initialization of new (and, with `fromScratch`, all) variables.
    public var seed: UInt64 = 42
    /// Reuse no pretrained weights: the same architecture, freshly initialized (the baseline).
    public var fromScratch = false

    /// Options that keep the pretrained head and train everything.
    public init() {}

    /// The name of the layer ``Head/new(classes:)`` adds.
    public static let newHeadName = "new_outputs"

    /// Whether `head` replaces the pretrained head.
    public var replacesHead: Bool { head != .keep }

    /// Checks every value and combination, before anything is built.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` for a value out of range or a pattern
    ///   that does not compile; ``ZooKitError/settingNeeds(_:_:)`` for `dropLayers`,
    ///   `reuseThrough` or `dropout` without a new head.
    public func validate() throws {
        switch head {
        case .keep:
            if dropLayers != 0 { throw ZooKitError.settingNeeds(.dropLayers, .head) }
            if reuseThrough != nil { throw ZooKitError.settingNeeds(.reuseThrough, .head) }
            if dropout != nil { throw ZooKitError.settingNeeds(.dropout, .head) }
        case .new(let classes):
            guard classes > 0 else { throw ZooKitError.invalidSetting(.head, problem: "needs at least 1 class, not \(classes)") }
        case .layers(let layers):
            guard !layers.isEmpty else { throw ZooKitError.invalidSetting(.head, problem: "needs at least one layer") }
        }
        guard dropLayers >= 0 else { throw ZooKitError.invalidSetting(.dropLayers, problem: "must not be negative, not \(dropLayers)") }
        if let dropout, !(dropout >= 0 && dropout < 1) {
            throw ZooKitError.invalidSetting(.dropout, problem: "must be in [0, 1), not \(dropout)")
        }
        if let batchNormMomentum, !(batchNormMomentum >= 0 && batchNormMomentum <= 1) {
            throw ZooKitError.invalidSetting(.batchNormMomentum, problem: "must be in [0, 1], not \(batchNormMomentum)")
        }
        for (setting, value) in [(ZooKitError.Setting.l1, l1), (.l2, l2)] {
            if let value, !(value >= 0 && value.isFinite) {
                throw ZooKitError.invalidSetting(setting, problem: "must be a finite number ≥ 0, not \(value)")
            }
        }
        if let freeze { _ = try NamePattern.compile(freeze, for: .freeze) }
    }
}

extension NamePattern {
    /// Compiles a pattern a setting holds.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` naming `setting` when it does not compile.
    static func compile(_ pattern: String, for setting: ZooKitError.Setting) throws -> NamePattern {
        do {
            return try NamePattern(pattern)
        } catch {
            throw ZooKitError.invalidSetting(setting, problem: "'\(pattern)' is not a valid regular expression")
        }
    }
}

/// Something a transfer does that the user should know about, though it is not an error.
public enum TransferWarning: Sendable, Equatable, CustomStringConvertible {
    /// A pattern setting that selects no variable (so it freezes or unfreezes nothing).
    case matchesNothing(ZooKitError.Setting, pattern: String)

    /// The warning, with the setting named by `name` (see ``ZooKitError/message(naming:)``).
    public func message(naming name: (ZooKitError.Setting) -> String) -> String {
        switch self {
        case .matchesNothing(let setting, let pattern):
            return "\(name(setting)) '\(pattern)' matches no variable, so it changes nothing"
        }
    }

    /// The warning in the library's terms.
    public var description: String { message(naming: \.description) }
}
