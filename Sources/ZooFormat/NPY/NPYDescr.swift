/// NumPy's `descr` strings (`'<f4'`, `'>i8'`, `'|b1'`) ↔ `DType` and byte order.
///
/// The first character is the byte order (`<` little, `>` big, `|` not
/// applicable, `=` native), then the kind (`b` bool, `i` signed, `u` unsigned,
/// `f` float, `c` complex) and the item size in bytes.
enum NPYDescr {
    /// The dtype and byte order of a simple descr, or a reason it is refused.
    enum Parsed {
        case numeric(DType, ByteOrder)
        case refused(why: String)
        case unknown
    }

    static func parse(_ descr: String) -> Parsed {
        guard let orderCharacter = descr.first else { return .unknown }
        var order: ByteOrder
        var rest = Substring(descr)
        switch orderCharacter {
        case "<": order = .little; rest = rest.dropFirst()
        case ">": order = .big; rest = rest.dropFirst()
        case "|", "=": order = .host; rest = rest.dropFirst()
        default: order = .host
        }
        guard let kind = rest.first else { return .unknown }
        let sizeText = rest.dropFirst()
        if kind == "O" {
            return .refused(why: "object arrays hold pickled Python objects, and unpickling them can run arbitrary code; save numeric arrays instead")
        }
        guard let size = Int(sizeText) else {
            return .unknown
        }
        let dtype: DType?
        switch (kind, size) {
        case ("b", 1): dtype = .bool
        case ("i", 1): dtype = .int8
        case ("i", 2): dtype = .int16
        case ("i", 4): dtype = .int32
        case ("i", 8): dtype = .int64
        case ("u", 1): dtype = .uint8
        case ("u", 2): dtype = .uint16
        case ("u", 4): dtype = .uint32
        case ("u", 8): dtype = .uint64
        case ("f", 2): dtype = .float16
        case ("f", 4): dtype = .float32
        case ("f", 8): dtype = .float64
        case ("c", 8): dtype = .opaque(name: "complex64", byteCount: 8, swapUnit: 4)
        case ("c", 16): dtype = .opaque(name: "complex128", byteCount: 16, swapUnit: 8)
        case ("f", 16), ("f", 12): dtype = .opaque(name: "float\(size * 8)", byteCount: size, swapUnit: size)
        case ("S", _), ("U", _), ("a", _):
            return .refused(why: "string arrays are not tensors")
        case ("V", _):
            return .refused(why: "void (raw record) arrays have no numeric type")
        case ("M", _), ("m", _):
            return .refused(why: "datetime arrays are not tensors")
        default: dtype = nil
        }
        guard let dtype else { return .unknown }
        if dtype.swapUnit == 1 { order = .little }
        return .numeric(dtype, order)
    }

    /// The descr NumPy writes for `dtype`, little-endian; nil where NumPy has no such type.
    static func descr(for dtype: DType) -> String? {
        switch dtype {
        case .bool: "|b1"
        case .int8: "|i1"
        case .uint8: "|u1"
        case .int16: "<i2"
        case .uint16: "<u2"
        case .int32: "<i4"
        case .uint32: "<u4"
        case .int64: "<i8"
        case .uint64: "<u8"
        case .float16: "<f2"
        case .float32: "<f4"
        case .float64: "<f8"
        case .bfloat16: nil
        case .opaque(let name, _, _):
            switch name {
            case "complex64": "<c8"
            case "complex128": "<c16"
            default: nil
            }
        }
    }
}
