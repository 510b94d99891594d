import ArgumentParser
import Foundation
import ZooFormat
import ZooKit

struct AssignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Check a weights file against a registered model: which variables it fills.",
        discussion: """
            Builds MODEL's network and assigns the tensors of FILE by name, strictly: any missing, \
            unexpected or mis-shaped variable fails (exit 65) with a hint, unless --partial or \
            --scope (take only variables whose name matches the regex at its start, as TF's \
            scope="hidden[123]"). Optimizer state is skipped unless --include-optimizer. \
            Without FILE, MODEL's own weights are checked.
            """
    )

    @Argument(help: "A registered model.")
    var model: String

    @Argument(help: "The weights file (default: the model's own).")
    var file: String?

    @Flag(help: "Accept missing and unexpected tensors (still reported).")
    var partial = false

    @Option(help: ArgumentHelp("Assign only variables whose name matches this regex at its start.", valueName: "regex"))
    var scope: String?

    @Flag(help: "Assign optimizer state too.")
    var includeOptimizer = false

    @Option(help: "Tensor-name layout preset (default: the model's own mapping).")
    var layout: NameMapping.Layout?

    @Option(name: .customLong("map"), help: ArgumentHelp("REGEX=REPLACEMENT rules (repeatable; default: the model's own).", valueName: "rule"))
    var rules: [String] = []

    @Flag(help: "Skip the SHA-256 check of the model's own weights.")
    var noVerify = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        try reportingFailures {
            let entry = try registryOptions.registry.entry(named: model)
            var manifest = entry.manifest
            if layout != nil || !rules.isEmpty {
                manifest.weights.mapping = NameMapping(layout: layout ?? manifest.weights.mapping.layout, rules: rules.isEmpty ? manifest.weights.mapping.rules : rules)
            }
            let path = try file ?? entry.verifiedWeightsPath(verify: !noVerify)
            let options = AssignmentOptions(partial: partial, scope: scope, includeOptimizerState: includeOptimizer)
            do {
                let loaded = try PretrainedModel.load(manifest: manifest, weights: TensorArchive.open(path), options: options)
                print(json ? try prettyJSON(loaded.report) : loaded.report.table)
            } catch ZooKitError.assignmentFailed(let report) {
                if json { print(try prettyJSON(report)) } else { print(report.table) }
                throw ZooKitError.assignmentFailed(report)
            }
        }
    }
}
