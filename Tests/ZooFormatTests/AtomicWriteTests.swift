import Foundation
import Testing
@testable import ZooFormat

/// `AtomicWrite`: the one way Zoo replaces a file (temporary beside it, fsync, rename).
@Suite struct AtomicWriteTests {
    func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func replacesWholeFilesAndLeavesNoTemporary() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/a.bin"
        try AtomicWrite.write(Array("first version, longer".utf8), to: path)
        try AtomicWrite.write(Array("second".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("second".utf8))
        try AtomicWrite.copy(path, to: folder + "/b.bin")
        #expect(FileManager.default.contents(atPath: folder + "/b.bin") == Data("second".utf8))
        // A file finished elsewhere (a download's .part) is synced and renamed into place.
        try Data("downloaded".utf8).write(to: URL(fileURLWithPath: folder + "/c.bin.part"))
        try AtomicWrite.commit(folder + "/c.bin.part", to: folder + "/c.bin")
        #expect(FileManager.default.contents(atPath: folder + "/c.bin") == Data("downloaded".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["a.bin", "b.bin", "c.bin"])
        // mkstemp's 0600 is widened to what the umask allows, as any new file.
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions.map { $0 & 0o644 == 0o644 } == true)
    }

    @Test func failuresAreTypedAndNameTheFile() throws {
        let error = try #require(throws: FormatError.self) { try AtomicWrite.write([1], to: "/nonexistent-zoo-folder/x.bin") }
        #expect(error.file == "/nonexistent-zoo-folder/x.bin")
        #expect(error.exitCode == 73)
        #expect(error.description.contains("cannot create a temporary file in /nonexistent-zoo-folder"))
        #expect(throws: FormatError.self) { try AtomicWrite.copy("/nonexistent-zoo-file", to: "/tmp/zoo-never") }
        let missing = try #require(throws: FormatError.self) { try AtomicWrite.commit("/nonexistent-zoo-file.part", to: "/tmp/zoo-never") }
        #expect(missing.description == "/tmp/zoo-never: cannot write: open /nonexistent-zoo-file.part: No such file or directory")
    }
}
