import ArgumentParser
import Foundation
import ZooKit
import ZooNet

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a registered model's card: architecture, input, labels, weights, provenance, metrics."
    )

    @Argument(help: "The model's name.")
    var name: String

    @Flag(help: "Print the manifest as JSON.")
    var json = false

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        try reportingFailures {
            let entry = try registryOptions.registry.entry(named: name)
            let manifest = entry.manifest
            if json {
                print(String(decoding: try manifest.encoded(), as: UTF8.self), terminator: "")
                return
            }
            var lines = [
                "\(manifest.name) \(manifest.version): \(manifest.summary)",
                "  task:          \(manifest.task)" + (manifest.tags.isEmpty ? "" : " (tags: \(manifest.tags.joined(separator: ", ")))"),
                "  input:         \(shapeText(manifest.input.shape)), " + inputText(manifest.input),
                "  labels:        " + (manifest.labels.count <= 12 ? manifest.labels.joined(separator: ", ")
                    : manifest.labels.prefix(8).joined(separator: ", ") + ", … (\(manifest.labels.count) in all; --json lists them)"),
                "  parameters:    \(formatCount(try manifest.parameterCount()))",
                "  architecture:",
            ]
            lines += try architectureLines(manifest)
            let weights = manifest.weights
            lines += [
                "  weights:       \(weights.file) (\(weights.format.rawValue), \(formatBytes(weights.bytes))), \(entry.hasWeights ? "on this machine" : "not downloaded")",
                "  sha256:        \(weights.sha256)",
                "  mapping:       layout \(weights.mapping.layout.rawValue)" + (weights.mapping.rules.isEmpty ? "" : ", rules \(weights.mapping.rules.joined(separator: "; "))"),
                "  provenance:    \(weights.provenance.framework) \(weights.provenance.frameworkVersion)"
                    + (weights.provenance.script.map { ", script \($0)" } ?? "") + (weights.provenance.created.map { ", \($0)" } ?? ""),
                "  license:       \(manifest.license)",
            ]
            if let url = weights.url { lines.append("  url:           \(url)") }
            for (key, value) in manifest.metrics.sorted(by: { $0.key < $1.key }) { lines.append("  \(key): \(value)") }
            lines.append("  location:      \(entry.directory)")
            print(lines.joined(separator: "\n"))
        }
    }
}

extension ShowCommand {
    /// A chain: one line per layer with its settings. A graph: its size, kinds, inputs,
    /// outputs, branch points, head and cut.
    func architectureLines(_ manifest: ModelManifest) throws -> [String] {
        let graph = manifest.architecture
        if let layers = graph.chainLayers {
            return try layers.map { layer in
                let head = layer.name == manifest.head ? "  ← head" : ""
                return "    \(layer.name) (\(layer.kind))" + (try settingsText(layer.layer).map { ": " + $0 } ?? "") + head
            }
        }
        var kinds: [String: Int] = [:]
        var consumers: [String: Int] = [:]
        for node in graph.nodes {
            kinds[node.layer.kind, default: 0] += 1
            for input in Set(node.inputs) { consumers[input, default: 0] += 1 }
        }
        let branchPoints = consumers.values.filter { $0 > 1 }.count
        let kindText = kinds.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        return [
            "    graph of \(graph.nodes.count) nodes, \(branchPoints) branch points: \(kindText)",
            "    inputs: " + graph.inputs.map { "\($0.name) \(shapeText($0.shape))" }.joined(separator: ", ")
                + "; outputs: " + graph.outputs.joined(separator: ", "),
            "    head: \(manifest.head)" + (manifest.featureNode.map { "; a new head goes on \($0)" } ?? ""),
        ]
    }

    /// `units 100, activation elu, …`: the layer's JSON settings, kind left out; nil if it has none.
    private func settingsText(_ layer: LayerConfig) throws -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let object = try JSONSerialization.jsonObject(with: encoder.encode(layer)) as? [String: Any] ?? [:]
        let parts = object.filter { $0.key != "kind" }.sorted { $0.key < $1.key }.map { key, value -> String in
            let text = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            return "\(key) \(text.replacingOccurrences(of: "\"", with: ""))"
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}

extension ShowCommand {
    /// `pictures: resize 256, center crop 224; preprocessing: BGR, x·0.0078 − 0.99, (x − mean) / std per channel`.
    func inputText(_ input: InputSpec) -> String {
        var parts: [String] = []
        if let image = input.image {
            var steps: [String] = []
            switch image.resize {
            case .shorterSide(let side)?: steps.append("shorter side to \(side)")
            case .size(let height, let width)?: steps.append("resize to \(height)×\(width)")
            case nil: break
            }
            if let crop = image.crop { steps.append("center crop \(crop.map(String.init).joined(separator: "×"))") }
            if !steps.isEmpty { parts.append("pictures: " + steps.joined(separator: ", ")) }
        }
        let p = input.preprocessing
        var steps: [String] = []
        if p.channelOrder == .bgr { steps.append("RGB → BGR") }
        if p.scale != 1 || p.offset != 0 {
            steps.append("x·\(p.scale)" + (p.offset == 0 ? "" : (p.offset < 0 ? " − \(-p.offset)" : " + \(p.offset)")))
        }
        if let mean = p.mean { steps.append("− mean \(mean)") }
        if let std = p.std { steps.append("÷ std \(std)") }
        parts.append("preprocessing " + (steps.isEmpty ? "none" : steps.joined(separator: ", ")))
        return parts.joined(separator: "; ")
    }
}
