import Foundation
import Testing
import ZooKit

@Suite struct ManifestTests {
    static func valid() -> ModelManifest {
        ModelManifest(
            name: "tiny", summary: "a test", task: "classification", license: "MIT",
            input: InputSpec(shape: [4]), labels: ["a", "b"],
            architecture: [.dense("hidden1", units: 3, activation: "relu"), .dense("outputs", units: 2, activation: "softmax")],
            head: "outputs",
            weights: WeightsSpec(file: "w.safetensors", format: .safetensors, sha256: String(repeating: "0", count: 64), bytes: 10,
                                 mapping: NameMapping(), provenance: Provenance(framework: "numpy", frameworkVersion: "2.4")))
    }

    @Test func roundTripsThroughJSON() throws {
        let manifest = Self.valid()
        let decoded = try ModelManifest.decode(try manifest.encoded(), file: "m.json")
        #expect(decoded == manifest)
        #expect(try decoded.parameterCount() == 4 * 3 + 3 + 3 * 2 + 2)
    }

    /// Each broken manifest names the file and the key.
    @Test(arguments: [
        ("drop:labels", "labels", "missing"),
        ("set:head=nowhere", "head", "no layer named 'nowhere'"),
        ("set:name=../evil", "name", "not a valid model name"),
        ("set:sha256=xyz", "weights.sha256", "expected 64 hex digits"),
        ("set:file=../../etc/passwd", "weights.file", "plain file name"),
        ("set:layer=transformer", "architecture[1]", "the engine has no 'transformer' layer"),
        ("set:schema=2", "schema", "newer than this zoo understands"),
        ("set:units=-3", "architecture[0]", "units must be positive"),
        ("set:layout=jax", "weights.mapping.layout", "invalid String value jax"),
        ("set:format=zip", "weights.format", "invalid String value zip"),
    ])
    func brokenManifests(change: String, key: String, problem: String) throws {
        var object = try #require(JSONSerialization.jsonObject(with: try Self.valid().encoded()) as? [String: Any])
        var weights = object["weights"] as! [String: Any]
        var layers = object["architecture"] as! [[String: Any]]
        switch change {
        case "drop:labels": object["labels"] = nil
        case "set:head=nowhere": object["head"] = "nowhere"
        case "set:name=../evil": object["name"] = "../evil"
        case "set:sha256=xyz": weights["sha256"] = "xyz"
        case "set:file=../../etc/passwd": weights["file"] = "../../etc/passwd"
        case "set:layer=transformer": layers[1]["type"] = "transformer"
        case "set:schema=2": object["schema"] = 2
        case "set:units=-3": layers[0]["units"] = -3
        case "set:layout=jax": weights["mapping"] = ["layout": "jax", "rules": [String]()]
        case "set:format=zip": weights["format"] = "zip"
        default: Issue.record("unknown change")
        }
        object["weights"] = weights
        object["architecture"] = layers
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = try #require(throws: ZooKitError.self) { try ModelManifest.decode(data, file: "reg/tiny/manifest.json") }
        guard case .badManifest(let file, let foundKey, let foundProblem) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == "reg/tiny/manifest.json")
        #expect(foundKey == key)
        #expect(foundProblem.contains(problem), "\(foundProblem)")
        #expect(error.exitCode == 65)
    }

    @Test func notJSONAtAll() throws {
        let error = try #require(throws: ZooKitError.self) { try ModelManifest.decode(Data("{oops".utf8), file: "m.json") }
        guard case .badManifest(let file, _, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(file == "m.json")
    }
}
