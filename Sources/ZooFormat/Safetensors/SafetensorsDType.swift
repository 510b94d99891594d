/// safetensors dtype codes (`F32`, `BF16`, `F8_E4M3`, …) ↔ `DType`.
enum SafetensorsDType {
    static func dtype(forCode code: String) -> DType? {
        switch code {
        case "BOOL": .bool
        case "U8": .uint8
        case "I8": .int8
        case "U16": .uint16
        case "I16": .int16
        case "U32": .uint32
        case "I32": .int32
        case "U64": .uint64
        case "I64": .int64
        case "F16": .float16
        case "BF16": .bfloat16
        case "F32": .float32
        case "F64": .float64
        case "F8_E4M3": .opaque(name: "float8_e4m3fn", byteCount: 1, swapUnit: 1)
        case "F8_E5M2": .opaque(name: "float8_e5m2", byteCount: 1, swapUnit: 1)
        case "F8_E8M0": .opaque(name: "float8_e8m0fnu", byteCount: 1, swapUnit: 1)
        case "C64": .opaque(name: "complex64", byteCount: 8, swapUnit: 4)
        default: nil
        }
    }

    static func code(for dtype: DType) -> String? {
        switch dtype {
        case .bool: "BOOL"
        case .uint8: "U8"
        case .int8: "I8"
        case .uint16: "U16"
        case .int16: "I16"
        case .uint32: "U32"
        case .int32: "I32"
        case .uint64: "U64"
        case .int64: "I64"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .float32: "F32"
        case .float64: "F64"
        case .opaque(let name, _, _):
            switch name {
            case "float8_e4m3fn": "F8_E4M3"
            case "float8_e5m2": "F8_E5M2"
            case "float8_e8m0fnu": "F8_E8M0"
            case "complex64": "C64"
            default: nil
            }
        }
    }
}
