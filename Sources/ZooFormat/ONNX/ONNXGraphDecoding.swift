/// Decodes the messages of onnx.proto above `TensorProto`, field by field, checking each
/// field's wire type; fields Zoo does not keep are skipped (and still bounds-checked).
///
///     ModelProto      1 ir_version  2 producer_name  3 producer_version  4 domain
///                     5 model_version  6 doc_string  7 graph  8 opset_import  14 metadata_props
///     GraphProto      1 node  2 name  5 initializer  10 doc_string  11 input  12 output  13 value_info
///     NodeProto       1 input  2 output  3 name  4 op_type  5 attribute  7 domain
///     AttributeProto  1 name  20 type  2 f  3 i  4 s  5 t  6 g  7 floats  8 ints  9 strings  10 tensors
///     ValueInfoProto  1 name  2 type → TypeProto 1 tensor_type → 1 elem_type, 2 shape → 1 dim → 1 dim_value | 2 dim_param
///
/// Offsets in errors count from the start of the file; keys name the message
/// (`graph.node[12].attribute[0]`, `graph.initializer[3] 'conv1.weight'`).
struct ONNXDecoder {
    /// The model file (its bytes, and the owner of raw_data views).
    let file: MappedFile
    /// Where external data is found.
    let external: ONNXExternalFiles
    /// What is left of the items a model may have.
    let budget: ONNXItemBudget

    /// A decoder of `file` allowed `maximumItems` items.
    init(file: MappedFile, external: ONNXExternalFiles, maximumItems: Int = ONNXItemBudget.maximumItems) {
        self.file = file
        self.external = external
        budget = ONNXItemBudget(maximumItems)
    }

    /// The `ModelProto` that is the whole file.
    func model() throws -> ONNXModel {
        var reader = ProtoReader(file.bytes, file: file.path, context: "ModelProto")
        var model = ONNXModel(irVersion: 0, opsetImports: [], graph: ONNXGraph(name: "", nodes: [], inputs: [], outputs: []))
        var hasGraph = false
        while let field = try reader.nextField() {
            switch field.number {
            case 1: model.irVersion = try reader.int64(field, "ModelProto.ir_version")
            case 2: model.producerName = try reader.string(field, "ModelProto.producer_name")
            case 3: model.producerVersion = try reader.string(field, "ModelProto.producer_version")
            case 4: model.domain = try reader.string(field, "ModelProto.domain")
            case 5: model.modelVersion = try reader.int64(field, "ModelProto.model_version")
            case 6: model.docString = try reader.string(field, "ModelProto.doc_string")
            case 7:
                try reader.require(field, 2, "ModelProto.graph")
                model.graph = try graph(try reader.embedded("graph"), key: "graph", depth: 1)
                hasGraph = true
            case 8:
                try reader.require(field, 2, "ModelProto.opset_import")
                try budget.spend(reader)
                var entry = try reader.embedded("opset_import[\(model.opsetImports.count)]")
                var opset = ONNXOperatorSet(version: 0)
                while let inner = try entry.nextField() {
                    switch inner.number {
                    case 1: opset.domain = try entry.string(inner, "OperatorSetIdProto.domain")
                    case 2: opset.version = try entry.int64(inner, "OperatorSetIdProto.version")
                    default: try entry.skip(inner.wireType)
                    }
                }
                model.opsetImports.append(opset)
            case 14:
                try reader.require(field, 2, "ModelProto.metadata_props")
                try budget.spend(reader)
                var entry = try reader.embedded("metadata_props[\(model.metadataProps.count)]")
                model.metadataProps.append(try stringPair(&entry))
            default: try reader.skip(field.wireType)
            }
        }
        guard hasGraph else {
            throw FormatError(file: file.path, .malformed(at: .key("ModelProto"), expected: "a graph (ModelProto field 7)", found: "none"))
        }
        return model
    }

    /// A `GraphProto` at nesting `depth` (1 for the model's graph; If/Loop/Scan bodies deeper).
    func graph(_ body: ProtoReader, key: String, depth: Int) throws -> ONNXGraph {
        guard depth <= ONNXReader.maximumGraphDepth else {
            throw FormatError(file: file.path, .malformed(at: .offsetIn(key, body.origin), expected: "graphs nested at most \(ONNXReader.maximumGraphDepth) deep", found: "a graph at depth \(depth)"))
        }
        var reader = body
        var graph = ONNXGraph(name: "", nodes: [], inputs: [], outputs: [])
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                try reader.require(field, 2, "GraphProto.node")
                let nodeKey = "\(key).node[\(graph.nodes.count)]"
                try budget.spend(reader)
                graph.nodes.append(try node(try reader.embedded(nodeKey), key: nodeKey, depth: depth))
            case 2: graph.name = try reader.string(field, "GraphProto.name")
            case 5:
                try reader.require(field, 2, "GraphProto.initializer")
                let tensorKey = "\(key).initializer[\(graph.initializers.count)]"
                try budget.spend(reader)
                graph.initializers.append(try tensor(try reader.embedded(tensorKey), key: tensorKey))
            case 10: graph.docString = try reader.string(field, "GraphProto.doc_string")
            case 11: graph.inputs.append(try valueInfo(&reader, field, key: "\(key).input[\(graph.inputs.count)]"))
            case 12: graph.outputs.append(try valueInfo(&reader, field, key: "\(key).output[\(graph.outputs.count)]"))
            case 13: graph.valueInfo.append(try valueInfo(&reader, field, key: "\(key).value_info[\(graph.valueInfo.count)]"))
            default: try reader.skip(field.wireType)
            }
        }
        return graph
    }

    /// A `NodeProto`.
    func node(_ body: ProtoReader, key: String, depth: Int) throws -> ONNXNode {
        var reader = body
        var node = ONNXNode(opType: "", inputs: [], outputs: [])
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                try budget.spend(reader)
                node.inputs.append(try reader.string(field, "NodeProto.input"))
            case 2:
                try budget.spend(reader)
                node.outputs.append(try reader.string(field, "NodeProto.output"))
            case 3: node.name = try reader.string(field, "NodeProto.name")
            case 4: node.opType = try reader.string(field, "NodeProto.op_type")
            case 5:
                try reader.require(field, 2, "NodeProto.attribute")
                let attributeKey = "\(key).attribute[\(node.attributes.count)]"
                try budget.spend(reader)
                node.attributes.append(try attribute(try reader.embedded(attributeKey), key: attributeKey, depth: depth))
            case 7: node.domain = try reader.string(field, "NodeProto.domain")
            default: try reader.skip(field.wireType)
            }
        }
        return node
    }

    /// An `AttributeProto`: its value chosen by `type` (or, in files older than the `type`
    /// field, by the value field present).
    func attribute(_ body: ProtoReader, key: String, depth: Int) throws -> ONNXAttribute {
        var reader = body
        var name = ""
        var type: Int64 = 0
        var inferred: Int64 = 0
        var float: Float = 0
        var int: Int64 = 0
        var string: [UInt8] = []
        var tensor: ONNXTensor?
        var graph: ONNXGraph?
        var floats: [Float] = []
        var ints: [Int64] = []
        var strings: [[UInt8]] = []
        var tensors: [ONNXTensor] = []
        while let field = try reader.nextField() {
            switch field.number {
            case 1: name = try reader.string(field, "AttributeProto.name")
            case 20: type = try reader.int64(field, "AttributeProto.type")
            case 2: (float, inferred) = (try reader.float(field, "AttributeProto.f"), 1)
            case 3: (int, inferred) = (try reader.int64(field, "AttributeProto.i"), 2)
            case 4: (string, inferred) = (try reader.byteArray(field, "AttributeProto.s"), 3)
            case 5:
                try reader.require(field, 2, "AttributeProto.t")
                (tensor, inferred) = (try self.tensor(try reader.embedded(key + ".t"), key: key + ".t"), 4)
            case 6:
                try reader.require(field, 2, "AttributeProto.g")
                (graph, inferred) = (try self.graph(try reader.embedded(key + ".g"), key: key + ".g", depth: depth + 1), 5)
            case 7:
                try reader.repeated(field, element: 5, "AttributeProto.floats") {
                    try budget.spend($0)
                    floats.append(Float(bitPattern: try $0.fixed32()))
                }
                inferred = 6
            case 8:
                try reader.repeated(field, element: 0, "AttributeProto.ints") {
                    try budget.spend($0)
                    ints.append(Int64(bitPattern: try $0.varint()))
                }
                inferred = 7
            case 9:
                try budget.spend(reader)
                strings.append(try reader.byteArray(field, "AttributeProto.strings"))
                inferred = 8
            case 10:
                try reader.require(field, 2, "AttributeProto.tensors")
                let tensorKey = "\(key).tensors[\(tensors.count)]"
                try budget.spend(reader)
                tensors.append(try self.tensor(try reader.embedded(tensorKey), key: tensorKey))
                inferred = 9
            default: try reader.skip(field.wireType)
            }
        }
        if type == 0 { type = inferred }
        func missing(_ what: String) -> FormatError {
            FormatError(file: file.path, .malformed(at: .key("\(key) '\(name)'"), expected: "\(what) for an attribute of type \(type)", found: "none"))
        }
        let value: ONNXAttribute.Value
        switch type {
        case 1: value = .float(float)
        case 2: value = .int(int)
        case 3: value = .string(string)
        case 4:
            guard let tensor else { throw missing("a tensor (field t)") }
            value = .tensor(tensor)
        case 5:
            guard let graph else { throw missing("a graph (field g)") }
            value = .graph(graph)
        case 6: value = .floats(floats)
        case 7: value = .ints(ints)
        case 8: value = .strings(strings)
        case 9: value = .tensors(tensors)
        default: value = .unsupported(type: type)
        }
        return ONNXAttribute(name: name, value)
    }

    /// A `ValueInfoProto` field: name, and the tensor type's element type and shape if it has one.
    func valueInfo(_ reader: inout ProtoReader, _ field: (number: Int, wireType: Int), key: String) throws -> ONNXValueInfo {
        try reader.require(field, 2, "GraphProto value info")
        try budget.spend(reader)
        var body = try reader.embedded(key)
        var info = ONNXValueInfo(name: "", elementType: .undefined, shape: nil)
        while let field = try body.nextField() {
            switch field.number {
            case 1: info.name = try body.string(field, "ValueInfoProto.name")
            case 2:
                try body.require(field, 2, "ValueInfoProto.type")
                var type = try body.embedded(key + ".type")
                while let typeField = try type.nextField() {
                    guard typeField.number == 1 else {
                        try type.skip(typeField.wireType)
                        continue
                    }
                    try type.require(typeField, 2, "TypeProto.tensor_type")
                    var tensorType = try type.embedded(key + ".type.tensor_type")
                    while let inner = try tensorType.nextField() {
                        switch inner.number {
                        case 1: info.elementType = ONNXDataType(rawValue: Int32(truncatingIfNeeded: try tensorType.int64(inner, "TypeProto.Tensor.elem_type"))) ?? .undefined
                        case 2:
                            try tensorType.require(inner, 2, "TypeProto.Tensor.shape")
                            info.shape = try shape(try tensorType.embedded(key + ".type.tensor_type.shape"))
                        default: try tensorType.skip(inner.wireType)
                        }
                    }
                }
            default: try body.skip(field.wireType)
            }
        }
        return info
    }

    /// A `TensorShapeProto`: one `ONNXDimension` per `dim` (a negative `dim_value` reads as unknown).
    func shape(_ body: ProtoReader) throws -> [ONNXDimension] {
        var reader = body
        var dimensions: [ONNXDimension] = []
        while let field = try reader.nextField() {
            guard field.number == 1 else {
                try reader.skip(field.wireType)
                continue
            }
            try reader.require(field, 2, "TensorShapeProto.dim")
            try budget.spend(reader)
            var dim = try reader.embedded(reader.context)
            var dimension = ONNXDimension.unknown
            while let inner = try dim.nextField() {
                switch inner.number {
                case 1:
                    let value = try dim.int64(inner, "Dimension.dim_value")
                    dimension = value >= 0 && value <= Int64(Int.max) ? .value(Int(value)) : .unknown
                case 2: dimension = .symbol(try dim.string(inner, "Dimension.dim_param"))
                default: try dim.skip(inner.wireType)
                }
            }
            dimensions.append(dimension)
        }
        return dimensions
    }
}

/// A bound on the items of one model (nodes, attributes, tensors, value infos, names, list
/// elements, shape dimensions), so that no file, however repetitive, makes the decoded model
/// much larger than real ones: 2²³ items, about 1 GB of decoded structure at most; the largest
/// published models have some 10⁵.
final class ONNXItemBudget {
    /// The items a model may have.
    static let maximumItems = 1 << 23
    private let limit: Int
    private var used = 0

    init(_ limit: Int) { self.limit = limit }

    /// Counts one item read at `reader`'s position.
    /// - Throws: `.malformed` once more than the limit have been read.
    func spend(_ reader: ProtoReader) throws {
        used += 1
        guard used <= limit else {
            throw reader.malformed("at most \(limit) nodes, attributes, tensors, value infos, names and list elements in the model", "more")
        }
    }
}
