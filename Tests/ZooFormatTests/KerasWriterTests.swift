import Foundation
import Testing
import ZooFormat

/// Zoo-written Keras files were loaded once by the peers with `model.load_weights()`
/// (Tests/Fixtures/keras/make_fixtures.py roundtrip zoo_written): tf-keras 2.21 and
/// Keras 3.15 both reproduced the original predictions exactly (max difference 0.0).
/// These tests pin the layout those files have, so a change that would break the
/// peers' loading is caught without Python.
@Suite struct KerasWriterTests {
    @Test(arguments: [
        ("seed_k2_model.h5", "seed_rt_k3.weights.h5", OutputFormat.keras3WeightsH5),
        ("seed_k3.keras", "seed_rt_k2.h5", .keras2H5),
        ("seed_k3.weights.h5", "seed_rt_plain.hdf5", .hdf5),
    ])
    func conversionsReadBackWithTheSameNamesAndValues(source: String, verified: String, format: OutputFormat) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let output = directory.file(verified)
        try KerasFixtures.open(source).write(to: output, format: format)
        for path in [output, KerasFixtures.path("zoo_written/" + verified)] {
            let archive = try TensorArchive.open(path)
            let names = format == .hdf5 ? archive.tensors.map(\.name).sorted() : archive.tensors.map(\.name)
            #expect(names == (format == .hdf5 ? KerasFixtures.seed.map(\.name).sorted() : KerasFixtures.seed.map(\.name)), "\(path)")
            for tensor in archive.tensors {
                let expected = KerasFixtures.seed.first { $0.name == tensor.name }
                #expect(try tensor.sha256() == expected?.sha256, "\(path): \(tensor.name)")
            }
        }
    }

    /// The peers match Keras 2 weights by `layer_names` / `weight_names`, and Keras 3 weights by
    /// `layers/<class>[_n]/vars/<i>`: check those structures in what Zoo writes now.
    @Test func keras2Layout() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let output = directory.file("w.h5")
        try KerasFixtures.open("seed_k3.weights.h5").write(to: output, format: .keras2H5)
        let paths = try TensorArchive.open(output).tensors.map { $0.path ?? "" }
        #expect(paths.prefix(3) == ["/hidden1/hidden1/kernel:0", "/hidden1/hidden1/bias:0", "/bn1/bn1/gamma:0"])
    }

    @Test func keras3Layout() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let output = directory.file("w.weights.h5")
        try KerasFixtures.open("seed_k2_weights.h5").write(to: output, format: .keras3WeightsH5)
        let paths = try TensorArchive.open(output).tensors.map { $0.path ?? "" }
        #expect(paths == [
            "/layers/dense/vars/0", "/layers/dense/vars/1",
            "/layers/batch_normalization/vars/0", "/layers/batch_normalization/vars/1",
            "/layers/batch_normalization/vars/2", "/layers/batch_normalization/vars/3",
            "/layers/dense_1/vars/0", "/layers/dense_1/vars/1",
            "/layers/batch_normalization_1/vars/0", "/layers/batch_normalization_1/vars/1",
            "/layers/batch_normalization_1/vars/2", "/layers/batch_normalization_1/vars/3",
            "/layers/dense_2/vars/0", "/layers/dense_2/vars/1",
        ])
    }

    @Test func everyNumericDTypeSurvivesPlainHDF5() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = try KerasFixtures.open("plain_earliest.h5")
        let output = directory.file("copy.hdf5")
        try source.write(to: output, format: .hdf5)
        let copy = try TensorArchive.open(output)
        for tensor in source.tensors {
            let written = try copy.tensor(named: tensor.name)
            #expect(written.dtype == tensor.dtype, "\(tensor.name)")
            #expect(written.shape == tensor.shape, "\(tensor.name)")
            #expect(try written.sha256() == tensor.sha256(), "\(tensor.name)")
        }
    }
}
