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
        ("set:mean=3", "input.preprocessing", "mean has 3 values for 4 channels"),
        ("set:std=0", "input.preprocessing", "std values must be finite and > 0"),
        ("set:order=hsv", "input.preprocessing.channel_order", "invalid String value hsv"),
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
        case "set:mean=3": object["input"] = ["shape": [4], "preprocessing": ["scale": 1, "offset": 0, "mean": [1, 2, 3]]]
        case "set:std=0": object["input"] = ["shape": [4], "preprocessing": ["scale": 1, "offset": 0, "std": [1, 1, 0, 1]]]
        case "set:order=hsv": object["input"] = ["shape": [4], "preprocessing": ["scale": 1, "offset": 0, "channel_order": "hsv"]]
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

    /// Keras' `imagenet_utils.preprocess_input` (Keras 3.15) on the pixels [255, 128, 0] and
    /// [10, 20, 30]: "torch" (x/255, ImageNet mean/std), "caffe" (BGR, mean subtracted) and
    /// "tf" (x/127.5 − 1) as manifest preprocessing give Keras' values.
    @Test(arguments: [
        ("torch", Preprocessing(scale: 1.0 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
         [2.248908281326294, 0.20518219470977783, -1.804444432258606, -1.9466564655303955, -1.6855741739273071, -1.2815686464309692]),
        ("caffe", Preprocessing(mean: [103.939, 116.779, 123.68], channelOrder: .bgr),
         [-103.93900299072266, 11.221000671386719, 131.32000732421875, -73.93900299072266, -96.77899932861328, -113.68000030517578]),
        ("tf", Preprocessing(scale: 1.0 / 127.5, offset: -1),
         [1.0, 0.003921627998352051, -1.0, -0.9215686321258545, -0.843137264251709, -0.7647058963775635]),
    ])
    func preprocessingMatchesKeras(_ mode: String, _ preprocessing: Preprocessing, _ want: [Double]) throws {
        let data = LabeledData(inputs: [255, 128, 0, 10, 20, 30], sampleShape: [1, 2, 3], labels: [0], source: "pixels")
        let got = data.preprocessed(preprocessing).inputs
        #expect(zip(got, want).allSatisfy { abs(Double($0) - $1) <= 1e-5 * (1 + abs($1)) }, "\(mode): \(got)")
        let manifest = try JSONDecoder().decode(Preprocessing.self, from: JSONEncoder().encode(preprocessing))
        #expect(manifest == preprocessing)
    }
}
