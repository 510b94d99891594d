import ArgumentParser
import Foundation
import ZooKit
import ZooNet

/// `zoo cache`: what Zoo keeps in its cache folder, and clearing it.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show or clear what Zoo keeps in its cache: downloaded weights, digests, kernel choices.",
        discussion: """
            The cache is $XDG_CACHE_HOME/zoo (default ~/.cache/zoo): weights downloaded by `zoo fetch` \
            (weights/MODEL/), the SHA-256 digests remembered so that a file is hashed once (digests.json), and \
            the convolution kernels ZooNet picked by timing them on this CPU (kernel-choices.json, or \
            $ZOONET_TUNE_CACHE). Everything there can be made again: weights by `zoo fetch`, the rest on its own.
            """,
        subcommands: [CacheListCommand.self, CacheClearCommand.self],
        defaultSubcommand: CacheListCommand.self
    )
}

struct CacheListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the cache: each model's downloaded weights, the digests remembered, the kernel choices per machine.",
        discussion: """
            A model marked `not registered` has weights in the cache but no manifest in any registry (it was \
            removed or renamed); `zoo cache clear NAME` deletes them. --json prints an object with root, models \
            (name, files, bytes, unfinished_bytes, registered), digests (files, bytes) and kernel_choices (file, \
            this_machine, machines: name → number of choices).
            """
    )

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var registryOptions: RegistryOptions

    struct Model: Encodable {
        let name: String
        let files: [String]
        let bytes: Int
        let unfinished_bytes: Int
        let registered: Bool
    }

    struct Digests: Encodable {
        let files: Int
        let bytes: Int
    }

    struct KernelChoices: Encodable {
        let file: String?
        let this_machine: String
        let machines: [String: Int]
    }

    struct Listing: Encodable {
        let root: String
        let models: [Model]
        let digests: Digests
        let kernel_choices: KernelChoices
    }

    func run() throws {
        try reportingFailures {
            let registry = registryOptions.registry
            let cache = registry.cache
            let registered: Set<String>
            do {
                registered = Set(try registry.entries().map(\.manifest.name))
            } catch {
                printWarning("\(error); every model is listed as not registered")
                registered = []
            }
            let remembered = cache.rememberedDigests()
            let choices = KernelChoiceCache.file
            let listing = Listing(
                root: cache.root,
                models: cache.downloads().map {
                    Model(name: $0.model, files: $0.files, bytes: $0.bytes, unfinished_bytes: $0.unfinishedBytes,
                          registered: registered.contains($0.model))
                },
                digests: Digests(files: remembered.files, bytes: remembered.bytes),
                kernel_choices: KernelChoices(
                    file: choices?.path, this_machine: KernelChoiceCache.machine,
                    machines: choices.map(KernelChoiceCache.choiceCounts) ?? [:]))
            if json {
                print(try prettyJSON(listing))
            } else {
                print(text(listing))
            }
        }
    }

    private func text(_ listing: Listing) -> String {
        var lines = ["Cache: \(listing.root)"]
        if listing.models.isEmpty {
            lines.append("No downloaded weights.")
        } else {
            var table = TextTable([("MODEL", .left), ("FILES", .left), ("SIZE", .right), ("NOTE", .left)])
            for model in listing.models {
                var notes: [String] = []
                if !model.registered { notes.append("not registered") }
                if model.unfinished_bytes > 0 { notes.append("\(formatBytes(model.unfinished_bytes)) unfinished") }
                table.append([model.name, model.files.isEmpty ? "-" : model.files.joined(separator: ", "),
                              formatBytes(model.bytes), notes.joined(separator: "; ")])
            }
            lines.append(table.rendered)
            let total = listing.models.reduce(0) { $0 + $1.bytes }
            lines.append("\(listing.models.count) model\(listing.models.count == 1 ? "" : "s"), \(formatBytes(total))")
        }
        lines.append("Digests remembered: \(listing.digests.files) file\(listing.digests.files == 1 ? "" : "s")"
            + (listing.digests.bytes > 0 ? " (digests.json, \(formatBytes(listing.digests.bytes)))" : ""))
        let choices = listing.kernel_choices
        guard let file = choices.file else {
            lines.append("Kernel choices: not kept (ZOONET_TUNE_CACHE is 0 or empty, or there is no home folder)")
            return lines.joined(separator: "\n")
        }
        guard FileManager.default.fileExists(atPath: file) else {
            lines.append("Kernel choices: none yet (\(file))")
            lines.append("  this machine: \(choices.this_machine)")
            return lines.joined(separator: "\n")
        }
        let here = choices.machines[choices.this_machine] ?? 0
        let others = choices.machines.filter { $0.key != choices.this_machine }
        var line = "Kernel choices: \(file): \(here) for this machine"
        if !others.isEmpty {
            line += ", \(others.values.reduce(0, +)) for \(others.count) other\(others.count == 1 ? "" : "s")"
        }
        lines.append(line)
        lines.append("  this machine: \(choices.this_machine)")
        for (name, count) in others.sorted(by: { $0.key < $1.key }) { lines.append("  other: \(name) (\(count))") }
        return lines.joined(separator: "\n")
    }
}

struct CacheClearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear",
        abstract: "Delete downloaded weights (by model or all), the remembered digests or the kernel choices.",
        discussion: """
            `zoo cache clear NAME...` deletes those models' downloads (unfinished ones included); --weights \
            deletes every model's; --kernel-choices deletes the kernel choices file, so that networks time their \
            kernels again (only a file holding kernel choices is deleted); --all deletes all three: downloads, \
            digests.json and the kernel choices. Nothing else in the folder is touched. Exit code 66 for a NAME \
            the cache holds nothing of.
            """
    )

    @Argument(help: "Models whose downloaded weights to delete.")
    var models: [String] = []

    @Flag(help: "Delete every model's downloaded weights.")
    var weights = false

    @Flag(help: "Delete the kernel choices file (kernels are timed again where ZooNet tunes them).")
    var kernelChoices = false

    @Flag(help: "Delete the downloaded weights, the remembered digests and the kernel choices.")
    var all = false

    func validate() throws {
        guard !models.isEmpty || weights || kernelChoices || all else {
            throw ValidationError("Say what to clear: model names, --weights, --kernel-choices or --all.")
        }
    }

    func run() throws {
        try reportingFailures {
            let cache = Registry.standard().cache
            let present = cache.downloads()
            let unknown = models.filter { name in !present.contains { $0.model == name } }
            if !unknown.isEmpty {
                let cached = present.isEmpty ? "it holds no downloads" : "it holds " + present.map(\.model).joined(separator: ", ")
                printError("\(cache.root): no downloaded weights of \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (\(cached))")
                throw ExitCode(66)
            }
            let doomed = weights || all ? present.map(\.model) : models
            var deleted: [String] = []
            var freed = 0
            for model in doomed {
                guard let removed = try cache.removeDownloads(of: model) else { continue }
                freed += removed.bytes
                deleted.append("\(cache.root)/weights/\(model) (\(formatBytes(removed.bytes)))")
            }
            if all, try cache.removeRememberedDigests() {
                deleted.append("\(cache.root)/digests.json")
            }
            if kernelChoices || all, let file = KernelChoiceCache.file {
                if try removeChoices(file) {
                    deleted.append(file.path)
                } else if FileManager.default.fileExists(atPath: file.path) {
                    printWarning("\(file.path) holds no kernel choices; left as it is")
                }
            }
            for path in deleted { print("Deleted \(path)") }
            if deleted.isEmpty { print("Nothing to delete in \(cache.root).") }
            if freed > 0 { print("Freed \(formatBytes(freed)) of downloads.") }
        }
    }

    private func removeChoices(_ file: URL) throws -> Bool {
        do {
            return try KernelChoiceCache.remove(file)
        } catch {
            throw ZooKitError.cacheNotWritable(path: file.path, reason: (error as NSError).localizedDescription)
        }
    }
}
