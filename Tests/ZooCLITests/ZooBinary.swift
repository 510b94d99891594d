import Foundation

/// Runs the built `zoo` binary and captures its output and exit status.
struct ZooBinary {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The `zoo` executable beside the test bundle (SwiftPM builds it because
    /// this test target depends on it), or `$ZOO_BIN`.
    static let url: URL = {
        if let path = ProcessInfo.processInfo.environment["ZOO_BIN"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("zoo")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/zoo")
    }()

    /// The cache folder every run gets as `XDG_CACHE_HOME` (one per test process, removed at its
    /// exit), so that the tests neither read nor write the user's downloads, remembered digests
    /// and kernel choices.
    static let cacheHome: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-cli-cache-\(UUID().uuidString)").path
        atexit { try? FileManager.default.removeItem(atPath: ZooBinary.cacheHome) }
        return path
    }()

    /// The environment `zoo` runs in: ours, but for `XDG_CACHE_HOME` (`cacheHome`, and no
    /// `ZOONET_TUNE_CACHE`) and whatever `overrides` sets.
    static func environment(_ overrides: [String: String] = [:]) -> [String: String] {
        var variables = ProcessInfo.processInfo.environment
        variables["XDG_CACHE_HOME"] = cacheHome
        variables.removeValue(forKey: "ZOONET_TUNE_CACHE")
        return variables.merging(overrides) { $1 }
    }

    /// Runs `zoo` with `arguments`, in `directory` if given, in `environment(overrides)`.
    static func run(_ arguments: [String], in directory: URL? = nil, environment overrides: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment(overrides)
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}
