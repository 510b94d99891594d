import ArgumentParser
import Foundation
import ZooKit

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a model on labeled data: accuracy, loss, per-class accuracy, confusion matrix.",
        discussion: "DATA as for fine-tune (a directory of IDX files is read as its t10k test split; a DIR/<class>/<picture> folder goes through the model's image settings, classes in sorted order). The model's preprocessing is applied."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("Labeled data.", valueName: "path"))
    var data: String

    @Option(help: ArgumentHelp("Which split of an IDX directory: test (t10k) or train.", valueName: "split"))
    var split: String = "test"

    @OptionGroup var dataOptions: DataOptions

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        try reportingFailures {
            guard let which = split == "test" ? DataLoader.Split.test : split == "train" ? .train : nil else {
                throw ZooKitError.invalidRequest("--split must be test or train")
            }
            let model = try modelOptions.reference.load(registry: registryOptions.registry)
            let images = try? ImagePipeline(input: model.manifest.input)  // for a folder of pictures
            let raw = try DataLoader.load(data, split: which, images: images).preprocessed(model.manifest.input.preprocessing)
            let data = try dataOptions.selection.apply(to: raw).training
            let labels = dataOptions.classes == nil ? model.manifest.labels : dataOptions.labels(from: model.manifest.labels)
            let report = try Evaluation.evaluate(model.network, on: data, labels: labels)
            if json {
                print(try prettyJSON(report))
                return
            }
            print("\(model.manifest.name) on \(report.samples) samples of \(data.source): accuracy \(String(format: "%.4f", report.accuracy)), loss \(String(format: "%.4f", report.loss))")
            var table = TextTable([("CLASS", .left), ("ACCURACY", .right)] + report.labels.indices.map { ("→\($0)", TextTable.Alignment.right) })
            for (index, row) in report.confusion.enumerated() {
                table.append(["\(index) \(report.labels[index])", report.perClassAccuracy[index].map { String(format: "%.4f", $0) } ?? "-"] + row.map(String.init))
            }
            print(table.rendered)
        }
    }
}
