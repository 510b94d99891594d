import Foundation
import ZooFormat
import ZooNet

/// An ONNX model (`ONNXModel`, as `ONNXReader` reads it) on the engine: its graph converted
/// node by node into a `NetworkDescription`, its initializers turned into the network's
/// variables in Zoo's layouts.
///
/// ONNX graphs from `torch.onnx.export` are NCHW; the engine is NHWC. Every value keeps track
/// of how the engine lays it out (see `ONNXRuntimeValue`), so that a `Transpose` costs nothing
/// and a `Permute` is inserted only where the order matters (a `Flatten` or `Reshape` of a map
/// with H, W > 1, a `Concat` or `Softmax` along an axis the engine holds elsewhere). Image inputs
/// `[N, C, H, W]` become engine inputs `[H, W, C]`; 4-D outputs stay NHWC (`outputOrders` says
/// how to get ONNX's layout back).
///
/// Weights: `Conv` OIHW → HWIO (depthwise `[c·m, 1, kh, kw]` → `[kh, kw, c, m]`), `Gemm`'s B
/// transposed to `[in, out]` unless `transB = 0` and scaled by `alpha` (C by `beta`),
/// `BatchNormalization`'s scale, B, mean and var as γ, β and the moving statistics, `PRelu`'s
/// slope as α. Shape computations (`Shape`, `Gather`, `Unsqueeze`, `Concat`, `Cast`, `Slice`, …)
/// are folded to constants given the input shapes, the batch size kept free.
public enum ONNXGraphImporter {
    /// The ONNX operators the converter turns into engine layers, or folds when their inputs are
    /// constants (`zoo predict --help` and the README list them too).
    public static let supportedOps: [String] = (ONNXGraphConversion.runtimeOps + ONNXConstantFolding.ops).reduce(into: []) {
        if !$0.contains($1) { $0.append($1) }
    }.sorted()

    /// The network `model` describes, with its weights (not yet assigned).
    /// - Parameters:
    ///   - model: the ONNX model.
    ///   - inputShapes: per-sample engine shapes (NHWC `[h, w, c]` for an image input) filling the
    ///     input dimensions the graph leaves free; nil: every dimension but the batch must be fixed.
    /// - Throws: ``ZooKitError/unsupportedONNXOps(_:)`` listing every node that cannot be converted,
    ///   grouped by operator; ``ZooKitError/invalidONNXGraph(nodes:problem:)`` for a cycle, a value
    ///   no node makes or a value made twice; ``ZooKitError/settingRequired(_:reason:)`` for a free
    ///   input dimension; ``ZooKitError/invalidRequest(_:)`` for inputs that are not float tensors.
    public static func convert(_ model: ONNXModel, inputShapes: [[Int]]? = nil) throws -> ONNXImportedNetwork {
        try ONNXGraphConversion(model: model, inputShapes: inputShapes).run()
    }

    /// Reads an ONNX file, converts its graph, builds the network and assigns its weights strictly.
    /// - Parameters:
    ///   - path: the `.onnx` file.
    ///   - inputShape: the first input's per-sample engine shape, for a graph with free dimensions.
    ///   - logits: drop each output's final activation.
    /// - Returns: the network with its weights, what the conversion made and the assignment report.
    /// - Throws: `FormatError` for a file `ONNXReader` cannot read, the errors of
    ///   ``convert(_:inputShapes:)``, ``ZooKitError/architecture(model:reason:)`` when the network does
    ///   not build, ``ZooKitError/assignmentFailed(_:)``.
    public static func load(_ path: String, inputShape: [Int]? = nil, logits: Bool = false) throws
        -> (network: Network, imported: ONNXImportedNetwork, report: AssignmentReport) {
        let imported = try convert(ONNXReader.read(path), inputShapes: inputShape.map { [$0] })
        let network: Network
        do {
            network = try Network(description: logits ? imported.description.withoutFinalActivation : imported.description)
        } catch let error as ZooNetError {
            throw ZooKitError.architecture(model: path, reason: error.description)
        }
        let report = try WeightAssigner.assign(imported.mappedTensors(), to: network)
        return (network, imported, report)
    }

    /// Whether `path` is an ONNX model (as `TensorArchive` detects formats: by structure) whose
    /// graph has nodes; an ONNX file of tensors only (`zoo convert`'s) is not one.
    public static func isONNXFile(_ path: String) -> Bool {
        ONNXReader.modelIfONNX(at: path)?.graph.nodes.isEmpty == false
    }
}

/// What `ONNXGraphImporter.convert` makes of an ONNX model.
public struct ONNXImportedNetwork: Sendable {
    /// The network (inputs named as the graph's, nodes named after the PyTorch modules where the
    /// weights' names say them, e.g. `features.0.0`).
    public var description: NetworkDescription
    /// The network's variables' values, in Zoo's layouts.
    public var weights: [ONNXImportedWeight]
    /// Per input: engine axis i holds ONNX axis `order[i]` (`[0, 2, 3, 1]`: NCHW given as NHWC).
    public var inputOrders: [[Int]]
    /// Per output: engine axis i holds ONNX axis `order[i]` (`[0, 2, 3, 1]`: an NCHW map given NHWC).
    public var outputOrders: [[Int]]
    /// The ONNX output names, in the description's output order.
    public var outputNames: [String]
    /// `metadata_props`' `zoo.labels` (a JSON list of class names), when the model carries it.
    public var labels: [String]?
    /// `metadata_props`' `zoo.preprocessing` (the manifest's `input` JSON: shape, preprocessing,
    /// image), when the model carries it.
    public var input: InputSpec?
    /// The producer (`pytorch 2.15.0`, …), for provenance.
    public var producer: (name: String, version: String)

    /// The weights as the assigner takes them.
    func mappedTensors() -> [MappedTensor] {
        weights.map { weight in
            MappedTensor(name: weight.variable, source: weight.source, shape: weight.shape, isOptimizerState: false, values: weight.values)
        }
    }
}

/// One variable's value from an ONNX model: which initializer it comes from and how it is laid out.
public struct ONNXImportedWeight: Sendable {
    /// The engine variable (`features.0.0/kernel`).
    public let variable: String
    /// The initializer or constant it comes from (`features.0.0.weight`).
    public let source: String
    /// The engine shape.
    public let shape: [Int]
    /// Reads the values in the engine layout (transposes and scalings applied).
    public let values: @Sendable () throws -> [Float]
}
