/// Encodes `ONNXModel` as onnx.proto's messages, fields in field-number order as protobuf's own
/// serializer writes them; proto2 repeated scalars without `[packed = true]` (`dims`,
/// `AttributeProto.floats`/`ints`) unpacked, as protobuf writes those. Empty strings and zero
/// numbers are left out, except where zero is a value (`dims`, `dim_value`, an INT or FLOAT
/// attribute, `data_type`, a node's empty optional input names).
///
/// Every tensor is written as `raw_data` (little-endian, C order) or, when `externalize` says
/// so, as external data placed by `place` (`data_location = EXTERNAL`, `external_data`
/// location/offset/length). A tensor's own `external` (where it was read from) is not reused.
struct ONNXEncoder {
    /// The file being written, for errors.
    let file: String
    /// Whether a tensor goes to external data.
    let externalize: (ONNXTensor) -> Bool
    /// Places an externalized tensor's bytes: returns its location, offset and length.
    let place: (StoredTensor) -> ONNXTensor.External

    func model(_ model: ONNXModel) throws -> ProtoSegments {
        var out = ProtoSegments()
        out.append {
            $0.int64(1, model.irVersion)
            if !model.producerName.isEmpty { $0.string(2, model.producerName) }
            if !model.producerVersion.isEmpty { $0.string(3, model.producerVersion) }
            if !model.domain.isEmpty { $0.string(4, model.domain) }
            $0.int64(5, model.modelVersion)
            if !model.docString.isEmpty { $0.string(6, model.docString) }
        }
        out.message(7, try graph(model.graph))
        out.append {
            for opset in model.opsetImports {
                $0.message(8) {
                    if !opset.domain.isEmpty { $0.string(1, opset.domain) }
                    $0.varintField(2, opset.version)
                }
            }
            for pair in model.metadataProps { $0.message(14) { $0.pair(pair) } }
        }
        return out
    }

    func graph(_ graph: ONNXGraph) throws -> ProtoSegments {
        var out = ProtoSegments()
        for node in graph.nodes { out.message(1, try self.node(node)) }
        if !graph.name.isEmpty { out.append { $0.string(2, graph.name) } }
        for initializer in graph.initializers { out.message(5, try tensor(initializer)) }
        out.append {
            if !graph.docString.isEmpty { $0.string(10, graph.docString) }
            for input in graph.inputs { $0.message(11) { $0.valueInfo(input) } }
            for output in graph.outputs { $0.message(12) { $0.valueInfo(output) } }
            for info in graph.valueInfo { $0.message(13) { $0.valueInfo(info) } }
        }
        return out
    }

    func node(_ node: ONNXNode) throws -> ProtoSegments {
        var out = ProtoSegments()
        out.append {
            for input in node.inputs { $0.string(1, input) }
            for output in node.outputs { $0.string(2, output) }
            if !node.name.isEmpty { $0.string(3, node.name) }
            $0.string(4, node.opType)
        }
        for attribute in node.attributes { out.message(5, try self.attribute(attribute)) }
        if !node.domain.isEmpty { out.append { $0.string(7, node.domain) } }
        return out
    }

    func attribute(_ attribute: ONNXAttribute) throws -> ProtoSegments {
        var out = ProtoSegments()
        out.append { $0.string(1, attribute.name) }
        let type: Int64
        switch attribute.value {
        case .float(let value):
            type = 1
            out.append { $0.float(2, value, always: true) }
        case .int(let value):
            type = 2
            out.append { $0.varintField(3, value) }
        case .string(let value):
            type = 3
            out.append { $0.bytes(4, value) }
        case .tensor(let value):
            type = 4
            out.message(5, try tensor(value))
        case .graph(let value):
            type = 5
            out.message(6, try graph(value))
        case .floats(let values):
            type = 6
            out.append { for value in values { $0.float(7, value, always: true) } }
        case .ints(let values):
            type = 7
            out.append { for value in values { $0.varintField(8, value) } }
        case .strings(let values):
            type = 8
            out.append { for value in values { $0.bytes(9, value) } }
        case .tensors(let values):
            type = 9
            for value in values { out.message(10, try tensor(value)) }
        case .unsupported(let number):
            throw FormatError(file: file, .cannotRepresent(what: "attribute '\(attribute.name)' of type \(number)", why: "Zoo keeps no value for this attribute type (sparse tensors, type protos, graph lists)"))
        }
        out.append { $0.varintField(20, type) }
        return out
    }

    /// A `TensorProto`: dims, data_type, string_data (STRING), name, then raw_data or external data.
    func tensor(_ tensor: ONNXTensor) throws -> ProtoSegments {
        let number = tensor.dataType == .undefined ? tensor.dataTypeNumber : tensor.dataType.rawValue
        let label = "tensor '\(tensor.name)'"
        guard let layout = ONNXElementLayout(number) else {
            throw FormatError(file: file, .cannotRepresent(what: label, why: "data_type \(number) is not an ONNX element type"))
        }
        guard let count = checkedElementCount(tensor.dims) else {
            throw FormatError(file: file, .cannotRepresent(what: label, why: "its dims \(tensor.dims) are negative or overflow"))
        }
        guard tensor.tensor.dtype == layout.dtype, tensor.tensor.elementCount == layout.storedCount(count) else {
            throw FormatError(file: file, .cannotRepresent(what: label, why: "its elements (\(tensor.tensor.elementCount) \(tensor.tensor.dtype)) are not those of a \(layout.name) tensor of dims \(tensor.dims)"))
        }
        if layout.number == ONNXDataType.string.rawValue, tensor.strings.count != count {
            throw FormatError(file: file, .cannotRepresent(what: label, why: "\(tensor.strings.count) strings for dims \(tensor.dims)"))
        }
        var out = ProtoSegments()
        out.append {
            for dim in tensor.dims { $0.varintField(1, Int64(dim)) }
            $0.varintField(2, Int64(number))
            for string in tensor.strings { $0.bytes(6, string) }
            if !tensor.name.isEmpty { $0.string(8, tensor.name) }
        }
        guard layout.number != ONNXDataType.string.rawValue else { return out }
        if externalize(tensor) {
            let placed = place(tensor.tensor)
            out.append {
                $0.message(13) { $0.pair(ONNXStringPair(key: "location", value: placed.location)) }
                $0.message(13) { $0.pair(ONNXStringPair(key: "offset", value: String(placed.offset))) }
                $0.message(13) { $0.pair(ONNXStringPair(key: "length", value: String(placed.length ?? tensor.tensor.byteCount))) }
                $0.varintField(14, 1)
            }
        } else {
            out.tensorBytes(9, tensor.tensor)
        }
        return out
    }
}

extension ProtoWriter {
    /// A varint field written whatever its value (zero included), as proto2 writes a set field.
    mutating func varintField(_ number: Int, _ value: Int64) {
        key(number, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A `StringStringEntryProto`'s fields.
    mutating func pair(_ pair: ONNXStringPair) {
        string(1, pair.key)
        string(2, pair.value)
    }

    /// A `ValueInfoProto`'s fields: name, and a tensor type when the element type or shape is known.
    mutating func valueInfo(_ info: ONNXValueInfo) {
        string(1, info.name)
        guard info.elementType != .undefined || info.shape != nil else { return }
        message(2) { type in
            type.message(1) { tensorType in
                tensorType.varintField(1, Int64(info.elementType.rawValue))
                if let shape = info.shape {
                    tensorType.message(2) { shapeProto in
                        for dimension in shape {
                            shapeProto.message(1) {
                                switch dimension {
                                case .value(let value): $0.varintField(1, Int64(value))
                                case .symbol(let name): $0.string(2, name)
                                case .unknown: break
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
