/// The header of a `.npy` file, version 1.0, 2.0 or 3.0.
///
/// Layout (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
///
///     offset 0  magic  93 4E 55 4D 50 59  ("\x93NUMPY")
///     offset 6  major, minor version bytes (1.0, 2.0 or 3.0)
///     offset 8  header length: UInt16 LE (1.0) or UInt32 LE (2.0, 3.0)
///     then      the header: a Python dict literal, latin-1 (utf-8 in 3.0),
///               e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
///               padded with spaces and a newline so the data starts aligned
///     then      the array data, C or Fortran order
///
/// Produced by `np.save("x.npy", np.zeros((3, 4), np.float32))`.
struct NPYHeader: Equatable {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// NumPy refuses headers over 10,000 bytes by default; Zoo allows up to 1 MiB.
    static let maximumHeaderLength = 1 << 20

    var dtype: DType
    var byteOrder: ByteOrder
    var fortranOrder: Bool
    var shape: [Int]
    /// Offset of the first data byte from the start of the `.npy` bytes.
    var dataOffset: Int

    /// Parses the header at the start of `reader`'s bytes.
    static func parse(_ reader: ByteReader) throws -> NPYHeader {
        try reader.require(0, 10, "the .npy preamble (magic, version, header length)")
        let found = reader.peek(0, 6)
        guard found == magic else {
            var hint = ""
            if found.starts(with: [0x50, 0x4B]) { hint = " (this looks like a zip archive, such as a .npz)" }
            throw reader.malformed(0, expected: "the .npy magic 93 4E 55 4D 50 59", found: hex(found) + hint)
        }
        let major = try reader.uint8(6, "the version")
        let minor = try reader.uint8(7, "the version")
        let headerLength: Int
        let headerStart: Int
        switch (major, minor) {
        case (1, 0):
            headerLength = Int(try reader.uint16(8, "the header length"))
            headerStart = 10
        case (2, 0), (3, 0):
            headerLength = Int(try reader.uint32(8, "the header length"))
            headerStart = 12
        default:
            throw reader.malformed(6, expected: "version 1.0, 2.0 or 3.0", found: "\(major).\(minor)")
        }
        guard headerLength <= maximumHeaderLength else {
            throw reader.malformed(8, expected: "a header length of at most \(maximumHeaderLength) bytes", found: "\(headerLength)")
        }
        let headerBytes = try reader.slice(headerStart, headerLength, "the header dict")
        let text: String
        if major == 3 {
            guard let decoded = String(validating: headerBytes, as: UTF8.self) else {
                throw reader.malformed(headerStart, expected: "a UTF-8 header (version 3.0)", found: "invalid UTF-8")
            }
            text = decoded
        } else {
            // Latin-1: every byte is the code point of the same value.
            text = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
        }
        let literal: PythonLiteral
        do {
            literal = try PythonLiteralParser.parse(text)
        } catch {
            throw reader.malformed(
                headerStart + error.offset, expected: "\(error.expected) in the header dict", found: error.found)
        }
        let header = try interpret(literal, reader: reader, at: headerStart)
        return NPYHeader(
            dtype: header.dtype, byteOrder: header.byteOrder, fortranOrder: header.fortranOrder,
            shape: header.shape, dataOffset: headerStart + headerLength)
    }

    private static func interpret(_ literal: PythonLiteral, reader: ByteReader, at offset: Int) throws -> (dtype: DType, byteOrder: ByteOrder, fortranOrder: Bool, shape: [Int]) {
        guard case .dict(let items) = literal else {
            throw reader.malformed(offset, expected: "a dict with keys 'descr', 'fortran_order', 'shape'", found: literal.repr)
        }
        let keys = items.map(\.key)
        guard Set(keys.map(\.repr)) == ["'descr'", "'fortran_order'", "'shape'"], keys.count == 3 else {
            throw reader.malformed(offset, expected: "exactly the keys 'descr', 'fortran_order', 'shape'", found: keys.map(\.repr).joined(separator: ", "))
        }
        guard case .bool(let fortranOrder)? = literal["fortran_order"] else {
            throw reader.malformed(offset, expected: "'fortran_order' True or False", found: literal["fortran_order"]?.repr ?? "nothing")
        }
        guard case .tuple(let dimensions)? = literal["shape"] else {
            throw reader.malformed(offset, expected: "'shape' as a tuple of integers", found: literal["shape"]?.repr ?? "nothing")
        }
        var shape: [Int] = []
        for dimension in dimensions {
            guard case .integer(let extent) = dimension, extent >= 0 else {
                throw reader.malformed(offset, expected: "'shape' of non-negative integers", found: literal["shape"]?.repr ?? "")
            }
            shape.append(extent)
        }
        let descr = literal["descr"]
        switch descr {
        case .string(let text)?:
            switch NPYDescr.parse(text) {
            case .numeric(let dtype, let order):
                return (dtype, order, fortranOrder, shape)
            case .refused(let why):
                throw FormatError(file: reader.file, .refusedDType(at: reader.location(offset), dtype: "'\(text)'", why: why))
            case .unknown:
                throw reader.malformed(offset, expected: "a numeric descr such as '<f4', '>i8' or '|b1'", found: "'\(text)'")
            }
        case .list?:
            throw FormatError(file: reader.file, .refusedDType(at: reader.location(offset), dtype: "structured", why: "structured (record) arrays have named fields, not one element type; save each field as its own array"))
        default:
            throw reader.malformed(offset, expected: "'descr' as a string", found: descr?.repr ?? "nothing")
        }
    }

    /// The bytes of a version 1.0 header (2.0 if it would not fit), padded so
    /// the data starts at a multiple of 64 bytes, as `np.save` writes it.
    static func encode(descr: String, fortranOrder: Bool = false, shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dict = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var preamble = 10
        var padded = paddedLength(dict.utf8.count + 1, preamble: preamble)
        if padded > Int(UInt16.max) {
            version = 2
            preamble = 12
            padded = paddedLength(dict.utf8.count + 1, preamble: preamble)
        }
        var bytes = magic + [version, 0]
        if version == 1 {
            bytes += [UInt8(padded & 0xFF), UInt8(padded >> 8)]
        } else {
            bytes += (0..<4).map { UInt8((padded >> (8 * $0)) & 0xFF) }
        }
        bytes += Array(dict.utf8)
        bytes += [UInt8](repeating: 0x20, count: padded - dict.utf8.count - 1)
        bytes.append(0x0A)
        return bytes
    }

    private static func paddedLength(_ length: Int, preamble: Int) -> Int {
        let total = preamble + length
        return length + (64 - total % 64) % 64
    }
}
