/// An ONNX model (`ModelProto` of https://github.com/onnx/onnx/blob/main/onnx/onnx.proto),
/// the parts Zoo reads and writes: the graph, the operator sets it was written against and the
/// model's string metadata. Training info, functions and device configurations are not kept.
///
/// Reading (`ONNXReader`) fills these from a `.onnx` file without copying tensor bytes;
/// writing (`ONNXWriter`) encodes them in field-number order.
public struct ONNXModel: Sendable {
    /// `ir_version` (field 1): the file format's revision (8 for opset 17 and later writers, 9–10 for 19–21).
    public var irVersion: Int64
    /// `opset_import` (field 8): the operator set versions per domain (`""` is the default ONNX domain).
    public var opsetImports: [ONNXOperatorSet]
    /// `producer_name` (field 2), e.g. `"pytorch"`, `"tf2onnx"`, `"zoo"`.
    public var producerName: String
    /// `producer_version` (field 3).
    public var producerVersion: String
    /// `domain` (field 4).
    public var domain: String
    /// `model_version` (field 5).
    public var modelVersion: Int64
    /// `doc_string` (field 6).
    public var docString: String
    /// `graph` (field 7).
    public var graph: ONNXGraph
    /// `metadata_props` (field 14), in file order (Zoo writes labels and preprocessing here).
    public var metadataProps: [ONNXStringPair]

    /// A model of `graph` against `opsetImports` (the other fields as given or empty).
    public init(
        irVersion: Int64, opsetImports: [ONNXOperatorSet], producerName: String = "", producerVersion: String = "",
        domain: String = "", modelVersion: Int64 = 0, docString: String = "", graph: ONNXGraph,
        metadataProps: [ONNXStringPair] = []
    ) {
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.graph = graph
        self.metadataProps = metadataProps
    }

    /// The version of the default (`""` or `"ai.onnx"`) operator set, if imported.
    public var defaultOpset: Int64? {
        opsetImports.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version
    }
}

/// `OperatorSetIdProto`: a domain (`""` = ONNX) and its version.
public struct ONNXOperatorSet: Sendable, Equatable {
    /// `domain` (field 1).
    public var domain: String
    /// `version` (field 2).
    public var version: Int64

    /// The operator set `version` of `domain`.
    public init(domain: String = "", version: Int64) {
        self.domain = domain
        self.version = version
    }
}

/// `StringStringEntryProto`: a key and a value.
public struct ONNXStringPair: Sendable, Equatable {
    /// `key` (field 1).
    public var key: String
    /// `value` (field 2).
    public var value: String

    /// The pair `key` = `value`.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// `GraphProto`: nodes in topological order (the ONNX rule), constant tensors, inputs and outputs.
public struct ONNXGraph: Sendable {
    /// `name` (field 2).
    public var name: String
    /// `node` (field 1), in the file's (topological) order.
    public var nodes: [ONNXNode]
    /// `initializer` (field 5): the weights and other constants, by name.
    public var initializers: [ONNXTensor]
    /// `input` (field 11). Before IR version 4 initializers were listed here too.
    public var inputs: [ONNXValueInfo]
    /// `output` (field 12).
    public var outputs: [ONNXValueInfo]
    /// `value_info` (field 13): shapes of intermediate values, when the producer recorded them.
    public var valueInfo: [ONNXValueInfo]
    /// `doc_string` (field 10).
    public var docString: String

    /// A graph of `nodes` on `inputs` (the other fields as given or empty).
    public init(
        name: String, nodes: [ONNXNode], initializers: [ONNXTensor] = [], inputs: [ONNXValueInfo],
        outputs: [ONNXValueInfo], valueInfo: [ONNXValueInfo] = [], docString: String = ""
    ) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
        self.docString = docString
    }
}

/// `NodeProto`: one operator application.
public struct ONNXNode: Sendable {
    /// `name` (field 3); may be empty.
    public var name: String
    /// `op_type` (field 4), e.g. `"Conv"`.
    public var opType: String
    /// `domain` (field 7); `""` is the ONNX domain.
    public var domain: String
    /// `input` (field 1): value names; `""` marks an omitted optional input.
    public var inputs: [String]
    /// `output` (field 2): value names.
    public var outputs: [String]
    /// `attribute` (field 5), in file order.
    public var attributes: [ONNXAttribute]

    /// The node `opType(inputs) -> outputs`.
    public init(
        name: String = "", opType: String, domain: String = "", inputs: [String], outputs: [String],
        attributes: [ONNXAttribute] = []
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// The attribute named `name`, if present.
    public func attribute(_ name: String) -> ONNXAttribute.Value? {
        attributes.first { $0.name == name }?.value
    }
}

/// `AttributeProto`: a named constant setting of a node.
public struct ONNXAttribute: Sendable {
    /// `name` (field 1).
    public var name: String
    /// The value, by `type` (field 20).
    public var value: Value

    /// The attribute `name` = `value`.
    public init(name: String, _ value: Value) {
        self.name = name
        self.value = value
    }

    /// The typed value of an attribute (`AttributeType`).
    public indirect enum Value: Sendable {
        /// FLOAT (1): field 2.
        case float(Float)
        /// INT (2): field 3.
        case int(Int64)
        /// STRING (3): field 4, bytes (UTF-8 by convention).
        case string([UInt8])
        /// TENSOR (4): field 5.
        case tensor(ONNXTensor)
        /// GRAPH (5): field 6 (the bodies of `If`, `Loop`, `Scan`).
        case graph(ONNXGraph)
        /// FLOATS (6): field 7.
        case floats([Float])
        /// INTS (7): field 8.
        case ints([Int64])
        /// STRINGS (8): field 9.
        case strings([[UInt8]])
        /// TENSORS (9): field 10.
        case tensors([ONNXTensor])
        /// A type Zoo does not interpret (sparse tensors, type protos, graph lists), by its `AttributeType` number.
        case unsupported(type: Int64)

        /// The value as an integer, if it is one.
        public var int: Int64? { if case .int(let v) = self { v } else { nil } }
        /// The value as a float, if it is one (an INT reads as a float too).
        public var float: Float? {
            switch self {
            case .float(let v): v
            case .int(let v): Float(v)
            default: nil
            }
        }
        /// The value as a list of integers, if it is one.
        public var ints: [Int64]? { if case .ints(let v) = self { v } else { nil } }
        /// The value as a list of floats, if it is one.
        public var floats: [Float]? { if case .floats(let v) = self { v } else { nil } }
        /// The value as a UTF-8 string, if it is one.
        public var string: String? { if case .string(let v) = self { String(decoding: v, as: UTF8.self) } else { nil } }
        /// The value as a tensor, if it is one.
        public var tensor: ONNXTensor? { if case .tensor(let v) = self { v } else { nil } }
    }
}

/// `TensorProto.DataType`: the element types of ONNX tensors, by their numbers.
public enum ONNXDataType: Int32, Sendable, CaseIterable {
    /// UNDEFINED.
    case undefined = 0
    /// FLOAT (float32).
    case float = 1
    /// UINT8.
    case uint8 = 2
    /// INT8.
    case int8 = 3
    /// UINT16.
    case uint16 = 4
    /// INT16.
    case int16 = 5
    /// INT32.
    case int32 = 6
    /// INT64.
    case int64 = 7
    /// STRING.
    case string = 8
    /// BOOL.
    case bool = 9
    /// FLOAT16.
    case float16 = 10
    /// DOUBLE (float64).
    case double = 11
    /// UINT32.
    case uint32 = 12
    /// UINT64.
    case uint64 = 13
    /// COMPLEX64.
    case complex64 = 14
    /// COMPLEX128.
    case complex128 = 15
    /// BFLOAT16.
    case bfloat16 = 16

    /// Zoo's element type for this ONNX type, or nil for strings, complex numbers and undefined.
    public var dtype: DType? {
        switch self {
        case .float: .float32
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .bool: .bool
        case .float16: .float16
        case .double: .float64
        case .uint32: .uint32
        case .uint64: .uint64
        case .bfloat16: .bfloat16
        case .undefined, .string, .complex64, .complex128: nil
        }
    }

    /// The ONNX type for Zoo's `dtype`, or nil for opaque types.
    public init?(_ dtype: DType) {
        switch dtype {
        case .float32: self = .float
        case .uint8: self = .uint8
        case .int8: self = .int8
        case .uint16: self = .uint16
        case .int16: self = .int16
        case .int32: self = .int32
        case .int64: self = .int64
        case .bool: self = .bool
        case .float16: self = .float16
        case .float64: self = .double
        case .uint32: self = .uint32
        case .uint64: self = .uint64
        case .bfloat16: self = .bfloat16
        case .opaque: return nil
        }
    }
}

/// `TensorProto`: a named constant (an initializer, a `Constant` node's value, a tensor attribute).
///
/// Its elements, in C order, are `tensor`: a `StoredTensor` whatever the proto used
/// (`raw_data`, the typed fields `float_data`/`int32_data`/`int64_data`/`double_data`/`uint64_data`
/// decoded to the declared type, or external data in a file next to the model), so everything
/// Zoo does with tensors (inspect, convert, assign) applies.
public struct ONNXTensor: Sendable {
    /// `name` (field 8).
    public var name: String
    /// `data_type` (field 2).
    public var dataType: ONNXDataType
    /// `dims` (field 1).
    public var dims: [Int]
    /// The elements (dtype `dataType.dtype`, shape `dims`); `raw_data` and external data are
    /// views of the mapped files, never copied on reading.
    public var tensor: StoredTensor
    /// Where an external tensor's bytes are (`external_data`: location, offset, length), if it is one.
    public var external: External?
    /// `data_type` as the file stores it: `dataType.rawValue`, except for the element types
    /// `ONNXDataType` has no case for (the float8 types 17–20 and 24, the packed 4-bit 21–23
    /// and 2-bit 25–26), where `dataType` is `.undefined` and this keeps the number, so the
    /// tensor is written back as it was read. Such a `tensor` has an opaque dtype
    /// (`float8_e4m3fn`, …); a packed type's is its bytes, shape `[⌈count / 2⌉]` (`int4x2`)
    /// or `[⌈count / 4⌉]` (`int2x4`), while `dims` stays the ONNX shape.
    public var dataTypeNumber: Int32
    /// A `STRING` tensor's elements (`string_data`, C order); empty for other types. `tensor`
    /// is then a placeholder of `dims` with the opaque dtype `string` of 0 bytes per element.
    public var strings: [[UInt8]] = []

    /// A tensor `name` of `tensor`'s elements, dtype and shape.
    /// - Throws: `FormatError.cannotRepresent` for an opaque dtype.
    public init(name: String, _ tensor: StoredTensor, external: External? = nil) throws {
        guard let type = ONNXDataType(tensor.dtype) else {
            throw FormatError(file: tensor.file, .cannotRepresent(what: "tensor '\(name)' of dtype \(tensor.dtype)", why: "ONNX has no such element type"))
        }
        self.name = name
        self.dataType = type
        self.dims = tensor.shape
        self.tensor = tensor
        self.external = external
        self.dataTypeNumber = type.rawValue
    }

    /// `external_data` of a tensor stored outside the model file.
    public struct External: Sendable, Equatable {
        /// `location`: a path relative to the model's directory.
        public var location: String
        /// `offset` in bytes (0 if absent).
        public var offset: Int
        /// `length` in bytes, if given.
        public var length: Int?

        /// The bytes at `offset` (`length` of them, or to the end) of `location`.
        public init(location: String, offset: Int = 0, length: Int? = nil) {
            self.location = location
            self.offset = offset
            self.length = length
        }
    }
}

/// `ValueInfoProto` with a tensor type: a graph input's, output's or intermediate value's name,
/// element type and shape.
public struct ONNXValueInfo: Sendable {
    /// `name` (field 1).
    public var name: String
    /// `type.tensor_type.elem_type`, or `.undefined` when the type is not a tensor.
    public var elementType: ONNXDataType
    /// `type.tensor_type.shape`: one entry per dimension; nil when the shape is not recorded.
    public var shape: [ONNXDimension]?

    /// The value `name` of `elementType` and `shape`.
    public init(name: String, elementType: ONNXDataType, shape: [ONNXDimension]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }
}

/// `TensorShapeProto.Dimension`: a fixed size, a named symbolic size (`"batch"`) or unknown.
public enum ONNXDimension: Sendable, Equatable {
    /// `dim_value`.
    case value(Int)
    /// `dim_param`.
    case symbol(String)
    /// Neither was set.
    case unknown

    /// The size, if fixed.
    public var value: Int? { if case .value(let v) = self { v } else { nil } }
}
