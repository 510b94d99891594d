import Foundation
import Testing
@testable import ZooFormat

@Suite struct KerasReaderTests {
    /// Every Keras save format of the seed network gives the same canonical names, order and values.
    @Test(arguments: [
        ("seed_k2_model.h5", TensorFileFormat.keras2H5, "/model_weights/hidden1/hidden1/kernel:0"),
        ("seed_k2_weights.h5", .keras2H5, "/hidden1/hidden1/kernel:0"),
        ("seed_k2_split.h5", .keras2H5, "/hidden1/hidden1/kernel:0"),
        ("seed_k3.weights.h5", .keras3WeightsH5, "/layers/dense/vars/0"),
        ("seed_k3.keras", .keras, "/layers/dense/vars/0"),
    ])
    func seedNetworkInEveryFormat(file: String, format: TensorFileFormat, kernelPath: String) throws {
        let archive = try KerasFixtures.open(file)
        #expect(archive.format == format)
        #expect(archive.tensors.map(\.name) == KerasFixtures.seed.map(\.name))
        #expect(archive.tensors.first?.path == kernelPath)
        for (tensor, expected) in zip(archive.tensors, KerasFixtures.seed) {
            #expect(try tensor.sha256() == expected.sha256, "\(tensor.name)")
            #expect(Array(try tensor.floats().prefix(2)) == expected.first, "\(tensor.name)")
            if let shape = KerasFixtures.seedShapes[tensor.name] { #expect(tensor.shape == shape) }
        }
    }

    @Test func keras2MetadataAndArchitecture() throws {
        let archive = try KerasFixtures.open("seed_k2_model.h5")
        #expect(archive.metadata["keras_version"] == "2.21.0")
        #expect(archive.metadata["backend"] == "tensorflow")
        let graph = try #require(try archive.kerasGraph())
        #expect(graph.isSequential)
        #expect(graph.name == "seed")
        #expect(graph.inputs.map(\.shape) == [[20]])
        #expect(graph.nodes.map(\.layer) == ["hidden1", "bn1", "elu1", "hidden2", "bn2", "elu2", "outputs"])
        #expect(graph.nodes.map(\.className) == ["Dense", "BatchNormalization", "Activation", "Dense", "BatchNormalization", "ELU", "Dense"])
        #expect(graph.nodes[0].config["units"]?.intValue == 300)
        #expect(graph.nodes[1].config["momentum"]?.doubleValue == 0.9)
        #expect(graph.nodes[2].config["activation"]?.stringValue == "elu")
        #expect(graph.nodes[6].config["activation"]?.stringValue == "softmax")
        #expect(graph.nodes.dropFirst().map(\.inputs) == graph.nodes.dropLast().map { [.node($0.name)] })
    }

    @Test(arguments: ["cnn_k2_model.h5", "cnn_k3.keras"])
    func smallCNN(file: String) throws {
        let archive = try KerasFixtures.open(file)
        #expect(archive.tensors.map(\.name) == ["conv1/kernel", "conv1/bias", "outputs/kernel", "outputs/bias"])
        #expect(archive.tensors[0].shape == [3, 3, 1, 4])
        #expect(try archive.tensors[0].sha256() == "ae860d417bea648b5cc7e086677c3270c57743c56bc24ab7c0b888faecc00f5d")
        let graph = try #require(try archive.kerasGraph())
        #expect(graph.inputs.map(\.shape) == [[8, 8, 1]])
        #expect(graph.nodes.map(\.className) == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"])
        #expect(graph.nodes[0].config["padding"]?.stringValue == "same")
        #expect(graph.nodes[0].config["filters"]?.intValue == 4)
        #expect(graph.outputs == ["outputs"])
    }

    /// `.keras` archives opened at the same time on several threads each read their own
    /// weights (libhdf5 takes two open in-memory images with the same name for one file: an
    /// archive opened while another was being read listed the other one's datasets).
    @Test func kerasArchivesOpenedConcurrentlyReadTheirOwnWeights() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for _ in 0..<25 {
                        if task % 2 == 0 {
                            let cnn = try KerasFixtures.open("cnn_k3.keras")
                            #expect(cnn.tensors.map(\.name) == ["conv1/kernel", "conv1/bias", "outputs/kernel", "outputs/bias"])
                            #expect(try cnn.tensors[0].sha256() == "ae860d417bea648b5cc7e086677c3270c57743c56bc24ab7c0b888faecc00f5d")
                        } else {
                            let seed = try KerasFixtures.open("seed_k3.keras")
                            #expect(seed.tensors.first?.name == "hidden1/kernel")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func keras3ArchiveMetadata() throws {
        let archive = try KerasFixtures.open("seed_k3.keras")
        #expect(archive.metadata["keras_version"] == "3.15.1")
        #expect(try archive.kerasGraph()?.nodes.count == 7)
    }

    @Test func optimizerStateIsMarked() throws {
        let archive = try KerasFixtures.open("compiled_k2_model.h5")
        let roles = Dictionary(uniqueKeysWithValues: archive.tensors.map { ($0.name, $0.attributes["role"]) })
        #expect(roles["dense/kernel"] == .some(nil))
        #expect(roles["Adam/m/dense/kernel"] == "optimizer")
        #expect(roles["iteration"] == "optimizer")
        #expect(archive.tensors.prefix(2).map(\.name) == ["dense/kernel", "dense/bias"])
    }

    @Test func nestedKeras3Models() throws {
        let archive = try KerasFixtures.open("nested_k3.weights.h5")
        #expect(archive.tensors.map(\.name) == ["block/inner_dense/kernel", "block/inner_dense/bias", "head/kernel", "head/bias"])
        #expect(try archive.tensors[2].sha256() == "d8495ac3ff860ec7c4970d18d3062b120d5d84b00029e8476265e588f139a896")
    }

    @Test(arguments: [
        ("dense", 2, ["kernel", "bias"]), ("dense_3", 1, ["kernel"]), ("batch_normalization_1", 4, ["gamma", "beta", "moving_mean", "moving_variance"]),
        ("batch_normalization", 3, ["beta", "moving_mean", "moving_variance"]), ("conv2d", 2, ["kernel", "bias"]), ("p_re_lu", 1, ["alpha"]),
        ("mystery", 2, ["0", "1"]),
    ])
    func keras3VariableNamesWithoutConfig(group: String, count: Int, names: [String]) {
        #expect(KerasH5Layout.keras3VariableNames(groupName: group, count: count, config: nil) == names)
    }
}
