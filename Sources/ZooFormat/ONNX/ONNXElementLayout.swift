/// How one `TensorProto.data_type` number is stored: the dtype of its `StoredTensor`, how many
/// elements share a stored byte, and which typed field (`float_data`, `int32_data`, …) may carry
/// its values instead of `raw_data` (the rules of onnx.proto's comments on those fields).
struct ONNXElementLayout: Sendable {
    /// The `data_type` number.
    let number: Int32
    /// The proto's name (`FLOAT`, `FLOAT8E4M3FN`).
    let name: String
    /// The dtype of the stored bytes: Zoo's numeric type, or an opaque one (complex, float8,
    /// the packed bytes of 4-bit and 2-bit types, strings).
    let dtype: DType
    /// Elements per stored element: 1, or 2 (4-bit types), 4 (2-bit types) packed in a byte.
    private(set) var perByte: Int
    /// The typed field that may hold the values: 4 float_data, 5 int32_data, 6 string_data,
    /// 7 int64_data, 10 double_data, 11 uint64_data.
    let typedField: Int
    /// Values of `typedField` per stored element: 2 for complex types (real, imaginary), else 1.
    private(set) var valuesPerElement: Int

    /// The typed fields' names, by number.
    static let fieldNames = [4: "float_data", 5: "int32_data", 6: "string_data", 7: "int64_data", 10: "double_data", 11: "uint64_data"]

    /// The element wire type of each typed field (0 varint, 1 64-bit, 5 32-bit; 2 for string_data's bytes).
    static let fieldWireTypes = [4: 5, 5: 0, 6: 2, 7: 0, 10: 1, 11: 0]

    /// The layout of `number`, or nil for UNDEFINED and numbers onnx.proto does not define.
    init?(_ number: Int32) {
        self.number = number
        perByte = 1
        valuesPerElement = 1
        switch number {
        case 1: (name, dtype, typedField) = ("FLOAT", .float32, 4)
        case 2: (name, dtype, typedField) = ("UINT8", .uint8, 5)
        case 3: (name, dtype, typedField) = ("INT8", .int8, 5)
        case 4: (name, dtype, typedField) = ("UINT16", .uint16, 5)
        case 5: (name, dtype, typedField) = ("INT16", .int16, 5)
        case 6: (name, dtype, typedField) = ("INT32", .int32, 5)
        case 7: (name, dtype, typedField) = ("INT64", .int64, 7)
        case 8: (name, dtype, typedField) = ("STRING", .opaque(name: "string", byteCount: 0, swapUnit: 1), 6)
        case 9: (name, dtype, typedField) = ("BOOL", .bool, 5)
        case 10: (name, dtype, typedField) = ("FLOAT16", .float16, 5)
        case 11: (name, dtype, typedField) = ("DOUBLE", .float64, 10)
        case 12: (name, dtype, typedField) = ("UINT32", .uint32, 11)
        case 13: (name, dtype, typedField) = ("UINT64", .uint64, 11)
        case 14:
            (name, dtype, typedField) = ("COMPLEX64", .opaque(name: "complex64", byteCount: 8, swapUnit: 4), 4)
            valuesPerElement = 2
        case 15:
            (name, dtype, typedField) = ("COMPLEX128", .opaque(name: "complex128", byteCount: 16, swapUnit: 8), 10)
            valuesPerElement = 2
        case 16: (name, dtype, typedField) = ("BFLOAT16", .bfloat16, 5)
        case 17: (name, dtype, typedField) = ("FLOAT8E4M3FN", .opaque(name: "float8_e4m3fn", byteCount: 1, swapUnit: 1), 5)
        case 18: (name, dtype, typedField) = ("FLOAT8E4M3FNUZ", .opaque(name: "float8_e4m3fnuz", byteCount: 1, swapUnit: 1), 5)
        case 19: (name, dtype, typedField) = ("FLOAT8E5M2", .opaque(name: "float8_e5m2", byteCount: 1, swapUnit: 1), 5)
        case 20: (name, dtype, typedField) = ("FLOAT8E5M2FNUZ", .opaque(name: "float8_e5m2fnuz", byteCount: 1, swapUnit: 1), 5)
        case 21:
            (name, dtype, typedField) = ("UINT4", .opaque(name: "uint4x2", byteCount: 1, swapUnit: 1), 5)
            perByte = 2
        case 22:
            (name, dtype, typedField) = ("INT4", .opaque(name: "int4x2", byteCount: 1, swapUnit: 1), 5)
            perByte = 2
        case 23:
            (name, dtype, typedField) = ("FLOAT4E2M1", .opaque(name: "float4_e2m1x2", byteCount: 1, swapUnit: 1), 5)
            perByte = 2
        case 24: (name, dtype, typedField) = ("FLOAT8E8M0", .opaque(name: "float8_e8m0fnu", byteCount: 1, swapUnit: 1), 5)
        case 25:
            (name, dtype, typedField) = ("UINT2", .opaque(name: "uint2x4", byteCount: 1, swapUnit: 1), 5)
            perByte = 4
        case 26:
            (name, dtype, typedField) = ("INT2", .opaque(name: "int2x4", byteCount: 1, swapUnit: 1), 5)
            perByte = 4
        default: return nil
        }
    }

    /// The stored elements of `count` ONNX elements: `count`, or `⌈count / perByte⌉` packed bytes.
    func storedCount(_ count: Int) -> Int {
        perByte == 1 ? count : count / perByte + (count % perByte == 0 ? 0 : 1)
    }

    /// The `StoredTensor` shape for ONNX dims of `count` elements: the dims, or the packed bytes.
    func storedShape(_ dims: [Int], count: Int) -> [Int] {
        perByte == 1 ? dims : [storedCount(count)]
    }
}
