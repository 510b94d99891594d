import Foundation
import Testing
import ZooFormat

/// `zoo predict MODEL PICTURE... --top K` on a small Keras CNN (8×8 gray input, 3 classes)
/// imported into a temporary registry.
@Suite struct ImagePredictCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    func zoo(_ arguments: [String], registry: TemporaryDirectory) throws -> ZooBinary.Result {
        try ZooBinary.run(arguments + ["--registry", registry.path("reg")])
    }

    func importCNN(_ directory: TemporaryDirectory) throws {
        let imported = try zoo(["import", Self.fixture("keras/cnn_k2_model.h5"), "--name", "cnn", "--labels", "circle,square,triangle"], registry: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
    }

    /// The printed values are the model's outputs on PIL's `convert("L").resize((8, 8), BILINEAR)`
    /// of the photo (`predict_8x8_L.npy`, run through `--input`), ranked.
    @Test func topLabelsPerPicture() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try importCNN(directory)
        let chelsea = Self.fixture("images/chelsea.png")
        let result = try zoo(["predict", "cnn", chelsea, "--top", "2"], registry: directory)
        #expect(result.status == 0, "\(result.stderr)")

        let reference = try zoo(["predict", "cnn", "--input", Self.fixture("images/predict_8x8_L.npy"), "--out", directory.path("y.npy")], registry: directory)
        #expect(reference.status == 0, "\(reference.stderr)")
        let outputs = try TensorArchive.open(directory.path("y.npy")).tensors[0].floats()
        let labels = ["circle", "square", "triangle"]
        let ranked = outputs.indices.sorted { outputs[$0] > outputs[$1] }
        let expected = "\(chelsea)\n" + (0..<2).map { rank in
            "  \(rank + 1)  \(String(format: "%.4f", outputs[ranked[rank]]))  \(labels[ranked[rank]])\n"
        }.joined()
        #expect(result.stdout == expected)
        #expect(abs(outputs.reduce(0, +) - 1) < 1e-5)
    }

    @Test func directoriesAndJSON() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try importCNN(directory)
        let pictures = directory.path("pictures")
        try FileManager.default.createDirectory(atPath: pictures, withIntermediateDirectories: true)
        for (name, fixture) in [("b.jpg", "baseline.jpg"), ("a.png", "rgba.png")] {
            try FileManager.default.copyItem(atPath: Self.fixture("images/\(fixture)"), toPath: pictures + "/" + name)
        }
        let result = try zoo(["predict", "cnn", Self.fixture("images/gray16.png"), pictures, "--json"], registry: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["file"] as? String } == [Self.fixture("images/gray16.png"), pictures + "/a.png", pictures + "/b.jpg"])
        for row in rows {
            let top = try #require(row["top"] as? [[String: Any]])
            #expect(top.count == 3)  // --top 5 on 3 classes
            let values = top.compactMap { $0["probability"] as? Double }
            #expect(values == values.sorted(by: >))
            #expect(abs(values.reduce(0, +) - 1) < 1e-5)
            #expect(Set(top.compactMap { $0["label"] as? String }) == ["circle", "square", "triangle"])
        }
    }

    /// `--data DIR` in the `DIR/<class>/<picture>` layout: fine-tune a new head, register it (its
    /// labels the folder names), evaluate it; a file that is not a picture is named (exit 65).
    @Test func fineTuneAndEvaluateOnAFolder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try importCNN(directory)
        let pets = directory.path("pets")
        for (name, files) in [("cats", ["rgb.png", "baseline.jpg", "orientation3.jpg"]), ("dogs", ["gray.png", "palette.png", "progressive.jpg"])] {
            try FileManager.default.createDirectory(atPath: pets + "/" + name, withIntermediateDirectories: true)
            for file in files { try FileManager.default.copyItem(atPath: Self.fixture("images/\(file)"), toPath: pets + "/\(name)/\(file)") }
        }
        let tuned = try zoo(["fine-tune", "cnn", "--data", pets, "--new-head", "2", "--epochs", "2", "--quiet", "--save-as", "pets"], registry: directory)
        #expect(tuned.status == 0, "\(tuned.stderr)")
        #expect(tuned.stdout.contains("fine-tuned cnn on 6 samples"))
        let evaluated = try zoo(["evaluate", "pets", "--data", pets], registry: directory)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        #expect(evaluated.stdout.contains("pets on 6 samples of \(pets)"))
        #expect(evaluated.stdout.contains("0 cats") && evaluated.stdout.contains("1 dogs"))
        let notPicture = try directory.write("pets/dogs/readme.png", Array("not a picture".utf8))
        let refused = try zoo(["evaluate", "pets", "--data", pets], registry: directory)
        #expect(refused.status == 65)
        #expect(refused.stderr.hasPrefix("zoo: error: \(notPicture): unsupported image type: not PNG or JPEG"))
    }

    @Test(arguments: [
        (["MISSING"], Int32(66), "no such file"),
        (["TRUNCATED"], 65, "truncated PNG image"),
        (["TEXT"], 65, "unsupported image type: not PNG or JPEG"),
        (["CHELSEA", "--top", "0"], 64, "--top must be positive"),
        (["CHELSEA", "--input", "x.npy", "--out", "y.npy"], 64, "pictures and --input/--out do not go together"),
        ([], 64, "give pictures, or --input FILE and --out FILE"),
    ])
    func badInput(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try importCNN(directory)
        let png = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("images/rgb.png")))
        let truncated = try directory.write("cut.png", Array(png.prefix(200)))
        let text = try directory.write("notes.jpg", Array("not a picture".utf8))
        let resolved = arguments.map { argument -> String in
            switch argument {
            case "MISSING": directory.path("missing.jpg")
            case "TRUNCATED": truncated
            case "TEXT": text
            case "CHELSEA": Self.fixture("images/chelsea.png")
            default: argument
            }
        }
        let result = try zoo(["predict", "cnn"] + resolved, registry: directory)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        if status == 65 || status == 66 { #expect(result.stderr.contains(resolved[0])) }
    }
}
