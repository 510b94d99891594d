import Foundation
import Testing
import ZooFormat
import ZooKit
import ZooNet

@Suite struct ImportTests {
    @Test func keras2FullModelCarriesItsArchitecture() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let entry = try temporary.importSeed()
        let manifest = entry.manifest
        #expect(manifest.input.shape == [20])
        let layers = try #require(manifest.architecture.chainLayers)
        #expect(layers.map(\.kind) == ["dense", "batch_normalization", "activation", "dense", "batch_normalization", "activation", "dense"])
        #expect(layers[1].layer == .batchNormalization(momentum: 0.9, epsilon: 0.001, center: true, scale: true))
        #expect(layers[5].layer == .activation(.elu(alpha: 1)))
        #expect(manifest.schema == 2)
        #expect(manifest.head == "outputs")
        #expect(manifest.weights.format == .keras2H5)
        #expect(manifest.weights.provenance.framework == "tf-keras")
        #expect(manifest.weights.provenance.frameworkVersion == "2.21.0")
        #expect(try manifest.parameterCount() == SeedValues.parameterCount)
        #expect(FileManager.default.fileExists(atPath: entry.directory + "/seed_k2_model.h5"))
        // The registry finds it again, and the weights verify.
        let found = try temporary.registry.entry(named: "seed")
        #expect(found.manifest == manifest)
        _ = try found.verifiedWeightsPath()
    }

    /// The pretrained network computes what Keras computed (inference mode, BN moving statistics).
    @Test func loadedNetworkMatchesKerasPredictions() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let model = try PretrainedModel.load(try temporary.importSeed())
        #expect(model.report.assigned.count == 14)
        let input = try TensorArchive.open(Paths.keras("seed_input.npy")).tensors[0]
        let expected = try TensorArchive.open(Paths.keras("seed_output.npy")).tensors[0].floats()
        let output = try model.network.predict(try Tensor(shape: input.shape, scalars: try input.floats()))
        #expect(output.shape == [4, 10])
        let worst = zip(output.scalars, expected).map { abs($0 - $1) / max(abs($1), 1e-6) }.max() ?? 1
        #expect(worst < 1e-5, "max relative difference \(worst)")
    }

    @Test(arguments: [
        ("seed_k3.weights.h5", NameMapping.Layout.keras),
        ("seed_k2_weights.h5", .keras),
    ])
    func weightsOnlyFilesTakeTheArchitectureOfAnotherModel(file: String, layout: NameMapping.Layout) throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        try temporary.importSeed()
        var request = ImportRequest(file: Paths.keras(file), name: "copy")
        request.architecture = .like("seed")
        request.mapping = NameMapping(layout: layout)
        let (entry, report) = try Importer.run(request, registry: temporary.registry)
        #expect(report.isComplete && report.assigned.count == 14)
        #expect(entry.manifest.labels == (0..<10).map { "class \($0)" })
    }

    @Test func pytorchLayoutTransposesAndRenames() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        try temporary.importSeed()
        var request = ImportRequest(file: Paths.zookit("seed_torch.safetensors"), name: "from-torch")
        request.architecture = .like("seed")
        request.mapping = NameMapping(layout: .pytorch)
        let (entry, report) = try Importer.run(request, registry: temporary.registry)
        #expect(report.assigned.map(\.source).prefix(3) == ["0.weight", "0.bias", "1.weight"])
        #expect(report.skipped.isEmpty)
        let model = try PretrainedModel.load(entry)
        let kernel = try model.network.variable(named: "hidden1/kernel")
        let keras = try TensorArchive.open(Paths.keras("seed_k2_weights.h5")).tensor(named: "hidden1/kernel").floats()
        #expect(kernel.values == keras)
        #expect(try model.network.variable(named: "bn2/moving_variance").values == TensorArchive.open(Paths.keras("seed_k2_weights.h5")).tensor(named: "bn2/moving_variance").floats())
    }

    @Test func strictImportRefusesAndWritesNothing() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        try temporary.importSeed()
        var request = ImportRequest(file: Paths.zookit("seed_torch.safetensors"), name: "wrong")
        request.architecture = .like("seed")
        request.mapping = NameMapping(layout: .none, rules: [#"^0\.weight$=hidden1/kernel"#])
        let error = try #require(throws: ZooKitError.self) { try Importer.run(request, registry: temporary.registry) }
        guard case .assignmentFailed(let report) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(report.mismatched.first?.variable == "hidden1/kernel")
        #expect(report.mismatched.first?.expected == [20, 300])
        #expect(report.mismatched.first?.found == [300, 20])
        #expect(report.mismatched.first?.hint?.contains("pytorch layout preset") == true)
        #expect(report.missing.contains { $0.name == "hidden1/bias" })
        #expect(report.unexpected.contains { $0.name == "0.bias" })
        #expect(error.description.contains("the network expects [20, 300], the file has [300, 20]"))
        #expect(error.exitCode == 65)
        #expect(!FileManager.default.fileExists(atPath: temporary.root + "/models/wrong"))
    }

    @Test func replacingNeedsForce() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        try temporary.importSeed()
        let error = try #require(throws: ZooKitError.self) { try temporary.importSeed() }
        guard case .alreadyRegistered(let name, _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(name == "seed")
        var request = ImportRequest(file: Paths.keras("seed_k2_model.h5"), name: "seed")
        request.summary = "replaced"
        request.force = true
        #expect(try Importer.run(request, registry: temporary.registry).entry.manifest.summary == "replaced")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: temporary.root + "/models").filter { $0.hasPrefix(".") && $0 != ".lock" }
        #expect(leftovers.isEmpty)
    }

    @Test func unknownModelsGetAHint() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        try temporary.importSeed()
        let error = try #require(throws: ZooKitError.self) { try temporary.registry.entry(named: "sed") }
        #expect(error == .unknownModel(name: "sed", hint: "seed", searched: [temporary.root + "/models"]))
    }

    @Test func unwritableRegistry() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        FileManager.default.createFile(atPath: temporary.root + "/blocker", contents: Data())
        let registry = Registry(roots: [temporary.root + "/blocker/models"], writableRoot: temporary.root + "/blocker/models", builtInRoot: nil, cache: temporary.registry.cache)
        var request = ImportRequest(file: Paths.keras("seed_k2_model.h5"), name: "x")
        request.labels = (0..<10).map(String.init)
        let error = try #require(throws: ZooKitError.self) { try Importer.run(request, registry: registry) }
        guard case .registryNotWritable = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(error.exitCode == 73)
    }

    @Test func fileWithoutArchitectureNeedsArchOrLike() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let error = try #require(throws: ZooKitError.self) {
            try Importer.run(ImportRequest(file: Paths.keras("seed_k3.weights.h5"), name: "x"), registry: temporary.registry)
        }
        #expect(error == .settingRequired(.architectureSource, reason: Paths.keras("seed_k3.weights.h5") + " carries no architecture"))
        #expect(error.description.hasSuffix("carries no architecture: set ImportRequest.architecture"))
    }

    @Test func architectureFromAKerasArchive() throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        var request = ImportRequest(file: Paths.keras("seed_k3.weights.h5"), name: "k3")
        request.architecture = .file(Paths.keras("seed_k3.keras"))
        let (entry, report) = try Importer.run(request, registry: temporary.registry)
        #expect(report.assigned.count == 14)
        #expect(entry.manifest.labels.count == 10)
    }
}
