import ArgumentParser
import Foundation
import ZooKit

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
                "  input:         \(shapeText(manifest.input.shape)), preprocessing x·\(manifest.input.preprocessing.scale) + \(manifest.input.preprocessing.offset)",
                "  labels:        \(manifest.labels.joined(separator: ", "))",
                "  parameters:    \(formatCount(try manifest.parameterCount()))",
                "  architecture:",
            ]
            for layer in manifest.architecture {
                var details: [String] = []
                if let units = layer.units { details.append("units \(units)") }
                if let activation = layer.activation { details.append(activation) }
                if let momentum = layer.momentum { details.append("momentum \(momentum)") }
                if let alpha = layer.alpha { details.append("alpha \(alpha)") }
                if let rate = layer.rate { details.append("rate \(rate)") }
                if let filters = layer.filters { details.append("\(filters) filters \(layer.kernelSize ?? [])") }
                let head = layer.name == manifest.head ? "  ← head" : ""
                lines.append("    \(layer.name) (\(layer.type))" + (details.isEmpty ? "" : ": " + details.joined(separator: ", ")) + head)
            }
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
