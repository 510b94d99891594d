import ArgumentParser
import Foundation
import ZooKit

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read every byte of a weights file (or a registered model's) and check every checksum it carries.",
        discussion: """
            Checks what the format carries: the zip CRC-32 of every member (.npz, .keras, PyTorch), \
            TensorFlow's CRC-32C of every index block and tensor, HDF5's fletcher32 of checksummed \
            chunks, and for a registered model the SHA-256 its manifest records. Prints what it \
            checked and every tensor that failed. Exit code 0 when everything is intact, 65 otherwise.
            """
    )

    @Argument(help: "A weights file (any format zoo reads; a TensorFlow checkpoint by prefix, .index or directory) or a registered model's name.")
    var target: String

    @OptionGroup var registryOptions: RegistryOptions

    func run() throws {
        try reportingFailures {
            let report: VerificationReport
            if FileManager.default.fileExists(atPath: target) || TensorFileTarget.looksLikeCheckpointPrefix(target) {
                report = try TensorArchive.verify(target)
            } else {
                report = try registryOptions.registry.entry(named: target).verify()
            }
            print("\(report.file) (\(report.format.name)): \(report.isValid ? "intact" : "DAMAGED")")
            for check in report.checks { print("  checked: \(check)") }
            for failure in report.failures { print("  failed: \(failure.message)") }
            if !report.isValid {
                printError("\(report.file): \(report.failures.count) problem\(report.failures.count == 1 ? "" : "s") found")
                throw ExitCode(65)
            }
        }
    }
}

/// How a command tells a file argument from a model name.
enum TensorFileTarget {
    /// `train/model.ckpt`: a TensorFlow checkpoint prefix (no file by that name, but its `.index`).
    static func looksLikeCheckpointPrefix(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + ".index")
    }
}
