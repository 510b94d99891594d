import ZooFormat

/// The serialized `Functional` config of a `KerasExportGraph`, as Keras 3 writes
/// `config.json` and tf-keras the `@model_config` of a `.h5`: layers in Keras' order, each
/// with its class, settings and inbound nodes (Keras 3: `__keras_tensor__` arguments;
/// tf-keras: `[[layer, call, 0, {}], …]`). Initializers, regularizers and constraints are left
/// to Keras' defaults (they play no part in inference).
enum KerasModelConfig {
    static func make(_ graph: KerasExportGraph, name: String, version: KerasVersion) -> JSONValue {
        let order = graph.order
        var layers: [JSONValue] = []
        for index in order {
            let layer = graph.layers[index]
            layers.append(version == .keras3 ? keras3Layer(layer, graph) : keras2Layer(layer, graph))
        }
        func history(_ ref: KerasExportGraph.Ref) -> JSONValue {
            .array([.string(graph.layers[ref.layer].name), .integer(ref.call), .integer(0)])
        }
        // Keras 3 writes a single input or output unwrapped; lists otherwise.
        func endpoints(_ refs: [KerasExportGraph.Ref]) -> JSONValue {
            version == .keras3 && refs.count == 1 ? history(refs[0]) : .array(refs.map(history))
        }
        let config = JSONValue.object([
            ("name", .string(name)), ("trainable", .bool(true)), ("layers", .array(layers)),
            ("input_layers", endpoints(graph.inputs)), ("output_layers", endpoints(graph.outputs)),
        ])
        if version == .keras3 {
            return .object([("module", .string("keras.src.models.functional")), ("class_name", .string("Functional")), ("config", config),
                            ("registered_name", .string("Functional")), ("build_config", .object([("input_shape", .null)])),
                            ("compile_config", .null)])
        }
        return .object([("class_name", .string("Functional")), ("config", config), ("keras_version", .string("2.15.0")),
                        ("backend", .string("tensorflow"))])
    }

    private static func batchShape(_ shape: [Int]) -> JSONValue { .array([.null] + shape.map { .integer($0) }) }

    private static func keras3Layer(_ layer: KerasExportGraph.Layer, _ graph: KerasExportGraph) -> JSONValue {
        if layer.isInput {
            let settings: [(key: String, value: JSONValue)] = [("batch_shape", batchShape(layer.calls[0].outputShape)), ("dtype", .string("float32")),
                                                               ("sparse", .bool(false)), ("name", .string(layer.name))]
            return .object([("module", .string("keras.layers")), ("class_name", .string("InputLayer")), ("config", .object(settings)),
                            ("registered_name", .null), ("name", .string(layer.name)), ("inbound_nodes", .array([]))])
        }
        func tensor(_ ref: KerasExportGraph.Ref) -> JSONValue {
            let source = graph.layers[ref.layer]
            return .object([("class_name", .string("__keras_tensor__")), ("config", .object([
                ("shape", batchShape(source.calls[ref.call].outputShape)), ("dtype", .string("float32")),
                ("keras_history", .array([.string(source.name), .integer(ref.call), .integer(0)])),
            ]))])
        }
        let nodes = layer.calls.map { call -> JSONValue in
            let arguments: JSONValue = layer.takesList ? .array([.array(call.inputs.map(tensor))]) : .array(call.inputs.map(tensor))
            return .object([("args", arguments), ("kwargs", .object([]))])
        }
        let settings: [(key: String, value: JSONValue)] = [("name", .string(layer.name)), ("trainable", .bool(true)), ("dtype", .string("float32"))]
            + layer.settings
        return .object([("module", .string("keras.layers")), ("class_name", .string(layer.className)), ("config", .object(settings)),
                        ("registered_name", .null), ("name", .string(layer.name)), ("inbound_nodes", .array(nodes))])
    }

    private static func keras2Layer(_ layer: KerasExportGraph.Layer, _ graph: KerasExportGraph) -> JSONValue {
        if layer.isInput {
            let settings: [(key: String, value: JSONValue)] = [("batch_input_shape", batchShape(layer.calls[0].outputShape)), ("dtype", .string("float32")),
                                                               ("sparse", .bool(false)), ("ragged", .bool(false)), ("name", .string(layer.name))]
            return .object([("class_name", .string("InputLayer")), ("config", .object(settings)), ("name", .string(layer.name)),
                            ("inbound_nodes", .array([]))])
        }
        let nodes = layer.calls.map { call in
            JSONValue.array(call.inputs.map { ref in
                .array([.string(graph.layers[ref.layer].name), .integer(ref.call), .integer(0), .object([])])
            })
        }
        let settings: [(key: String, value: JSONValue)] = [("name", .string(layer.name)), ("trainable", .bool(true)), ("dtype", .string("float32"))]
            + layer.settings
        return .object([("class_name", .string(layer.className)), ("config", .object(settings)), ("name", .string(layer.name)),
                        ("inbound_nodes", .array(nodes))])
    }
}
