import Foundation

/// The registries Zoo searches, in order: the user's (`$ZOO_REGISTRY`, a
/// colon-separated list, or else `$XDG_DATA_HOME/zoo`, default
/// `~/.local/share/zoo`), then the built-in one shipped in the repository's
/// `registry/` folder. A model in an earlier registry hides one of the same
/// name in a later one. New models are imported into the first user registry.
public struct Registry: Sendable {
    /// The folders searched, in order.
    public let roots: [String]
    /// The folder `zoo import` writes to.
    public let writableRoot: String
    /// The built-in registry, if found.
    public let builtInRoot: String?
    /// The download cache.
    public let cache: WeightsCache

    /// A registry from explicit folders (tests; `standard(environment:root:)` reads them from the environment).
    /// - Parameters:
    ///   - roots: the folders searched, in order.
    ///   - writableRoot: where imports go.
    ///   - builtInRoot: the built-in registry, if any.
    ///   - cache: the download cache.
    public init(roots: [String], writableRoot: String, builtInRoot: String?, cache: WeightsCache) {
        self.roots = roots
        self.writableRoot = writableRoot
        self.builtInRoot = builtInRoot
        self.cache = cache
    }

    /// The registry set up from the environment (see the type's documentation).
    /// - Parameters:
    ///   - environment: the variables to read (`ZOO_REGISTRY`, `XDG_DATA_HOME`, `XDG_CACHE_HOME`,
    ///     `HOME`, `ZOO_BUILTIN_REGISTRY`); default: the process's.
    ///   - root: use this folder as the user's registry instead of `$ZOO_REGISTRY` or
    ///     `$XDG_DATA_HOME/zoo`: it is searched first (the built-in registry last) and imports
    ///     are written into it (`zoo --registry DIR`).
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment, root: String? = nil) -> Registry {
        let home = environment["HOME"] ?? NSHomeDirectory()
        var user: [String]
        if let root {
            user = [root]
        } else if let list = environment["ZOO_REGISTRY"], !list.isEmpty {
            user = list.split(separator: ":").map(String.init)
        } else {
            let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share"
            user = [data + "/zoo"]
        }
        let builtIn = locateBuiltIn(environment: environment)
        let cacheRoot = (environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache") + "/zoo"
        var roots = user
        if let builtIn, !roots.contains(builtIn) { roots.append(builtIn) }
        return Registry(roots: roots, writableRoot: user[0], builtInRoot: builtIn, cache: WeightsCache(root: cacheRoot))
    }

    /// `$ZOO_BUILTIN_REGISTRY`, else `registry/` of the checkout the `zoo` binary was built in.
    static func locateBuiltIn(environment: [String: String]) -> String? {
        // An explicit choice is taken as it is, even if the folder does not exist (then it is empty).
        if let path = environment["ZOO_BUILTIN_REGISTRY"], !path.isEmpty { return path }
        var candidates: [String] = []
        // .build/<triple>/<config>/zoo or .build/<config>/zoo → the package root.
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("registry").path)
        }
        // The source checkout this library was compiled from.
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("registry").path)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/README.md") || FileManager.default.fileExists(atPath: $0 + "/models") }
    }

    /// Every model of every registry (the first of each name), sorted by name.
    /// - Throws: `ZooKitError.badManifest` for a manifest that does not parse.
    public func entries() throws -> [RegistryEntry] {
        var seen: Set<String> = []
        var result: [RegistryEntry] = []
        for root in roots {
            for entry in try Self.scan(root, builtIn: root == builtInRoot, cache: cache) where seen.insert(entry.manifest.name).inserted {
                result.append(entry)
            }
        }
        return result.sorted { $0.manifest.name < $1.manifest.name }
    }

    /// The model called `name`.
    /// - Throws: `ZooKitError.unknownModel` with the closest name as a hint.
    public func entry(named name: String) throws -> RegistryEntry {
        let all = try entries()
        if let found = all.first(where: { $0.manifest.name == name }) { return found }
        throw ZooKitError.unknownModel(name: name, hint: closestModelName(name, all.map(\.manifest.name)), searched: roots)
    }

    /// The model called `name`, built with its pretrained weights assigned (digest checked).
    public func load(_ name: String, options: AssignmentOptions = AssignmentOptions()) throws -> PretrainedModel {
        try PretrainedModel.load(try entry(named: name), options: options)
    }

    /// Manifests are `ROOT/NAME/manifest.json`, or `ROOT/models/NAME/manifest.json` in the built-in registry.
    static func scan(_ root: String, builtIn: Bool, cache: WeightsCache) throws -> [RegistryEntry] {
        let manager = FileManager.default
        var folders: [String] = []
        for base in [root, root + "/models"] {
            guard let names = try? manager.contentsOfDirectory(atPath: base) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                let folder = base + "/" + name
                if manager.fileExists(atPath: folder + "/manifest.json") { folders.append(folder) }
            }
        }
        return try folders.map { folder in
            let file = folder + "/manifest.json"
            guard let data = manager.contents(atPath: file) else {
                throw ZooKitError.badManifest(file: file, key: "", problem: "cannot be read")
            }
            return RegistryEntry(manifest: try ModelManifest.decode(data, file: file), directory: folder, isBuiltIn: builtIn, cache: cache)
        }
    }
}

/// A name that starts like `name` (or that `name` starts like), else the closest by edit distance.
func closestModelName(_ name: String, _ names: [String]) -> String? {
    names.first { $0.hasPrefix(name) || name.hasPrefix($0) } ?? closestName(to: name, among: names)
}

/// One registered model: its manifest and where it lives.
public struct RegistryEntry: Sendable {
    /// The model's manifest.
    public let manifest: ModelManifest
    /// The folder holding `manifest.json`.
    public let directory: String
    /// Whether it comes from the built-in registry shipped with Zoo.
    public let isBuiltIn: Bool
    let cache: WeightsCache

    /// Where the weights file is: beside the manifest, else in the download cache.
    public var weightsPath: String {
        let beside = directory + "/" + manifest.weights.file
        if FileManager.default.fileExists(atPath: beside) { return beside }
        return cache.path(model: manifest.name, file: manifest.weights.file)
    }

    /// Whether the weights are on this machine (beside the manifest or cached).
    public var hasWeights: Bool { FileManager.default.fileExists(atPath: weightsPath) }

    /// The weights file, its SHA-256 checked against the manifest (the digest of a
    /// file is remembered per path, size and modification time, so it is computed once).
    /// - Throws: ``ZooKitError/weightsNotFetched(model:)`` (``Fetcher/fetch(_:progress:pip:)`` downloads them), ``ZooKitError/weightsMissing(model:path:)``, ``ZooKitError/digestMismatch(file:expected:found:)``.
    public func verifiedWeightsPath(verify: Bool = true) throws -> String {
        let path = weightsPath
        guard FileManager.default.fileExists(atPath: path) else {
            if manifest.weights.url != nil || manifest.weights.source != nil { throw ZooKitError.weightsNotFetched(model: manifest.name) }
            throw ZooKitError.weightsMissing(model: manifest.name, path: path)
        }
        if verify {
            let digest = try cache.digest(of: path)
            guard digest == manifest.weights.sha256.lowercased() else {
                throw ZooKitError.digestMismatch(file: path, expected: manifest.weights.sha256, found: digest)
            }
        }
        return path
    }
}
