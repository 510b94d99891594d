import Foundation
import ZooFormat
import ZooNet

/// The version of Zoo's libraries and command line, recorded in the provenance of what they make.
public enum ZooVersion {
    /// Semantic version of this checkout.
    public static let current = "0.1.0"
}

extension Registry {
    /// Registers a trained transfer network as a model of the writable registry: its layers and
    /// head, its weights (safetensors, named as the network names its variables), labels and
    /// metrics; the rest (task, input, preprocessing, license) comes from the model it was made from.
    ///
    /// Like ``Importer/run(_:registry:)``, the entry is checked completely (every variable gets
    /// its tensor) and written atomically under the registry's lock.
    /// - Parameters:
    ///   - transfer: the trained network.
    ///   - name: the new model's name (letters, digits, `.`, `_`, `-`).
    ///   - base: the manifest of the pretrained model it was made from.
    ///   - labels: the class names, one per output (nil or a count that does not fit: the output numbers).
    ///   - metrics: measured figures to record (`test_accuracy`, `test_loss`, …).
    ///   - force: replace a model of the same name (default).
    /// - Returns: the new entry.
    /// - Throws: ``ZooKitError/invalidSetting(_:problem:)`` for an invalid name,
    ///   ``ZooKitError/alreadyRegistered(name:path:)`` without `force`,
    ///   ``ZooKitError/registryNotWritable(path:reason:)``.
    @discardableResult
    public func register(
        _ transfer: TransferNetwork, as name: String, basedOn base: ModelManifest, labels: [String]? = nil,
        metrics: [String: Double] = [:], force: Bool = true
    ) throws -> RegistryEntry {
        var manifest = base
        manifest.architecture = NetworkDescription(chain: transfer.specs, inputShape: transfer.inputShape)
        manifest.head = transfer.head
        manifest.cut = nil
        return try register(transfer.network, manifest: manifest, as: name, basedOn: base, labels: labels, metrics: metrics, force: force)
    }

    /// Registers a trained graph transfer network (``GraphTransfer``) as a model of the writable
    /// registry: its graph, with the new head's activation made softmax so that the model
    /// outputs probabilities as a classifier does (the values trained are the same), its cut
    /// node the feature node the head was put on, its weights, labels and metrics; the rest
    /// comes from the model it was made from.
    /// - Parameters:
    ///   - transfer: the trained graph transfer network.
    ///   - name: the new model's name (letters, digits, `.`, `_`, `-`).
    ///   - base: the manifest of the pretrained model it was made from.
    ///   - labels: the class names, one per output (nil or a count that does not fit: the output numbers).
    ///   - metrics: measured figures to record.
    ///   - force: replace a model of the same name (default).
    /// - Throws: as that, and `ZooKitError.architecture` for a network with a layer that has no `LayerConfig`.
    @discardableResult
    public func register(
        _ transfer: GraphTransfer, as name: String, basedOn base: ModelManifest, labels: [String]? = nil,
        metrics: [String: Double] = [:], force: Bool = true
    ) throws -> RegistryEntry {
        var manifest = base
        do {
            manifest.architecture = try transfer.network.networkDescription()
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: name, reason: error.description)
        }
        if let index = manifest.architecture.nodes.firstIndex(where: { $0.name == transfer.head }) {
            manifest.architecture.nodes[index].layer = manifest.architecture.nodes[index].layer.with(activation: .softmax)
        }
        manifest.input.shape = transfer.network.inputShape
        manifest.head = transfer.head
        manifest.cut = transfer.featureNode
        return try register(transfer.network, manifest: manifest, as: name, basedOn: base, labels: labels, metrics: metrics, force: force)
    }

    /// Writes `network`'s weights (safetensors) beside `manifest` through ``Importer``.
    private func register(
        _ network: Network, manifest: ModelManifest, as name: String, basedOn base: ModelManifest, labels: [String]?,
        metrics: [String: Double], force: Bool
    ) throws -> RegistryEntry {
        let classes = network.outputShape.last ?? 0
        var manifest = manifest
        manifest.name = name
        manifest.labels = labels.flatMap { $0.count == classes ? $0 : nil } ?? (0..<classes).map(String.init)

        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-register-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw ZooKitError.registryNotWritable(path: staging, reason: (error as NSError).localizedDescription)
        }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let weights = staging + "/" + name + ".safetensors"
        try network.saveWeights(to: weights, format: .safetensors, metadata: ["zoo_fine_tuned_from": base.name])

        var request = ImportRequest(file: weights, name: name)
        request.architecture = .manifest(manifest)
        request.mapping = NameMapping(layout: .none)
        request.labels = manifest.labels
        request.summary = "\(base.name) fine-tuned by Zoo"
        request.task = base.task
        request.license = base.license
        request.metrics = metrics
        request.provenance = Provenance(framework: "zoo", frameworkVersion: ZooVersion.current, script: nil, source: nil, created: Self.today())
        request.force = force
        return try Importer.run(request, registry: self).entry
    }

    /// Today's date, ISO 8601 (`2026-11-21`), as provenance records it.
    static func today() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date())
    }
}
