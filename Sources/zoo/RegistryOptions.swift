import ArgumentParser
import Foundation
import ZooKit

/// Options every registry command shares.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("registry"), help: ArgumentHelp("Use this registry folder first (default: $ZOO_REGISTRY, else $XDG_DATA_HOME/zoo; the built-in registry is always searched last).", valueName: "dir"))
    var folder: String?

    var registry: Registry { Registry.standard(root: folder) }
}

/// Renders a shape as `[28, 28, 1]`.
func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// Encodes any Encodable as pretty JSON with sorted keys.
func prettyJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
