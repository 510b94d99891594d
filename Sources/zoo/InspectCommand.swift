import ArgumentParser
import ZooFormat

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors of a weights file: name, dtype, shape, size.",
        discussion: """
            The format is detected from the file's magic bytes. --json prints one object: \
            {"file", "format", "metadata", "tensors": [{"name", "dtype", "shape", "bytes", ...}], \
            "tensor_count", "parameters", "total_bytes"}.

            A TensorFlow checkpoint is named by its prefix (train/model.ckpt), its .index, or its \
            directory (the latest in its 'checkpoint' file); optimizer state is marked \
            "role": "optimizer". PyTorch files (.pt, .pth, .bin; zip or legacy format) are read \
            without running their pickle: only tensor rebuilders and OrderedDict are allowed, \
            nested dicts become dotted names (model_state.fc.weight), other values metadata.
            """
    )

    @Argument(help: "The weights file (.npy, .npz, .safetensors, .pt/.pth/.bin) or TensorFlow checkpoint (prefix, .index or directory).")
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
            if json {
                print(try archive.inspectJSON(options).prettyText)
            } else {
                print(try table(archive, options))
            }
        }
    }

    private func table(_ archive: TensorArchive, _ options: InspectOptions) throws -> String {
        var columns: [(String, TextTable.Alignment)] = [("NAME", .left), ("DTYPE", .left), ("SHAPE", .left), ("SIZE", .right)]
        if options.statistics { columns += [("MIN", .right), ("MAX", .right), ("MEAN", .right), ("STD", .right)] }
        if options.checksums { columns.append(("SHA256", .left)) }
        var table = TextTable(columns)
        for tensor in archive.tensors {
            var row = [tensor.name, tensor.dtype.name, "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]", formatBytes(tensor.byteCount)]
            if options.statistics {
                if tensor.dtype.isNumeric, let statistics = try TensorStatistics(tensor) {
                    row += [statistics.minimum, statistics.maximum, statistics.mean, statistics.standardDeviation].map(formatNumber)
                } else {
                    row += ["-", "-", "-", "-"]
                }
            }
            if options.checksums { row.append(try tensor.sha256()) }
            table.append(row)
        }
        var lines = ["\(archive.file) (\(archive.format.name))"]
        for (key, value) in archive.metadata.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(key): \(value)")
        }
        lines.append(table.rendered)
        let noun = archive.tensors.count == 1 ? "tensor" : "tensors"
        lines.append("\(archive.tensors.count) \(noun), \(formatCount(archive.elementCount)) parameters, \(formatBytes(archive.byteCount))")
        return lines.joined(separator: "\n")
    }
}
