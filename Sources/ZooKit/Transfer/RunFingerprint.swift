import Crypto
import Foundation
import ZooNet

/// What identifies a fine-tuning run, so that `--resume` (or `FineTuneOptions.resume`) only
/// continues a checkpoint of the same run: every setting that changes training, the network
/// it starts from and the data it trains on.
///
/// The settings are derived from the values themselves, not from a list of flags: every
/// stored property of `TransferOptions` and `FineTuneOptions` (with its `OptimizerSettings`),
/// found by reflection, as `path = value` (`optimizer.momentum = 0.9`), so a setting added
/// later is covered without anyone remembering to add it here. Left out, because they do not
/// change what an epoch computes: where the checkpoint goes, whether to resume, where the
/// TensorBoard logs go, and the
/// number of epochs (a resumed run may be extended), except under the 1cycle schedule, whose
/// shape depends on it. The network is identified by its layer specs and the values of its
/// variables before training (pretrained weights and the new head's initialization), the data
/// by the SHA-256 of its inputs, labels and sample shape.
public struct RunFingerprint: Sendable, Equatable {
    /// `setting path → value` (`optimizer.learningRate → 0.001`, `data.training → sha256…`).
    public let settings: [String: String]

    /// Settings of the options that do not change what training computes.
    static let excluded: Set<String> = ["checkpoint", "resume", "epochs", "tensorBoard"]

    /// A fingerprint of these settings (as a checkpoint records them).
    public init(settings: [String: String]) {
        self.settings = settings
    }

    /// The fingerprint of training `transfer` (as built, before any training) on `training`
    /// (validated on `validation`) with `options`.
    public init(transfer: TransferNetwork, training: LabeledData, validation: LabeledData?, options: FineTuneOptions) {
        var settings: [String: String] = [:]
        Self.flatten(transfer.options, prefix: "transfer", into: &settings)
        Self.flatten(options, prefix: "", into: &settings)
        if options.optimizer.schedule == .oneCycle { settings["epochs"] = String(options.epochs) }
        settings["network.specs"] = Self.digest(String(describing: transfer.specs))
        var network = SHA256()
        for variable in transfer.network.variables {
            network.update(data: Data("\(variable.name)\(variable.shape)".utf8))
            variable.values.withUnsafeBytes { network.update(bufferPointer: $0) }
        }
        settings["network.variables"] = Self.hex(network.finalize())
        settings["data.training"] = Self.digest(training)
        settings["data.validation"] = validation.map(Self.digest) ?? "none"
        self.settings = settings
    }

    /// The hex SHA-256 of the settings in canonical form (sorted `path=value` lines).
    public var digest: String {
        Self.digest(settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"))
    }

    /// The settings whose values differ from `recorded` (or are missing from one side),
    /// each as `path: value in the checkpoint → value now`.
    public func differences(from recorded: [String: String]) -> [String] {
        Set(settings.keys).union(recorded.keys).sorted().compactMap { key in
            let now = settings[key]
            let then = recorded[key]
            guard now != then else { return nil }
            return "\(key): \(then ?? "absent") in the checkpoint, \(now ?? "absent") now"
        }
    }

    /// The settings as one JSON object (what a checkpoint records).
    var json: String {
        let object = JSONValue.object(settings.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        return object.compactText
    }

    /// The settings recorded as `json`, or nil when `text` is not such an object.
    static func settings(fromJSON text: String) -> [String: String]? {
        guard let value = try? JSONParser.parse(text), let members = value.objectMembers else { return nil }
        var settings: [String: String] = [:]
        for (key, item) in members {
            guard let string = item.stringValue else { return nil }
            settings[key] = string
        }
        return settings
    }

    /// Every stored property of `value`, recursively, as `prefix.path → description`.
    static func flatten(_ value: Any, prefix: String, into settings: inout [String: String]) {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .struct, .class:
            for child in mirror.children {
                guard let label = child.label else { continue }
                let path = prefix.isEmpty ? label : prefix + "." + label
                if excluded.contains(path) { continue }
                flatten(child.value, prefix: path, into: &settings)
            }
        case .optional:
            if let wrapped = mirror.children.first { flatten(wrapped.value, prefix: prefix, into: &settings) } else { settings[prefix] = "none" }
        default:
            settings[prefix] = String(describing: value)
        }
    }

    private static func digest(_ data: LabeledData) -> String {
        var hash = SHA256()
        data.inputs.withUnsafeBytes { hash.update(bufferPointer: $0) }
        data.labels.withUnsafeBytes { hash.update(bufferPointer: $0) }
        hash.update(data: Data("\(data.sampleShape)".utf8))
        return hex(hash.finalize())
    }

    private static func digest(_ text: String) -> String { hex(SHA256.hash(data: Data(text.utf8))) }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
