import Foundation
import Testing
@testable import ZooKit

/// The download cache as `zoo cache` sees it: each model's downloads, removing them, and the
/// remembered digests, which keep only files that still exist as they were digested.
@Suite struct WeightsCacheTests {
    private func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func listsAndRemovesEachModelsDownloads() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let cache = temporary.registry.cache
        #expect(cache.downloads().isEmpty)  // no cache folder yet
        try write("0123456789", to: cache.path(model: "alpha", file: "w.safetensors"))
        try write("01234", to: cache.path(model: "alpha", file: "next.pt.part"))
        try write("0123456", to: cache.root + "/weights/beta/.pip/pkg-1.0-py3-none-any.whl")
        // Outside the cache, reached by a link named like a model: neither listed nor removed.
        try write("keep", to: temporary.root + "/outside/w.bin")
        try FileManager.default.createSymbolicLink(atPath: cache.root + "/weights/gamma", withDestinationPath: temporary.root + "/outside")
        #expect(cache.downloads() == [
            .init(model: "alpha", files: ["w.safetensors"], bytes: 15, unfinishedBytes: 5),
            .init(model: "beta", files: [], bytes: 7, unfinishedBytes: 7),
        ])
        #expect(try cache.removeDownloads(of: "gamma") == nil)
        #expect(try cache.removeDownloads(of: "../outside") == nil)
        #expect(try cache.removeDownloads(of: "missing") == nil)
        #expect(FileManager.default.fileExists(atPath: temporary.root + "/outside/w.bin"))
        #expect(try cache.removeDownloads(of: "alpha")?.bytes == 15)
        #expect(!FileManager.default.fileExists(atPath: cache.root + "/weights/alpha"))
        #expect(cache.downloads().map(\.model) == ["beta"])
    }

    @Test func rememberedDigestsKeepOnlyFilesAsTheyWere() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let cache = temporary.registry.cache
        let (a, b, c) = (temporary.root + "/a.bin", temporary.root + "/b.bin", temporary.root + "/c.bin")
        for path in [a, b, c] { try write(path, to: path) }
        // SHA-256 of the text "abc": the digest is the file's.
        try write("abc", to: c)
        #expect(try cache.digest(of: c) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        _ = try cache.digest(of: a)
        _ = try cache.digest(of: b)
        #expect(cache.rememberedDigests().files == 3)
        try FileManager.default.removeItem(atPath: a)  // gone
        try write("changed", to: b)  // another size: its digest is stale
        _ = try cache.digest(of: c)  // remembered: nothing is written
        #expect(cache.loadDigests().count == 3)
        let d = temporary.root + "/d.bin"
        try write("d", to: d)
        _ = try cache.digest(of: d)  // a new digest: the file is written without the stale ones
        #expect(Set(cache.loadDigests().keys) == Set([c, d].map { URL(fileURLWithPath: $0).standardizedFileURL.path }))
        #expect(try cache.removeRememberedDigests())
        #expect(cache.rememberedDigests().files == 0)
        #expect(try cache.removeRememberedDigests() == false)
        // A digest file too large to be one, or not a regular file, is not read.
        try write("{}", to: cache.digestsFile)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: cache.digestsFile))
        try handle.truncate(atOffset: UInt64(WeightsCache.largestDigestFile + 1))
        try handle.close()
        #expect(cache.loadDigests().isEmpty)
        #expect(try cache.digest(of: d) == "18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4")
    }
}
