/// The element type of a stored tensor, named as NumPy names it.
///
/// The thirteen numeric types below can be converted to `Float`. Any other
/// element type a format allows (safetensors' `F8_E4M3`, NumPy's `complex64`, …)
/// is kept as `.opaque`: such a tensor is still listed with its name and bytes,
/// only converting it fails with `unsupportedDType`.
public enum DType: Hashable, Sendable, CustomStringConvertible {
    /// One byte, 0 or 1 (NumPy `bool`, safetensors `BOOL`).
    case bool
    /// Signed 8-bit integer.
    case int8
    /// Signed 16-bit integer.
    case int16
    /// Signed 32-bit integer.
    case int32
    /// Signed 64-bit integer.
    case int64
    /// Unsigned 8-bit integer (IDX image pixels).
    case uint8
    /// Unsigned 16-bit integer.
    case uint16
    /// Unsigned 32-bit integer.
    case uint32
    /// Unsigned 64-bit integer.
    case uint64
    /// IEEE 754 half precision (1 sign, 5 exponent, 10 fraction bits).
    case float16
    /// Brain float: the top 16 bits of a float32 (1 sign, 8 exponent, 7 fraction bits).
    case bfloat16
    /// IEEE 754 single precision, the engine's type.
    case float32
    /// IEEE 754 double precision.
    case float64
    /// A type Zoo can list and copy but not convert. `swapUnit` is the width in
    /// bytes of the parts a byte swap reverses (4 for `complex64`, 1 for float8).
    case opaque(name: String, byteCount: Int, swapUnit: Int)

    /// Every convertible type, in a stable order.
    public static let numeric: [DType] = [
        .bool, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64,
        .float16, .bfloat16, .float32, .float64,
    ]

    /// The NumPy-style name: `float32`, `bfloat16`, `int64`, `bool`, …
    public var name: String {
        switch self {
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .float16: "float16"
        case .bfloat16: "bfloat16"
        case .float32: "float32"
        case .float64: "float64"
        case .opaque(let name, _, _): name
        }
    }

    /// The type's name, as ``name``.
    public var description: String { name }

    /// Size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .bool, .int8, .uint8: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        case .opaque(_, let byteCount, _): byteCount
        }
    }

    /// Width of the units a byte swap reverses; equal to `byteCount` for the numeric types.
    public var swapUnit: Int {
        if case .opaque(_, _, let unit) = self { return unit }
        return byteCount
    }

    /// Whether this is one of the four floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: true
        default: false
        }
    }

    /// Whether `Float` conversion is available.
    public var isNumeric: Bool {
        if case .opaque = self { return false }
        return true
    }

    /// Looks a type up by its NumPy-style name (`float32`, `bfloat16`, …).
    public init?(name: String) {
        guard let found = DType.numeric.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}

/// The byte order of stored elements.
public enum ByteOrder: String, Sendable {
    /// Least significant byte first (x86, ARM, and every format's default).
    case little
    /// Most significant byte first (NumPy `>f4`, HDF5 `H5T_IEEE_F32BE`).
    case big

    /// The order of the machine running Zoo.
    public static let host: ByteOrder = 1.littleEndian == 1 ? .little : .big
}
