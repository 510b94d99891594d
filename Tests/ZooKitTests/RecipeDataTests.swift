import Foundation
import Testing
@testable import ZooKit

/// The transfer recipe's data path (Tests/Fixtures/recipe, made by its make_fixtures.py): Fashion-MNIST
/// pictures from IDX files into a picture model, the selection the PyTorch peer replicates, the fixed
/// test subset, and a registered model built at another image size.
@Suite struct RecipeDataTests {
    static func recipe(_ name: String) -> String { Paths.fixtures + "/recipe/" + name }

    /// Gray 28×28 replicated to RGB and resized as PIL does it (`convert("RGB").resize((S, S), BILINEAR)`):
    /// bit-exact (bound 0) for an upscale to 96 and an antialiased downscale to 20.
    @Test(arguments: [96, 20]) func idxPicturesAreResizedAsPIL(_ size: Int) throws {
        let data = try DataLoader.load(Self.recipe("fashion-images-idx3-ubyte"))
        #expect(data.sampleShape == [28, 28] && data.labels == [9, 0, 0])
        let pictures = try data.fittedAsPictures(to: [size, size, 3])
        #expect(pictures.sampleShape == [size, size, 3])
        let want = try TensorArchive.open(Self.recipe("pil_resized.npz")).tensor(named: "rgb\(size)")
        #expect(want.shape == [3, size, size, 3])
        let expected = try want.floats()
        let worst = zip(pictures.inputs, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(pictures.inputs.count == expected.count && worst == 0, "max |zoo − PIL| = \(worst)")
        // Gray in, gray out at the model's size; a matching shape is left as it is.
        #expect(try data.fittedAsPictures(to: [size, size, 1]).sampleShape == [size, size, 1])
        #expect(try data.fittedAsPictures(to: [28, 28, 1]).inputs == data.inputs)
    }

    @Test func valuesThatAreNotPixelsAreRefused() throws {
        var data = try DataLoader.load(Self.recipe("fashion-images-idx3-ubyte"))
        data.inputs[28 * 28 + 5] = 0.5
        #expect(throws: ZooKitError.invalidRequest("\(data.source): sample 1 has the value 0.5 at element 5; pictures take integers 0…255")) {
            try data.fittedAsPictures(to: [32, 32, 3])
        }
        data.sampleShape = [784]
        #expect(try data.fittedAsPictures(to: [32, 32, 3]).sampleShape == [784])  // not pictures: left to the shape check
    }

    /// The indices the PyTorch peer's replica of DataSelection picks (SplitMix64 and Swift's shuffle) are Zoo's.
    @Test func selectionIsThePeersReplica() throws {
        struct Fixture: Decodable {
            struct Case: Decodable { let seed: UInt64; let training: [Int]; let validation: [Int] }
            let labels: [Int]
            let per_class: Int
            let val_per_class: Int
            let cases: [Case]
        }
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: Self.recipe("selection.json"))))
        let data = LabeledData(inputs: fixture.labels.indices.map(Float.init), sampleShape: [1], labels: fixture.labels, source: "toy")
        for item in fixture.cases {
            let (training, validation) = try DataSelection(perClass: fixture.per_class, validationPerClass: fixture.val_per_class, seed: item.seed).apply(to: data)
            #expect(training.inputs.map { Int($0) } == item.training, "seed \(item.seed)")
            #expect(validation?.inputs.map { Int($0) } == item.validation, "seed \(item.seed)")
        }
    }

    @Test func firstPerClassKeepsFileOrder() throws {
        let data = LabeledData(inputs: (0..<8).map(Float.init), sampleShape: [1], labels: [2, 0, 2, 1, 0, 2, 1, 0], source: "toy")
        #expect(try data.firstPerClass(2).inputs == [0, 1, 2, 3, 4, 6])
        #expect(throws: ZooKitError.invalidRequest("toy: class 1 has only 2 samples, 3 asked for")) { try data.firstPerClass(3) }
    }

    /// `withImageSize` on the registered EfficientNet-Lite0: the input and the picture settings follow
    /// (resize 256 + crop 224 → resize 146 + crop 128), the network builds at 128×128 with the same variables.
    @Test func registeredModelAtAnotherImageSize() throws {
        let path = Paths.fixtures + "/../../registry/models/efficientnet-lite0/manifest.json"
        let manifest = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let small = try manifest.withImageSize(128)
        #expect(small.input.shape == [128, 128, 3] && small.architecture.inputs[0].shape == [128, 128, 3])
        #expect(small.input.image == ImageSpec(resize: .shorterSide(146), crop: [128, 128]))
        #expect(small.input.preprocessing == manifest.input.preprocessing)
        let network = try small.buildNetwork()
        #expect(network.inputShape == [128, 128, 3] && network.outputShape == [1000])
        #expect(try network.shape(ofNode: "_relu_head") == [4, 4, 1280])
        #expect(network.variables.map(\.shape) == (try manifest.buildNetwork()).variables.map(\.shape))
        #expect(throws: ZooKitError.invalidRequest("image size must be in 1…4096, not 0")) { try manifest.withImageSize(0) }
    }
}
