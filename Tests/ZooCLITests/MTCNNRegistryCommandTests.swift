import Foundation
import Testing
import ZooFormat

/// The shipped registry entries `mtcnn-pnet`, `mtcnn-rnet`, `mtcnn-onet` (architecture, head,
/// output order, picture size, preprocessing) against facenet-pytorch 2.6.0's own networks on a
/// real face (`Fixtures/mtcnn/make_fixtures.py`). The weights are the torch fixtures of the same
/// networks (`Fixtures/torcharch/{pnet,rnet,onet}.pt`), imported `--like` the shipped entry, since
/// the shipped entries fetch theirs with pip.
@Suite struct MTCNNRegistryCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures")
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../registry/models")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// A temporary registry holding the shipped manifest of `mtcnn-NAME` and `NAME` imported like it.
    func registry(_ stage: String, _ directory: TemporaryDirectory) throws -> String {
        let registry = directory.path("reg")
        try FileManager.default.createDirectory(atPath: registry + "/mtcnn-\(stage)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Self.shipped.appendingPathComponent("mtcnn-\(stage)/manifest.json").path, toPath: registry + "/mtcnn-\(stage)/manifest.json")
        let imported = try ZooBinary.run(["import", Self.fixture("torcharch/\(stage).pt"), "--name", stage, "--like", "mtcnn-\(stage)",
                                          "--layout", "pytorch", "--registry", registry])
        #expect(imported.status == 0, "\(imported.stderr)")
        return registry
    }

    /// `zoo predict` on the picture: the face probability first, as facenet-pytorch gives it (1e-4);
    /// `--input` of the resized pixels with `--preprocess`: every output (box offsets, landmarks) too.
    @Test(arguments: [("pnet", 12, ["softmax4_1", "conv4_2"]), ("rnet", 24, ["softmax5_1", "dense5_2"]),
                      ("onet", 48, ["softmax6_1", "dense6_2", "dense6_3"])])
    func predictsLikeFacenetPyTorch(_ stage: String, _ size: Int, _ outputs: [String]) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let registry = try registry(stage, directory)
        let expected = try TensorArchive.open(Self.fixture("mtcnn/astronaut_face_expected.npz"))
        // facenet-pytorch returns the probability last; Zoo's registry entry lists it first.
        let torchOrder = (0..<outputs.count).map { "\(stage)_\($0)" }
        let probability = try expected.tensor(named: torchOrder.last!).floats()

        let picture = try ZooBinary.run(["predict", stage, Self.fixture("mtcnn/astronaut_face.png"), "--json", "--registry", registry])
        #expect(picture.status == 0, "\(picture.stderr)")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(picture.stdout.utf8)) as? [[String: Any]])
        let top = try #require(rows.first?["top"] as? [[String: Any]])
        let best = probability[1] > probability[0] ? 1 : 0
        #expect(top.first?["label"] as? String == ["no face", "face"][best])
        let value = try #require(top.first?["probability"] as? Double)
        #expect(abs(value - Double(probability[best])) < 1e-4, "\(value) vs \(probability[best])")

        let out = directory.path("out.npz")
        let tensors = try ZooBinary.run(["predict", stage, "--input", Self.fixture("mtcnn/astronaut_face_\(size).npy"), "--preprocess",
                                         "--out", out, "--registry", registry])
        #expect(tensors.status == 0, "\(tensors.stderr)")
        let written = try TensorArchive.open(out)
        let names = written.tensors.map(\.name)
        #expect(names == outputs)
        // Zoo's order: probability, then facenet's order of the rest.
        let references = [torchOrder.last!] + torchOrder.dropLast()
        for (tensor, reference) in zip(written.tensors, references) {
            let zoo = try tensor.floats()
            let torch = try expected.tensor(named: reference).floats()
            #expect(zoo.count == torch.count)
            let error = zip(zoo, torch).map { abs($0 - $1) }.max() ?? .infinity
            #expect(error < 1e-4, "\(stage) \(tensor.name) vs \(reference): max error \(error)")
        }
    }

    /// The head names the classifier output; a head that leads to no output is refused.
    @Test func aHeadLeadingToNoOutputIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let result = try ZooBinary.run(["import", Self.fixture("torcharch/onet.pt"), "--name", "o", "--arch", "onet", "--layout", "pytorch",
                                        "--head", "conv3", "--registry", directory.path("reg")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--head") && result.stderr.contains("'conv3' leads to none of the outputs"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("reg/o")))
    }
}
