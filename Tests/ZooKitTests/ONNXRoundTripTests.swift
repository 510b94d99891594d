import Foundation
import Testing
@testable import ZooKit

/// Zoo → ONNX → Zoo: a network written by `ONNXExporter` + `ONNXWriter` and read back by
/// `ONNXReader` + `ONNXGraphImporter` predicts what the original network predicts, in both
/// layouts (NHWC at opset 17, NCHW at opset 13), the 19 models `ONNXExportTests` writes, and keeps the manifest's labels and
/// preprocessing. (ONNX Runtime's side of the same files: `ONNXExportTests`.)
@Suite struct ONNXRoundTripTests {
    static let models = ["small_graph", "mobilenetv2_a035", "mobilenetv3small_a075", "mobilenet_v3_small", "squeezenet1_1", "pnet",
                         "onet", "rnet", "nested", "nested_sequential", "multi_io", "shared", "operators", "operators_extra", "app_layers", "fer",
                         "mobilenet_a025", "mobilenet_v3_large", "ops"]

    @Test(arguments: models) func readsBackWhatItWrote(_ model: String) throws {
        let loaded = try ONNXExportTests.load(model)
        let expected = try loaded.network.predict(loaded.xs)
        // `ops` has a LayerNormalization, which the exporter writes as ReduceMean arithmetic below
        // opset 17 and the reader does not fuse back: both layouts at 17.
        let combinations = model == "ops" ? [(false, 17), (true, 17)] : [(false, 17), (true, 13)]
        for (channelsFirst, opset) in combinations {
            let options = ONNXExporter.Options(opset: opset, channelsFirst: channelsFirst, labels: loaded.labels, input: loaded.input)
            let path = NSTemporaryDirectory() + "/roundtrip-\(UUID().uuidString.prefix(8)).onnx"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try ONNXWriter.write(try ONNXExporter.model(of: loaded.network, name: loaded.name, options: options), to: path)
            let (network, imported, report) = try ONNXGraphImporter.load(path)
            #expect(report.isComplete, "\(model): \(report)")
            if !loaded.labels.isEmpty { #expect(imported.labels == loaded.labels) }
            #expect(imported.input?.preprocessing == loaded.input?.preprocessing)
            // Inputs in the file's layout: NCHW maps with --channels-first.
            let inputs = try loaded.xs.map { x -> ZooNet.Tensor in
                guard channelsFirst, x.shape.count == 4 else { return x }
                let (values, shape) = TorchParameterLayout.permuted(x.scalars, shape: x.shape, to: [0, 3, 1, 2])
                return try ZooNet.Tensor(shape: shape, scalars: values)
            }
            let outputs = try imported.predict(network, onnxInputs: inputs)
            #expect(outputs.count == expected.count)
            for (k, (got, want)) in zip(outputs, expected).enumerated() {
                let (values, shape) = channelsFirst && want.shape.count == 4
                    ? TorchParameterLayout.permuted(want.scalars, shape: want.shape, to: [0, 3, 1, 2]) : (want.scalars, want.shape)
                #expect(got.shape == shape, "\(model) opset \(opset) output \(k)")
                let tolerance = 1e-5 * (1 + (values.map(abs).max() ?? 0))
                let worst = zip(got.scalars, values).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst <= tolerance, "\(model) opset \(opset) output \(k): max |read back − original| = \(worst)")
            }
        }
    }
}
