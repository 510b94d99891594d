import ArgumentParser
import Foundation
import ZooFormat
import ZooKit
import ZooNet

extension PredictCommand {
    /// `zoo predict model.onnx --input x.npy --out y.npy`: the ONNX graph converted and run; the
    /// inputs in the ONNX model's layout (NCHW for torch exports: transposed to the engine's NHWC),
    /// the outputs back in the graph's layout; several inputs from a `.npz` in order, several
    /// outputs into a `.npz` named by the graph's output names.
    func predictONNXGraph(input: String, out: String) throws {
        guard nodes.isEmpty else { throw ZooKitError.invalidRequest("--node is for Keras model files and --arch NAME, not ONNX models") }
        let (network, imported, _) = try ONNXGraphImporter.load(modelOptions.model, logits: logits)
        if preprocess, imported.input == nil {
            throw ZooKitError.invalidRequest("--preprocess: \(modelOptions.model) carries no preprocessing (metadata 'zoo.preprocessing')")
        }
        let archive = try TensorArchive.open(input)
        guard archive.tensors.count >= network.inputShapes.count else {
            throw ZooKitError.invalidRequest("\(input) holds \(archive.tensors.count) tensors; the model takes \(network.inputShapes.count) inputs")
        }
        let inputs = try archive.tensors.prefix(network.inputShapes.count).map { try ZooNet.Tensor($0) }
        let preprocessing = preprocess ? imported.input?.preprocessing : nil
        let results = try imported.predict(network, onnxInputs: inputs) { x in
            guard let preprocessing else { return x }
            let data = LabeledData(inputs: x.scalars, sampleShape: Array(x.shape.dropFirst()), labels: [Int](repeating: 0, count: x.shape[0]), source: input)
            return try ZooNet.Tensor(shape: x.shape, scalars: data.preprocessed(preprocessing).inputs)
        }
        try write(results, names: imported.outputNames, to: out)
    }
}
