import Foundation
import Testing
import ZooFormat

/// `zoo fine-tune` with the transfer recipe's options on graph models: Fashion-MNIST IDX pictures into a
/// registered picture model at `--image-size`, `--unfreeze-after` with `--unfreeze` and `--unfreeze-lr`,
/// `--test-per-class`, and the errors of those options.
@Suite struct RecipeCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let mobileNet = fixtures.appendingPathComponent("kerasapps/mobilenetv2_a035.keras").path
    static let idx = fixtures.appendingPathComponent("recipe/fashion-images-idx3-ubyte").path

    /// The imported MobileNetV2 (96×96×3) fine-tuned at 64×64 on three 28×28 gray IDX pictures: the
    /// pictures become 64×64×3, the head trains, then block 16 and Conv_1 on block 15's cached outputs.
    @Test func recipeOnIDXPicturesAtAnotherSize() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let registry = ["--registry", directory.path("reg")]
        let imported = try ZooBinary.run(["import", Self.mobileNet, "--name", "mbv2"] + registry)
        #expect(imported.status == 0, "\(imported.stderr)")
        let result = try ZooBinary.run(["fine-tune", "mbv2", "--image-size", "64", "--data", Self.idx, "--test", Self.idx,
                                        "--test-per-class", "1", "--classes", "9,0", "--new-head", "2", "--epochs", "4",
                                        "--unfreeze-after", "2", "--unfreeze", "block_16|Conv_1", "--unfreeze-lr", "0.0001",
                                        "--batch-size", "2", "--quiet"] + registry)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("on 3 samples (0 validation) of 64×64×3: 4 epochs"), "\(result.stdout)")
        #expect(result.stdout.contains("phase 1: 2 variables trainable, outputs of"), "\(result.stdout)")
        #expect(result.stdout.contains("phase 2: "), "\(result.stdout)")
        #expect(result.stdout.contains("block_15_add computed once"), "\(result.stdout)")
        #expect(result.stdout.contains("on 2 samples"), "\(result.stdout)")  // --test-per-class 1 of classes 9 and 0
    }

    @Test(arguments: [
        (["--unfreeze-after", "1"], "pass --unfreeze"),
        (["--unfreeze-lr", "0.0001"], "--unfreeze-lr needs --unfreeze-after"),
        (["--unfreeze-after", "5", "--unfreeze", "Conv_1"], "--unfreeze-after must be in 0…3 (the epochs of both phases), not 5"),
        (["--unfreeze-after", "1", "--unfreeze", "no_such_block"], "unfreeze pattern 'no_such_block' matches no frozen variable"),
        (["--test-per-class", "2"], "--test-per-class needs --test"),
        (["--image-size", "0"], "--image-size must be in 1…4096, not 0"),
        (["--image-size", "64"], "another image size needs a registered model"),
    ])
    func optionErrors(_ extra: [String], _ message: String) throws {
        let result = try ZooBinary.run(["fine-tune", Self.mobileNet, "--data", Self.idx, "--classes", "9,0", "--new-head", "2", "--epochs", "3",
                                        "--cut", "out_relu"] + extra)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
