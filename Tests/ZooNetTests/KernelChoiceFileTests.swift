import Foundation
import Testing
@testable import ZooNet

/// Kernel tuning's choices kept on disk (`KernelChoiceFile`): what one process measured, the next
/// takes without measuring; per machine; a damaged file reads as empty and is replaced.
@Suite struct KernelChoiceFileTests {
    private func temporaryFile() throws -> (KernelChoiceFile, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zoonet-choices-\(UUID().uuidString)")
        return (KernelChoiceFile(url: directory.appendingPathComponent("cache/kernel-choices.json")), directory)
    }

    @Test func choicesSurviveTheProcessPerMachine() throws {
        let (file, directory) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(file.load(machine: "cpu A").isEmpty)  // no file yet
        let winograd = ConvolutionKernelChoice.Measured(kernel: .winograd, seconds: [.winograd: 1e-3, .oneDNN: 1.5e-3])
        let direct = ConvolutionKernelChoice.Measured(kernel: .ownDirect, seconds: [.ownDirect: 2e-4, .oneDNN: 3e-4])
        try file.save(["k1": winograd], machine: "cpu A")  // the directory is made
        try file.save(["k2": direct], machine: "cpu A")  // added to what the file holds
        try file.save(["k1": direct], machine: "cpu B")
        #expect(file.load(machine: "cpu A") == ["k1": winograd, "k2": direct])
        #expect(file.load(machine: "cpu B") == ["k1": direct])
        #expect(file.load(machine: "cpu C").isEmpty)
    }

    @Test func aDamagedFileReadsAsEmptyAndIsReplaced() throws {
        let (file, directory) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: file.url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{\"format\": 1, \"machines\": {\"cpu A\": [".utf8).write(to: file.url)
        #expect(file.load(machine: "cpu A").isEmpty)
        let choice = ConvolutionKernelChoice.Measured(kernel: .pixelRuns, seconds: [.pixelRuns: 1e-4, .oneDNN: 2e-4])
        try file.save(["k": choice], machine: "cpu A")
        #expect(file.load(machine: "cpu A") == ["k": choice])
        // A kernel this version does not know, or a time that is not one, drops that entry only.
        let text = """
            {"format": 1, "machines": {"cpu A": {"k": {"kernel": "pixel runs", "seconds": {"pixel runs": 1e-4}},
             "new": {"kernel": "some future kernel", "seconds": {}},
             "bad": {"kernel": "oneDNN", "seconds": {"oneDNN": -1}}}}}
            """
        try Data(text.utf8).write(to: file.url)
        #expect(file.load(machine: "cpu A") == ["k": .init(kernel: .pixelRuns, seconds: [.pixelRuns: 1e-4])])
        // Another format, or a file too large to be one, reads as empty.
        try Data(text.replacingOccurrences(of: "\"format\": 1", with: "\"format\": 2").utf8).write(to: file.url)
        #expect(file.load(machine: "cpu A").isEmpty)
        let handle = try FileHandle(forWritingTo: file.url)
        try handle.truncate(atOffset: UInt64(KernelChoiceFile.largestFile + 1))
        try handle.close()
        #expect(file.load(machine: "cpu A").isEmpty)
        // Not a regular file (a directory; a FIFO would block a read): empty, and a save throws
        // (which `saveMeasured` drops).
        try FileManager.default.removeItem(at: file.url)
        try FileManager.default.createDirectory(at: file.url, withIntermediateDirectories: true)
        #expect(file.load(machine: "cpu A").isEmpty)
        #expect(throws: (any Error).self) { try file.save(["k": choice], machine: "cpu A") }
    }

    @Test func aStoredChoiceIsTakenWithoutMeasuring() throws {
        let (file, directory) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Shapes no other test uses, so the process's table has no choice for them yet.
        let stored = ConvolutionKernelChoice.Key(
            shape: convolutionShape(height: 31, width: 43, channels: 19, outputChannels: 27, kernel: 3, stride: 1, dilation: 1,
                                    pads: (1, 1, 1, 1)),
            batch: 2, threads: 2, sum: false, candidates: [.winograd, .ownDirect, .oneDNN])
        let fresh = ConvolutionKernelChoice.Key(
            shape: convolutionShape(height: 29, width: 47, channels: 17, outputChannels: 25, kernel: 3, stride: 1, dilation: 1,
                                    pads: (1, 1, 1, 1)),
            batch: 2, threads: 2, sum: false, candidates: [.winograd, .oneDNN])
        let kept = ConvolutionKernelChoice.Measured(kernel: .ownDirect, seconds: [.winograd: 3e-3, .ownDirect: 2e-3, .oneDNN: 4e-3])
        try file.save([stored.name: kept], machine: KernelChoiceFile.machine)
        var measured = 0
        let taken = ConvolutionKernelChoice.choice(for: stored, rule: .oneDNN, file: file) {
            measured += 1
            return [.winograd: 1e-3, .ownDirect: 2e-3, .oneDNN: 3e-3]
        }
        #expect(taken == kept && measured == 0)
        // A choice measured with a file is written to it at the next save, for the next process.
        let timed = ConvolutionKernelChoice.choice(for: fresh, rule: .oneDNN, file: file) {
            measured += 1
            return [.winograd: 1e-3, .oneDNN: 2e-3]
        }
        #expect(timed.kernel == .winograd && measured == 1)
        ConvolutionKernelChoice.saveMeasured(to: file)
        #expect(file.load(machine: KernelChoiceFile.machine) == [stored.name: kept, fresh.name: timed])
    }

    /// What `zoo cache` shows and clears: choices per machine; only a choices file is removed.
    @Test func theCacheCountsAndRemovesOnlyAChoicesFile() throws {
        let (file, directory) = try temporaryFile()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(KernelChoiceCache.choiceCounts(in: file.url).isEmpty)
        #expect(try KernelChoiceCache.remove(file.url) == false)  // nothing there
        let choice = ConvolutionKernelChoice.Measured(kernel: .oneDNN, seconds: [.oneDNN: 1e-3, .winograd: 2e-3])
        try file.save(["k1": choice, "k2": choice], machine: "cpu A")
        try file.save(["k1": choice], machine: "cpu B")
        #expect(KernelChoiceCache.choiceCounts(in: file.url) == ["cpu A": 2, "cpu B": 1])
        #expect(try KernelChoiceCache.remove(file.url))
        #expect(!FileManager.default.fileExists(atPath: file.url.path))
        // A file that holds no choices (a mistaken ZOONET_TUNE_CACHE) is left alone.
        try Data("precious notes\n".utf8).write(to: file.url)
        #expect(try KernelChoiceCache.remove(file.url) == false)
        #expect(try String(contentsOf: file.url, encoding: .utf8) == "precious notes\n")
    }
}
