import Foundation
import Testing
import ZooFormat
@testable import ZooKit

/// A network's variables written as a PyTorch state dict (`TorchStateDictExport` +
/// `PyTorchWriter`) are the state dict torchvision and facenet-pytorch made: the same keys
/// (`num_batches_tracked` included), shapes and values after a round trip, 64-byte-aligned
/// data records. (`scripts/parity/torch_export_check.py` loads such files with torch 2.15's
/// `torch.load(weights_only=True)` and `load_state_dict(strict=True)`.)
@Suite struct TorchExportTests {
    @Test(arguments: ["mobilenet_v3_small", "onet", "densenet_small"]) func stateDictRoundTrips(_ fixture: String) throws {
        let original = try TensorArchive.open(TorchArchitectureParityTests.directory.appendingPathComponent(fixture + ".pt").path)
        let (network, architecture) = try TorchArchitectureParityTests.network(fixture)
        try Architecture.loadStateDict(original, into: network, architecture: architecture)
        let (tensors, untranslated) = try TorchStateDictExport.tensors(of: network)
        #expect(untranslated.isEmpty)
        let directory = try TemporaryRegistry()
        defer { directory.remove() }
        let path = directory.root + "/exported.pt"
        try PyTorchWriter.write(tensors, to: path)
        let written = try TensorArchive.open(path)
        #expect(written.format == .pytorch)
        let want = Dictionary(uniqueKeysWithValues: original.tensors.map { ($0.name, $0) })
        #expect(Set(written.tensors.map(\.name)) == Set(want.keys))
        for tensor in written.tensors {
            let reference = try #require(want[tensor.name])
            #expect(tensor.shape == reference.shape, "\(tensor.name)")
            if tensor.name.hasSuffix("num_batches_tracked") { continue }
            // The fixtures are float16 state dicts: the exported float32 values are exactly those.
            #expect(try tensor.floats() == reference.floats(), "\(tensor.name)")
        }
        let (again, _) = try TorchArchitectureParityTests.network(fixture)
        try Architecture.loadStateDict(written, into: again, architecture: architecture)
        #expect(zip(again.variables, network.variables).allSatisfy { $0.values == $1.values })
    }

    /// A Keras MLP: `hidden1.weight` `[out, in]`, batch norm as PyTorch names it, and every
    /// data record starting at a multiple of 64 bytes (what `torch.load(mmap=True)` needs).
    @Test func kerasModelAsAStateDict() throws {
        let (network, _) = try KerasModelImporter.load(Paths.keras("seed_k2_model.h5"))
        let (tensors, _) = try TorchStateDictExport.tensors(of: network)
        #expect(tensors.map(\.name) == [
            "hidden1.weight", "hidden1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "hidden2.weight", "hidden2.bias", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked",
            "outputs.weight", "outputs.bias",
        ])
        #expect(tensors[0].shape == [300, 20])
        let kernel = try network.variable(named: "hidden1/kernel").values  // [20, 300]
        let weight = try tensors[0].floats()  // [300, 20]
        #expect(weight[1 * 20 + 7] == kernel[7 * 300 + 1])
        #expect(tensors[6].dtype == .int64 && tensors[6].shape == [])

        let directory = try TemporaryRegistry()
        defer { directory.remove() }
        let path = directory.root + "/seed.pt"
        try PyTorchWriter.write(tensors, to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var offset = 0, records = 0
        while offset + 30 <= bytes.count, bytes[offset] == 0x50, bytes[offset + 1] == 0x4B, bytes[offset + 2] == 3, bytes[offset + 3] == 4 {
            func u16(_ at: Int) -> Int { Int(bytes[offset + at]) | Int(bytes[offset + at + 1]) << 8 }
            func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
            let data = offset + 30 + u16(26) + u16(28)
            #expect(data % 64 == 0, "record \(records)")
            offset = data + u32(18)
            records += 1
        }
        #expect(records == tensors.count + 5)  // data.pkl, .format_version, .storage_alignment, byteorder, version
        let reread = try TensorArchive.open(path)
        #expect(try reread.tensor(named: "bn2.running_var").floats() == network.variable(named: "bn2/moving_variance").values)
    }
}
