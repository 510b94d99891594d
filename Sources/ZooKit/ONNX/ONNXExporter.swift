import Foundation
import ZooFormat
import ZooNet

/// A Zoo network as an ONNX model (`ONNXModel`), for ONNX Runtime and every other ONNX consumer:
/// each engine node becomes the ONNX operators computing it in inference mode (dropout is the
/// identity, batch normalization uses its moving statistics), with the network's current
/// variable values as initializers.
///
/// Layout: ONNX convolutions and poolings take NCHW, so every `[h, w, c]` map is held as
/// `[N, c, h, w]` inside the graph. With `Options.channelsFirst == false` (the default) the
/// model's image inputs and map outputs keep Zoo's and Keras' NHWC (`[N, h, w, c]`), one
/// `Transpose` after each such input and before each such output; with `channelsFirst` they are
/// NCHW, PyTorch's layout, and the graph has no layout transposes. A `Flatten` or `Reshape` of a
/// map transposes to NHWC first, so a following dense layer sees the elements in the order its
/// weights were trained on. The batch dimension is symbolic (`batch`).
///
/// Operators by opset (13 … 21, default 17): `HardSwish` from 14 (below: `x·HardSigmoid(x)`),
/// `LayerNormalization` from 17 (below: `ReduceMean`, `Sub`, `Mul`, `Sqrt`, `Div`), `ReduceMean`'s
/// axes an input from 18 (an attribute below), `Mish` from 18, `Gelu` from 20 (below: the erf or
/// tanh formula). Metadata (`metadata_props`): `zoo.labels` (a JSON list of class names) and
/// `zoo.preprocessing` (the manifest's `input` section as JSON) when known; producer `zoo`.
public enum ONNXExporter {
    /// The opsets the exporter writes.
    public static let supportedOpsets: ClosedRange<Int> = 13...21
    /// The opset written when none is asked for.
    public static let defaultOpset = 17
    /// The `metadata_props` key of the class names (a JSON list of strings).
    public static let labelsKey = "zoo.labels"
    /// The `metadata_props` key of the preprocessing (the manifest's `input` section, JSON).
    public static let preprocessingKey = "zoo.preprocessing"

    /// How the model is written and what it says about itself.
    public struct Options: Sendable {
        /// The default-domain opset, in `supportedOpsets`.
        public var opset: Int
        /// Image inputs and map outputs NCHW (PyTorch's layout) instead of NHWC.
        public var channelsFirst: Bool
        /// The class names, written as `zoo.labels` when not empty.
        public var labels: [String]
        /// The manifest's `input` section, written as `zoo.preprocessing` when given.
        public var input: InputSpec?

        /// Options with the default opset, NHWC, no labels and no preprocessing unless given.
        public init(opset: Int = ONNXExporter.defaultOpset, channelsFirst: Bool = false, labels: [String] = [], input: InputSpec? = nil) {
            self.opset = opset
            self.channelsFirst = channelsFirst
            self.labels = labels
            self.input = input
        }
    }

    /// The ONNX `ir_version` that goes with `opset` (the onnx package's version table):
    /// 7 for opsets 13–14, 8 for 15–18, 9 for 19–20, 10 for 21.
    public static func irVersion(forOpset opset: Int) -> Int64 {
        switch opset {
        case ...14: 7
        case 15...18: 8
        case 19...20: 9
        default: 10
        }
    }

    /// `network` as an ONNX model named `name`.
    /// - Throws: `ZooKitError.invalidRequest` for an opset outside `supportedOpsets`;
    ///   `ZooKitError.notONNXExpressible` naming every layer (and its kind) that has no ONNX form
    ///   (a custom layer without a `LayerConfig`, settings ONNX cannot express).
    public static func model(of network: Network, name: String, options: Options = Options()) throws -> ONNXModel {
        guard supportedOpsets.contains(options.opset) else {
            throw ZooKitError.invalidRequest("ONNX opset \(options.opset) is not supported: Zoo writes opsets \(supportedOpsets.lowerBound)–\(supportedOpsets.upperBound)")
        }
        let description: NetworkDescription
        do {
            description = try network.networkDescription()
        } catch {
            let custom = customLayers(of: network)
            guard !custom.isEmpty else { throw error }
            throw ZooKitError.notONNXExpressible(UnsupportedLayers(custom))
        }
        var builder = ONNXGraphBuilder(opset: options.opset)
        builder.reserve(description.inputs.map(\.name) + description.nodes.map(\.name))
        let outputNames = Set(description.outputs)
        var values: [String: ONNXValue] = [:]
        var graphInputs: [ONNXValueInfo] = []
        for input in description.inputs {
            let isMap = input.shape.count == 3
            graphInputs.append(valueInfo(input.name, shape: input.shape, channelsFirst: options.channelsFirst))
            let name = isMap && !options.channelsFirst
                ? builder.transpose(input.name, ONNXLayout.toNCHW, output: input.name + "/nchw") : input.name
            values[input.name] = ONNXValue(name: name, shape: input.shape)
        }
        let layers = network.layersByName
        var problems: [(className: String, layer: String, reason: String)] = []
        for node in description.nodes {
            let inputs = node.inputs.compactMap { values[$0] }
            guard inputs.count == node.inputs.count else { continue }  // behind a refused node
            let shape = try network.shape(ofNode: node.name)
            let before = builder.nodes.count
            let result: String
            do {
                result = try builder.emit(node, inputs: inputs, outputShape: shape, layer: layers[node.shares ?? node.name] ?? layers[node.name])
            } catch let error as ONNXUnsupported {
                problems.append((node.layer.kind, node.name, error.reason))
                continue
            }
            var name = result
            if builder.nodes.count > before, builder.nodes.last?.outputs == [result] {
                let wanted = outputNames.contains(node.name) && shape.count == 3 && !options.channelsFirst
                    ? builder.unique(node.name + "/nchw") : node.name
                name = builder.renameLastOutput(result, to: wanted)
            }
            values[node.name] = ONNXValue(name: name, shape: shape)
        }
        guard problems.isEmpty else { throw ZooKitError.notONNXExpressible(UnsupportedLayers(problems)) }
        var graphOutputs: [ONNXValueInfo] = []
        var written = Set<String>()
        for output in description.outputs {
            let value = values[output]!
            let target = written.contains(output) ? builder.unique(output) : output
            written.insert(target)
            if value.isMap && !options.channelsFirst {
                _ = builder.add("Transpose", [value.name], output: target, [.ints("perm", ONNXLayout.toNHWC)])
                _ = builder.renameLastOutput(builder.nodes.last!.outputs[0], to: target)
            } else if value.name != target {
                _ = builder.add("Identity", [value.name], output: target)
                _ = builder.renameLastOutput(builder.nodes.last!.outputs[0], to: target)
            }
            graphOutputs.append(valueInfo(target, shape: value.shape, channelsFirst: options.channelsFirst))
        }
        let graph = ONNXGraph(name: name, nodes: builder.nodes, initializers: builder.initializers, inputs: graphInputs, outputs: graphOutputs)
        return ONNXModel(
            irVersion: irVersion(forOpset: options.opset), opsetImports: [ONNXOperatorSet(version: Int64(options.opset))],
            producerName: "zoo", producerVersion: ZooVersion.current, graph: graph, metadataProps: try metadata(options))
    }

    /// `zoo.labels` and `zoo.preprocessing`, as far as known (JSON with sorted keys, so the same
    /// model always gives the same bytes).
    static func metadata(_ options: Options) throws -> [ONNXStringPair] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var pairs: [ONNXStringPair] = []
        if !options.labels.isEmpty {
            pairs.append(ONNXStringPair(key: labelsKey, value: String(decoding: try encoder.encode(options.labels), as: UTF8.self)))
        }
        if let input = options.input {
            pairs.append(ONNXStringPair(key: preprocessingKey, value: String(decoding: try encoder.encode(input), as: UTF8.self)))
        }
        return pairs
    }

    /// A float input or output `[batch, …]`: maps `[batch, h, w, c]`, or `[batch, c, h, w]` channels-first.
    static func valueInfo(_ name: String, shape: [Int], channelsFirst: Bool) -> ONNXValueInfo {
        let dims = shape.count == 3 && channelsFirst ? [shape[2], shape[0], shape[1]] : shape
        return ONNXValueInfo(name: name, elementType: .float, shape: [.symbol("batch")] + dims.map { .value($0) })
    }

    /// The layers without a `LayerConfig` (custom layers), as (kind, name, reason).
    static func customLayers(of network: Network) -> [(className: String, layer: String, reason: String)] {
        network.layersByName.sorted { $0.key < $1.key }.compactMap { name, layer in
            guard !(layer is any ConfigurableLayer) else { return nil }
            let kind = (layer as? any Layer)?.kind ?? (layer as? any MergeLayer)?.kind ?? String(describing: type(of: layer))
            return (kind, name, "a custom layer: the ONNX writer knows only the engine's built-in layer kinds")
        }
    }
}
