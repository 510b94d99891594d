import ArgumentParser
import ZooFormat
import ZooKit

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors of a weights file: name, dtype, shape, size.",
        discussion: """
            The format is detected from the file's magic bytes. --json prints one object: \
            {"file", "format", "metadata", "tensors": [{"name", "dtype", "shape", "bytes", ...}], \
            "skipped", "tensor_count", "parameters", "total_bytes"}. Keras files list tensors by \
            their canonical names (hidden1/kernel), with "path" giving where each sits in the file.

            A Keras model file also gets a summary of its graph (inputs, outputs, layer classes, \
            branch points, shared layers) and, when some layers cannot run on Zoo's engine, one \
            line naming them grouped by class; --json adds "model": the flattened graph.

            A TensorFlow checkpoint is named by its prefix (train/model.ckpt), its .index, or its \
            directory (the latest in its 'checkpoint' file); optimizer state is marked \
            "role": "optimizer". PyTorch files (.pt, .pth, .bin; zip or legacy format) are read \
            without running their pickle: only tensor rebuilders and OrderedDict are allowed, \
            nested dicts become dotted names (model_state.fc.weight), other values metadata.
            """
    )

    @Argument(help: "The weights file (.npy, .npz, .safetensors, HDF5 / Keras .h5, .weights.h5, .keras, .pt/.pth/.bin, IDX, any of them .gz) or TensorFlow checkpoint (prefix, .index or directory).")
    var file: String

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "Add each tensor's SHA-256 (of its elements in the stored dtype, little-endian, C order).")
    var checksums = false

    @Flag(help: "Add each tensor's min, max, mean and standard deviation.")
    var stats = false

    func run() throws {
        try reportingFailures {
            let archive = try TensorArchive.open(file)
            let options = InspectOptions(checksums: checksums, statistics: stats)
            let (inspected, unreadable) = try archive.inspect(options)
            if json {
                var report = try archive.inspectJSON(options, inspection: (inspected, unreadable))
                // What the engine cannot run, grouped by class (the catalog lives in ZooKit).
                if let graph = try archive.kerasGraph(), case .object(var members) = report,
                   let index = members.firstIndex(where: { $0.key == "model" }), case .object(var model) = members[index].value {
                    var unsupported: [JSONValue] = []
                    do {
                        _ = try KerasModelImporter.description(of: graph, inputShapes: graph.inputs.map { $0.shape.map { $0 ?? 1 } })
                    } catch ZooKitError.unsupportedLayers(let layers) {
                        unsupported = layers.groups.map { group in
                            .object([("class", .string(group.className)), ("layers", .array(group.layers.map(JSONValue.string))),
                                     ("reason", .string(group.reason))])
                        }
                    }
                    model.append(("unsupported", .array(unsupported)))
                    members[index].value = .object(model)
                    report = .object(members)
                }
                print(report.prettyText)
            } else {
                print(try table(archive, inspected, unreadable, options))
            }
            // Datasets that could not be read (an HDF5 chunk failing its checksum, a missing filter):
            // the rest of the file is fine, so this is a warning, not a failure (`zoo verify` fails).
            let failed = archive.skipped.filter { $0.name != nil } + unreadable
            if !failed.isEmpty {
                let noun = failed.count == 1 ? "dataset" : "datasets"
                printWarning("\(file): \(failed.count) \(noun) cannot be read (listed as skipped): " + failed.map(\.path).joined(separator: ", "))
            }
        }
    }

    private func table(_ archive: TensorArchive, _ inspected: [InspectedTensor], _ unreadable: [SkippedEntry], _ options: InspectOptions) throws -> String {
        var columns: [(String, TextTable.Alignment)] = [("NAME", .left), ("DTYPE", .left), ("SHAPE", .left), ("SIZE", .right)]
        if options.statistics { columns += [("MIN", .right), ("MAX", .right), ("MEAN", .right), ("STD", .right)] }
        if options.checksums { columns.append(("SHA256", .left)) }
        var table = TextTable(columns)
        for item in inspected {
            let tensor = item.tensor
            var row = [tensor.name, tensor.dtype.name, "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]", formatBytes(tensor.byteCount)]
            if options.statistics {
                if let statistics = item.statistics {
                    row += [statistics.minimum, statistics.maximum, statistics.mean, statistics.standardDeviation].map(formatNumber)
                } else {
                    row += ["-", "-", "-", "-"]
                }
            }
            if let digest = item.sha256 { row.append(digest) }
            table.append(row)
        }
        var lines = ["\(archive.file) (\(archive.format.name))"]
        for (key, value) in archive.metadata.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(key): \(value)")
        }
        if let graph = try archive.kerasGraph() {
            lines += graph.summary.map { "  " + $0 }
            do {
                _ = try KerasModelImporter.description(of: graph, inputShapes: graph.inputs.map { $0.shape.map { $0 ?? 1 } })
            } catch let error as ZooKitError {
                lines.append("  \(error.description)")
            }
        }
        for entry in archive.skipped + unreadable { lines.append("  skipped \(entry.path): \(entry.reason)") }
        lines.append(table.rendered)
        let noun = inspected.count == 1 ? "tensor" : "tensors"
        let elements = inspected.reduce(0) { $0 + $1.tensor.elementCount }
        let bytes = inspected.reduce(0) { $0 + $1.tensor.byteCount }
        lines.append("\(inspected.count) \(noun), \(formatCount(elements)) parameters, \(formatBytes(bytes))")
        return lines.joined(separator: "\n")
    }
}
