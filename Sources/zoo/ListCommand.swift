import ArgumentParser
import Foundation
import ZooKit

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the registered models.",
        discussion: "PATTERN is a glob on model names (`fashion-*`). --json prints a list of objects with name, task, params, input_shape, classes, format, bytes, cached, tags, registry."
    )

    @Argument(help: "Only models whose name matches this glob.")
    var pattern: String?

    @Option(name: .customLong("tag"), help: "Only models with this tag (repeatable: all must match).")
    var tags: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var registryOptions: RegistryOptions

    struct Row: Encodable {
        let name: String
        let task: String
        let params: Int
        let input_shape: [Int]
        let classes: Int
        let format: String
        let bytes: Int
        let cached: Bool
        let tags: [String]
        let registry: String
    }

    func run() throws {
        try reportingFailures {
            let registry = registryOptions.registry
            let rows = try registry.entries().filter { entry in
                (pattern.map { fnmatch($0, entry.manifest.name, 0) == 0 } ?? true) && tags.allSatisfy(entry.manifest.tags.contains)
            }.map { entry in
                Row(name: entry.manifest.name, task: entry.manifest.task, params: try entry.manifest.parameterCount(),
                    input_shape: entry.manifest.input.shape, classes: entry.manifest.labels.count, format: entry.manifest.weights.format.rawValue,
                    bytes: entry.manifest.weights.bytes, cached: entry.hasWeights, tags: entry.manifest.tags,
                    registry: entry.isBuiltIn ? "built-in" : (entry.directory as NSString).deletingLastPathComponent)
            }
            if json {
                print(try prettyJSON(rows))
                return
            }
            var table = TextTable([("NAME", .left), ("TASK", .left), ("PARAMS", .right), ("INPUT", .left), ("CLASSES", .right), ("FORMAT", .left), ("SIZE", .right), ("CACHED", .left)])
            for row in rows {
                table.append([row.name, row.task, formatCount(row.params), shapeText(row.input_shape), String(row.classes), row.format, formatBytes(row.bytes), row.cached ? "yes" : "no"])
            }
            print(table.rendered)
            print("\(rows.count) model\(rows.count == 1 ? "" : "s") in \(registry.roots.joined(separator: ", "))")
        }
    }
}
