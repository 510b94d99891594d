import Foundation
import Testing

/// `zoo fine-tune`, `evaluate` and `predict` on the seed fixture network and synthetic data.
@Suite struct TransferCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// A CSV of two learnable classes with 20 features (label first).
    func writeData(_ directory: TemporaryDirectory) throws -> String {
        var lines: [String] = []
        for sample in 0..<60 {
            let label = sample % 2
            let features = (0..<20).map { feature in String(Double(label * 2 - 1) * Double(feature % 3 + 1) + Double((sample * 7 + feature * 13) % 10) / 10) }
            lines.append(([String(label)] + features).joined(separator: ","))
        }
        let path = directory.path("data.csv")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func fineTuneEvaluatePredict() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let data = try writeData(directory)
        let model = Self.fixtures + "/keras/seed_k2_model.h5"
        let registry = ["--registry", directory.path("reg")]
        let tuned = try ZooBinary.run([
            "fine-tune", model, "--data", data, "--val-split", "0.25", "--new-head", "2", "--freeze", "hidden|bn",
            "--epochs", "20", "--batch-size", "16", "--save-as", "tuned", "--out", directory.path("tuned.safetensors"), "--json",
        ] + registry)
        #expect(tuned.status == 0, "\(tuned.stderr)")
        let summary = try #require(JSONSerialization.jsonObject(with: Data(tuned.stdout.utf8)) as? [String: Any])
        // --val-split 0.25 of 30 per class rounds to 8 per class.
        #expect(summary["trainingSamples"] as? Int == 44)
        #expect(summary["validationSamples"] as? Int == 16)
        #expect((summary["cachedLayers"] as? [Int]) == [6])
        #expect((summary["validation"] as? [String: Any])?["accuracy"] as? Double ?? 0 > 0.9)

        let evaluated = try ZooBinary.run(["evaluate", "tuned", "--data", data, "--json"] + registry)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        #expect(report["samples"] as? Int == 60)
        #expect((report["confusion"] as? [[Int]])?.joined().reduce(0, +) == 60)

        let inputs = directory.path("x.npy")
        #expect(try ZooBinary.run(["convert", Self.fixtures + "/keras/seed_input.npy", inputs]).status == 0)
        let predicted = try ZooBinary.run(["predict", model, "--input", inputs, "--out", directory.path("y.npy")] + registry)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        #expect(predicted.stdout.contains("wrote [4, 10] outputs"))
        let logits = try ZooBinary.run(["predict", "tuned", "--input", inputs, "--out", directory.path("z.npy"), "--logits"] + registry)
        #expect(logits.stdout.contains("wrote [4, 2] logits"), "\(logits.stderr)")
    }

    @Test(arguments: [
        (["--new-head", "0"], Int32(64), "--new-head needs at least 1 class"),
        (["--freeze", ".*"], 64, "every variable is frozen"),
        (["--new-head", "2", "--freeze-below", "nowhere"], 64, "--freeze-below 'nowhere': no such layer (layers: hidden1, bn1"),
        (["--drop-layers", "1"], 64, "--drop-layers needs --new-head"),
        (["--resume"], 64, "--resume needs --checkpoint"),
    ])
    func badRequests(extra: [String], status: Int32, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let result = try ZooBinary.run(["fine-tune", Self.fixtures + "/keras/seed_k2_model.h5", "--data", try writeData(directory), "--epochs", "1", "--registry", directory.path("reg")] + extra)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    /// Hyperparameters out of range are bad arguments (64), named by their flags, found before any training.
    @Test(arguments: [
        (["--lr=-1"], "--lr must be a finite number ≥ 0, not -1.0"),
        (["--schedule", "exponential", "--decay-steps", "0"], "--decay-steps must be positive, not 0"),
        (["--schedule", "exponential", "--decay-rate", "0"], "--decay-rate must be a finite number > 0, not 0.0"),
        (["--bn-momentum", "5"], "--bn-momentum must be in [0, 1], not 5.0"),
        (["--l2=-1"], "--l2 must be a finite number ≥ 0, not -1.0"),
        (["--clip-norm=-1"], "--clip-norm must be a finite number > 0, not -1.0"),
        (["--patience=-1"], "--patience must not be negative, not -1"),
        (["--unfreeze-after=-1"], "--unfreeze-after must not be negative, not -1"),
        (["--unfreeze", "hidden"], "--unfreeze needs --unfreeze-after"),
        (["--unfreeze-after", "1", "--unfreeze", "["], "--unfreeze '[' is not a valid regular expression"),
        (["--freeze", "hidden["], "--freeze 'hidden[' is not a valid regular expression"),
        (["--dropout", "0.5"], "--dropout needs --new-head"),
        (["--new-head", "2", "--dropout", "1.5"], "--dropout must be in [0, 1), not 1.5"),
        (["--new-head", "2", "--labels", "a,b,c"], "--labels names 3 classes, --new-head has 2"),
        (["--per-class", "0"], "--per-class must be positive, not 0"),
        (["--epochs", "0"], "--epochs must be positive, not 0"),
        (["--val-split", "0.2", "--val-per-class", "3"], "--val-split and --val-per-class exclude each other"),
    ])
    func badHyperparameters(extra: [String], message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let result = try ZooBinary.run(["fine-tune", Self.fixtures + "/keras/seed_k2_model.h5", "--data", try writeData(directory), "--epochs", "1", "--registry", directory.path("reg")] + extra)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr == "zoo: error: \(message)\n")
    }

    @Test func labelsOutOfRangeForAKeptHead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try "12,\(Array(repeating: "0", count: 20).joined(separator: ","))\n".write(toFile: directory.path("d.csv"), atomically: true, encoding: .utf8)
        let result = try ZooBinary.run(["fine-tune", Self.fixtures + "/keras/seed_k2_model.h5", "--data", directory.path("d.csv"), "--epochs", "1", "--registry", directory.path("reg")])
        #expect(result.status == 64)
        #expect(result.stderr.contains("label 12 is out of range for a head of 10 classes"))
    }
}

/// A run killed with SIGKILL leaves its last complete checkpoint readable.
@Suite struct InterruptedRunTests {
    @Test func killedRunLeavesAValidCheckpoint() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        var lines: [String] = []
        for sample in 0..<2000 {
            lines.append(([String(sample % 3)] + (0..<20).map { String(Double((sample * 31 + $0 * 17) % 100) / 50 - 1) }).joined(separator: ","))
        }
        let data = directory.path("data.csv")
        try (lines.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let checkpoint = directory.path("run.safetensors")
        let process = Process()
        process.executableURL = ZooBinary.url
        process.environment = ZooBinary.environment()
        process.arguments = [
            "fine-tune", TransferCommandTests.fixtures + "/keras/seed_k2_model.h5", "--data", data, "--new-head", "3",
            "--epochs", "100000", "--batch-size", "8", "--no-cache", "--checkpoint", checkpoint, "--quiet",
            "--registry", directory.path("reg"),
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Let it write a few checkpoints, then kill it mid-epoch.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint), Date() < deadline { usleep(50_000) }
        usleep(300_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let inspected = try ZooBinary.run(["inspect", checkpoint, "--json"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any])
        let epoch = Int((object["metadata"] as? [String: String])?["zoo_epoch"] ?? "")
        #expect(epoch != nil)
        let names = ((object["tensors"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        #expect(names.filter { !$0.hasPrefix("optimizer/") }.count == 14)
        // Adam's m and v for each of the 10 trainable variables, and its step count.
        #expect(names.filter { $0.hasPrefix("optimizer/") }.count == 20)
        #expect(Int((object["metadata"] as? [String: String])?["zoo_iterations"] ?? "") != nil)
    }
}
