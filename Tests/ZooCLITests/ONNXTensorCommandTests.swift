import Foundation
import Testing

/// `.onnx` files as tensor files through the `zoo` binary: inspect, convert both ways, assign.
@Suite struct ONNXTensorCommandTests {
    static let onnx = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/onnx")
    static func path(_ name: String) -> String { onnx.appendingPathComponent(name).path }
    static let seedModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras/seed_k2_model.h5").path
    static let torchWeights = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/zookit/seed_torch.safetensors").path

    @Test func inspectListsTheInitializers() throws {
        let object = try inspectJSON(["--checksums", Self.path("external/tiny.onnx")])
        #expect(object["format"] as? String == "onnx")
        let metadata = try #require(object["metadata"] as? [String: String])
        #expect(metadata["producer_name"] == "pytorch" && metadata["opset_import"] == "ai.onnx=17")
        let tensors = try tensorsByName(object)
        #expect(Set(tensors.keys) == ["fc.weight", "fc.bias", "onnx::Conv_17", "onnx::Conv_18"])
        #expect(tensors["fc.weight"]?["shape"] as? [Int] == [3, 4])
        // The same bytes as the model saved without external data.
        let inline = try tensorsByName(inspectJSON(["--checksums", Self.path("tiny_op17.onnx")]))
        for (name, tensor) in tensors { #expect(inline[name]?["sha256"] as? String == tensor["sha256"] as? String, "\(name)") }
        let table = try ZooBinary.run(["inspect", Self.path("tiny_op13.onnx")])
        #expect(table.status == 0 && table.stdout.contains("(onnx)") && table.stdout.contains("producer_name: pytorch"))
    }

    /// .onnx → .safetensors → .onnx (tensors only) → .npz keeps every digest.
    @Test func convertBothWays() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let digests = try tensorsByName(inspectJSON(["--checksums", Self.path("tiny_op17.onnx")])).mapValues { $0["sha256"] as? String }
        let safetensors = directory.path("t.safetensors")
        let first = try ZooBinary.run(["convert", Self.path("tiny_op17.onnx"), safetensors])
        #expect(first.status == 0, "\(first.stderr)")
        let onnx = directory.path("t.onnx")
        let second = try ZooBinary.run(["convert", safetensors, onnx])
        #expect(second.status == 0 && second.stdout.contains("(onnx)"), "\(second.stderr)")
        let npz = directory.path("t.npz")
        #expect(try ZooBinary.run(["convert", onnx, npz]).status == 0)
        for file in [safetensors, onnx, npz] {
            let tensors = try tensorsByName(inspectJSON(["--checksums", file]))
            #expect(tensors.mapValues { $0["sha256"] as? String } == digests, "\(file)")
        }
    }

    /// A PyTorch state dict written as ONNX initializers fills the registered model it was made from.
    @Test func assignFromAnONNXFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let registry = ["--registry", directory.path("reg")]
        #expect(try ZooBinary.run(["import", Self.seedModel, "--name", "seed"] + registry).status == 0)
        let onnx = directory.path("seed.onnx")
        #expect(try ZooBinary.run(["convert", Self.torchWeights, onnx]).status == 0)
        let assign = try ZooBinary.run(["assign", "seed", onnx, "--layout", "pytorch"] + registry)
        #expect(assign.status == 0, "\(assign.stderr)")
        #expect(assign.stdout.contains("14 assigned, 0 missing, 0 unexpected, 0 mismatched"), "\(assign.stdout)")
    }

    /// External data pointing out of the model's directory: exit 65, the tensor named.
    @Test func externalDataOutsideTheDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.path("external/tiny.onnx"))))
        // "tiny.onnx.data" → "../../etc/pass" (same length: the protobuf lengths stay right).
        let from = Array("tiny.onnx.data".utf8), to = Array("../../etc/pass".utf8)
        var index = 0
        while index + from.count <= bytes.count {
            if Array(bytes[index..<index + from.count]) == from { bytes.replaceSubrange(index..<index + from.count, with: to) }
            index += 1
        }
        let evil = try directory.write("evil.onnx", bytes)
        let result = try ZooBinary.run(["inspect", evil])
        #expect(result.status == 65)
        #expect(result.stderr.contains("malformed at 'graph.initializer[0] 'fc.weight'': expected an external data location inside the model's directory, found '../../etc/pass', which leaves it with '..'"), "\(result.stderr)")
    }
}
