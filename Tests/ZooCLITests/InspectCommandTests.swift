import Foundation
import Testing

/// Values from Tests/Fixtures/cli/make_cli_fixtures.py (numpy 2.4, safetensors 0.8).
enum CLIFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cli")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let digests = [
        "hidden1/kernel": "f77e46901ccda267e905444eb3e40856e56e43e7569db371d7d274eef06dafe5",
        "hidden1/bias": "6854bbbb6b67c034b669c4bbb2910d5cf11082cf72d8624ec91c6cffcff757bb",
        "hidden2/kernel": "f1eb41156b3da7adf9233065d2b4b03aef94580743aecf25dddceafb6469d953",
        "hidden2/bias": "374708fff7719dd5979ec875d56cd2286f6d3cf7ec317a3b25632aab28ec37bb",
        "global_step": "1af2444c165b8d6156651aa4f8dc49e6302f690473e80304fdfdb73baa9140c7",
    ]
    static let kernelFloat16Digest = "d192bf83efd847671a5f3b713dc6e91dda9584eb61d5b9d3ec9f1b40813147db"
    static let kernelBFloat16Digest = "470fe8f54263af19e26ab51ca708e7c40e15833a47f2752193e41bf8bdb001fd"
}

/// The `inspect --json` object, decoded loosely.
func inspectJSON(_ arguments: [String]) throws -> [String: Any] {
    let result = try ZooBinary.run(["inspect", "--json"] + arguments)
    #expect(result.status == 0, "stderr: \(result.stderr)")
    return try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
}

func tensorsByName(_ object: [String: Any]) throws -> [String: [String: Any]] {
    let tensors = try #require(object["tensors"] as? [[String: Any]])
    return Dictionary(uniqueKeysWithValues: tensors.map { ($0["name"] as! String, $0) })
}

@Suite struct InspectCommandTests {
    @Test func tableListsTensorsAndTotals() throws {
        let result = try ZooBinary.run(["inspect", CLIFixture.path("seed_small.safetensors")])
        #expect(result.status == 0)
        #expect(result.stdout.contains("(safetensors)"))
        #expect(result.stdout.contains("framework: numpy"))
        let kernelLine = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("hidden1/kernel ") })
        #expect(kernelLine.contains("float32"))
        #expect(kernelLine.contains("[8, 6]"))
        #expect(kernelLine.contains("192 B"))
        // 48 + 6 + 24 + 4 + 1 elements; 4·82 + 8 bytes.
        #expect(result.stdout.contains("5 tensors, 83 parameters, 336 B"))
    }

    @Test(arguments: ["seed_small.safetensors", "seed_small.npz"])
    func jsonContract(file: String) throws {
        let object = try inspectJSON(["--checksums", CLIFixture.path(file)])
        #expect(object["file"] as? String == CLIFixture.path(file))
        #expect(object["format"] as? String == (file.hasSuffix(".npz") ? "npz" : "safetensors"))
        #expect(object["metadata"] is [String: Any])
        let tensors = try tensorsByName(object)
        #expect(Set(tensors.keys) == Set(CLIFixture.digests.keys))
        for (name, digest) in CLIFixture.digests {
            #expect(tensors[name]?["sha256"] as? String == digest, "\(name)")
        }
        let kernel = try #require(tensors["hidden1/kernel"])
        #expect(kernel["dtype"] as? String == "float32")
        #expect(kernel["shape"] as? [Int] == [8, 6])
        #expect(kernel["bytes"] as? Int == 192)
        let step = try #require(tensors["global_step"])
        #expect(step["dtype"] as? String == "int64")
        #expect(step["shape"] as? [Int] == [])
        #expect(object["parameters"] as? Int == 83)
    }

    @Test func bigEndianFortranGivesTheLittleEndianCOrderDigest() throws {
        let object = try inspectJSON(["--checksums", CLIFixture.path("kernel_be_fortran.npy")])
        let tensor = try #require((object["tensors"] as? [[String: Any]])?.first)
        #expect(tensor["name"] as? String == "kernel_be_fortran")
        #expect(tensor["sha256"] as? String == CLIFixture.digests["hidden1/kernel"])
    }

    @Test func statisticsMatchNumPy() throws {
        let tensors = try tensorsByName(inspectJSON(["--stats", CLIFixture.path("seed_small.npz")]))
        let kernel = try #require(tensors["hidden1/kernel"])
        // numpy: min, max of the float32 array; mean, std of it as float64.
        // (Foundation's JSON parser on Linux may be off in the last digit: compare to 1e-12.)
        #expect(abs((kernel["min"] as? Double ?? 0) - Double(Float(-1.9510351))) < 1e-12)
        #expect(abs((kernel["max"] as? Double ?? 0) - Double(Float(2.1416476))) < 1e-12)
        #expect(abs((kernel["mean"] as? Double ?? 0) - 0.07945956122906257) < 1e-12)
        #expect(abs((kernel["std"] as? Double ?? 0) - 0.7714929154183277) < 1e-12)
        #expect(tensors["global_step"]?["mean"] as? Double == 1234)
    }
}
