import Foundation
import Testing

/// `zoo cache` and `zoo cache clear` on a cache folder of the test's own (`XDG_CACHE_HOME`).
@Suite struct CacheCommandTests {
    /// A cache with two models' downloads (one unfinished), remembered digests, kernel choices for
    /// two machines and a file of the user's that Zoo did not write.
    private func makeCache(_ directory: TemporaryDirectory) throws -> (environment: [String: String], root: String) {
        let root = directory.path("cache/zoo")
        func write(_ text: String, _ relative: String) throws {
            let path = root + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
        try write(String(repeating: "w", count: 2048), "weights/old-model/w.safetensors")
        try write(String(repeating: "p", count: 100), "weights/seed/w.h5.part")
        try write("{}", "digests.json")
        let choice = #"{"kernel": "oneDNN", "seconds": {"oneDNN": 0.001}}"#
        try write(#"{"format": 1, "machines": {"cpu A": {"k1": \#(choice), "k2": \#(choice)}, "cpu B": {"k1": \#(choice)}}}"#,
                  "kernel-choices.json")
        try write("mine", "notes.txt")
        return (["XDG_CACHE_HOME": directory.path("cache"), "ZOO_REGISTRY": directory.path("registry")], root)
    }

    @Test func listsWhatTheCacheHolds() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (environment, root) = try makeCache(directory)
        let listed = try ZooBinary.run(["cache", "--json"], environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        #expect(object["root"] as? String == root)
        let models = try #require(object["models"] as? [[String: Any]])
        #expect(models.map { $0["name"] as? String } == ["old-model", "seed"])
        #expect(models.map { $0["bytes"] as? Int } == [2048, 100])
        #expect(models.map { $0["unfinished_bytes"] as? Int } == [0, 100])
        #expect(models.map { $0["files"] as? [String] } == [["w.safetensors"], []])
        #expect(models.map { $0["registered"] as? Bool } == [false, false])
        let choices = try #require(object["kernel_choices"] as? [String: Any])
        #expect(choices["file"] as? String == root + "/kernel-choices.json")
        #expect(choices["machines"] as? [String: Int] == ["cpu A": 2, "cpu B": 1])

        let text = try ZooBinary.run(["cache", "list"], environment: environment)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("old-model  w.safetensors  2.0 KiB  not registered"), "\(text.stdout)")
        #expect(text.stdout.contains("100 B unfinished"), "\(text.stdout)")
        #expect(text.stdout.contains("Kernel choices: \(root)/kernel-choices.json: 0 for this machine, 3 for 2 others"), "\(text.stdout)")

        let none = try ZooBinary.run(["cache"], environment: environment.merging(["ZOONET_TUNE_CACHE": "0"]) { $1 })
        #expect(none.stdout.contains("Kernel choices: not kept (ZOONET_TUNE_CACHE is 0"), "\(none.stdout)")
    }

    @Test func clearsOnlyWhatItIsAskedTo() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (environment, root) = try makeCache(directory)
        let manager = FileManager.default

        let nothing = try ZooBinary.run(["cache", "clear"], environment: environment)
        #expect(nothing.status == 64)
        #expect(nothing.stderr.contains("Say what to clear"), "\(nothing.stderr)")
        let unknown = try ZooBinary.run(["cache", "clear", "old-model", "nope"], environment: environment)
        #expect(unknown.status == 66)
        #expect(unknown.stderr.contains("no downloaded weights of 'nope' (it holds old-model, seed)"), "\(unknown.stderr)")
        #expect(manager.fileExists(atPath: root + "/weights/old-model"))  // nothing deleted when a name is wrong

        let one = try ZooBinary.run(["cache", "clear", "old-model"], environment: environment)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.contains("Freed 2.0 KiB of downloads."), "\(one.stdout)")
        #expect(!manager.fileExists(atPath: root + "/weights/old-model"))
        #expect(manager.fileExists(atPath: root + "/weights/seed/w.h5.part"))

        // A ZOONET_TUNE_CACHE naming a file that holds no choices: left alone, with a warning.
        let other = directory.path("not-choices.txt")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: other))
        let refused = try ZooBinary.run(["cache", "clear", "--kernel-choices"], environment: environment.merging(["ZOONET_TUNE_CACHE": other]) { $1 })
        #expect(refused.status == 0, "\(refused.stderr)")
        #expect(refused.stderr.contains("holds no kernel choices; left as it is"), "\(refused.stderr)")
        #expect(manager.fileExists(atPath: other))

        let all = try ZooBinary.run(["cache", "clear", "--all"], environment: environment)
        #expect(all.status == 0, "\(all.stderr)")
        for gone in ["weights/seed", "digests.json", "kernel-choices.json"] {
            #expect(!manager.fileExists(atPath: root + "/" + gone), "\(gone)")
        }
        #expect(manager.fileExists(atPath: root + "/notes.txt"))  // not Zoo's
        let again = try ZooBinary.run(["cache", "clear", "--all"], environment: environment)
        #expect(again.status == 0 && again.stdout == "Nothing to delete in \(root).\n", "\(again.stdout)")
    }
}
