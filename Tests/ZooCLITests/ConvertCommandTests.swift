import Foundation
import Testing

@Suite struct ConvertCommandTests {
    @Test(arguments: ["npz", "safetensors"])
    func roundTripKeepsEveryDigest(format: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let first = directory.path("first.\(format)")
        let back = directory.path("back.safetensors")
        let convert = try ZooBinary.run(["convert", CLIFixture.path("seed_small.npz"), first])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.contains("wrote 5 tensors"))
        #expect(try ZooBinary.run(["convert", first, back]).status == 0)
        let tensors = try tensorsByName(inspectJSON(["--checksums", back]))
        for (name, digest) in CLIFixture.digests {
            #expect(tensors[name]?["sha256"] as? String == digest, "\(name)")
        }
    }

    @Test func renameOnlyAndNpyOutput() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let renamed = directory.path("renamed.npz")
        let result = try ZooBinary.run([
            "convert", CLIFixture.path("seed_small.safetensors"), renamed,
            "--only", "^hidden", "--rename", #"^hidden(\d)/=layer\1/"#, "--rename", "kernel$=weight",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let tensors = try tensorsByName(inspectJSON(["--checksums", renamed]))
        #expect(Set(tensors.keys) == ["layer1/weight", "layer1/bias", "layer2/weight", "layer2/bias"])
        #expect(tensors["layer1/weight"]?["sha256"] as? String == CLIFixture.digests["hidden1/kernel"])

        let single = directory.path("kernel.npy")
        #expect(try ZooBinary.run(["convert", renamed, single, "--only", "^layer1/weight$"]).status == 0)
        let object = try inspectJSON(["--checksums", single])
        #expect((object["tensors"] as? [[String: Any]])?.first?["sha256"] as? String == CLIFixture.digests["hidden1/kernel"])
    }

    @Test(arguments: [("float16", CLIFixture.kernelFloat16Digest), ("bfloat16", CLIFixture.kernelBFloat16Digest)])
    func castMatchesNumPyAndPyTorchRounding(dtype: String, digest: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let output = directory.path("cast.safetensors")
        #expect(try ZooBinary.run(["convert", CLIFixture.path("seed_small.npz"), output, "--dtype", dtype]).status == 0)
        let tensors = try tensorsByName(inspectJSON(["--checksums", output]))
        #expect(tensors["hidden1/kernel"]?["dtype"] as? String == dtype)
        #expect(tensors["hidden1/kernel"]?["sha256"] as? String == digest)
        // Integer tensors are never cast.
        #expect(tensors["global_step"]?["dtype"] as? String == "int64")
    }

    @Test func failedConvertLeavesTheExistingOutputIntact() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let output = try directory.write("out.npy", Array("precious".utf8))
        // Five tensors cannot go into one .npy: refused before anything is written.
        let result = try ZooBinary.run(["convert", CLIFixture.path("seed_small.npz"), output])
        #expect(result.status == 64)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "precious")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["out.npy"])
    }

    @Test func compressedNpzReadsBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let output = directory.path("c.npz")
        #expect(try ZooBinary.run(["convert", CLIFixture.path("seed_small.safetensors"), output, "--compress"]).status == 0)
        let tensors = try tensorsByName(inspectJSON(["--checksums", output]))
        #expect(tensors["hidden2/kernel"]?["sha256"] as? String == CLIFixture.digests["hidden2/kernel"])
    }
}
