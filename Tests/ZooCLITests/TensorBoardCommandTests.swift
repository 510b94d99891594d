import Foundation
import Testing
import ZooFormat

/// `zoo fine-tune --tensorboard`: a run killed with SIGKILL and continued with --resume logs
/// every epoch once, in the run folder it started.
@Suite struct TensorBoardCommandTests {
    /// Epochs of each tag in a run folder's event files, read record by record.
    func steps(in run: String) throws -> [String: [Int64]] {
        var steps: [String: [Int64]] = [:]
        for split in ["train", "validation"] {
            for file in EventFileReader.eventFiles(in: run + "/" + split) {
                for event in try EventFileReader.events(at: file) {
                    guard case .summary(let values) = event.content else { continue }
                    for value in values { steps[split + " " + value.tag, default: []].append(event.step) }
                }
            }
        }
        return steps
    }

    @Test func killedAndResumedRunLogsEveryEpochOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        var lines: [String] = []
        for sample in 0..<1500 {
            lines.append(([String(sample % 3)] + (0..<20).map { String(Double((sample * 31 + $0 * 17) % 100) / 50 - 1 + Double(sample % 3) * 0.2) }).joined(separator: ","))
        }
        let data = directory.path("data.csv")
        try (lines.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let checkpoint = directory.path("run.safetensors")
        let epochs = 8
        let arguments = [
            "fine-tune", TransferCommandTests.fixtures + "/keras/seed_k2_model.h5", "--data", data, "--val-split", "0.2",
            "--new-head", "3", "--epochs", String(epochs), "--unfreeze-after", "4", "--batch-size", "4", "--no-cache",
            "--checkpoint", checkpoint, "--tensorboard", directory.path("logs"), "--quiet", "--registry", directory.path("reg"),
        ]
        let process = Process()
        process.executableURL = ZooBinary.url
        process.environment = ZooBinary.environment()
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once its checkpoint holds epoch 1 or later, mid-training.
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline {
            if let epoch = (try? TensorArchive.open(checkpoint))?.metadata["zoo_epoch"].flatMap(Int.init), epoch >= 1 { break }
            usleep(10_000)
        }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()

        let resumed = try ZooBinary.run(arguments + ["--resume", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = try #require(JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
        let run = try #require(summary["tensorBoardRun"] as? String)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path("logs")) == [URL(fileURLWithPath: run).lastPathComponent])
        let logged = try steps(in: run)
        #expect(Set(logged.keys) == ["train epoch_loss", "train epoch_accuracy", "train epoch_learning_rate", "train epoch_phase",
                                     "validation epoch_loss", "validation epoch_accuracy"])
        for (tag, steps) in logged { #expect(steps == (0..<Int64(epochs)).map { $0 }, "\(tag)") }
        if killed { #expect(EventFileReader.eventFiles(in: run + "/train").count == 2) }
    }
}
