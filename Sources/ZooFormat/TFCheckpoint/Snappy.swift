/// Decompresses a raw Snappy block (https://github.com/google/snappy/blob/main/format_description.txt),
/// the compression LevelDB tables may use for their blocks.
///
///     preamble   the uncompressed length, a little-endian base-128 varint
///     elements   tag byte, low 2 bits:
///                  00 literal: length−1 in the upper 6 bits, or (60…63) in the next 1…4 bytes
///                  01 copy: length 4…11 (3 bits), offset 11 bits (3 bits + 1 byte)
///                  10 copy: length 1…64 (6 bits), offset in the next 2 bytes
///                  11 copy: length 1…64 (6 bits), offset in the next 4 bytes
///
/// Produced by `snappy.compress(data)` (python-snappy). Copies reach back at most
/// to the start of the output; the declared length is bounded by what the input
/// can expand to (an element of 2 bytes yields at most 64), so nothing larger than
/// the input justifies is allocated.
enum Snappy {
    /// The largest expansion: a 3-byte copy element produces 64 bytes.
    static let maximumRatio = 22

    /// The decompressed bytes of `input`.
    /// - Throws: `.malformed` at the element's offset within `what` when the block is corrupt.
    static func decompress(_ input: UnsafeRawBufferPointer, file: String, what: String) throws -> [UInt8] {
        func malformed(_ offset: Int, _ expected: String, _ found: String) -> FormatError {
            FormatError(file: file, .malformed(at: .offsetIn(what, offset), expected: expected, found: found))
        }
        var at = 0
        var declared: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < input.count, shift < 35 else {
                throw malformed(at, "a Snappy length varint", at < input.count ? "more than 5 bytes" : "the end of the block")
            }
            let byte = input[at]
            declared |= UInt64(byte & 0x7F) << shift
            at += 1
            shift += 7
            if byte & 0x80 == 0 { break }
        }
        guard declared <= UInt64(input.count) * UInt64(maximumRatio) else {
            throw malformed(0, "an uncompressed length at most \(maximumRatio)× the \(input.count)-byte block", "\(declared)")
        }
        let length = Int(declared)
        var output = [UInt8]()
        output.reserveCapacity(length)
        while at < input.count {
            let tagOffset = at
            let tag = input[at]
            at += 1
            switch tag & 3 {
            case 0:
                var literal = Int(tag >> 2) + 1
                if literal > 60 {
                    let extra = literal - 60
                    guard at + extra <= input.count else { throw malformed(tagOffset, "\(extra) literal length bytes", "the end of the block") }
                    literal = 0
                    for index in 0..<extra { literal |= Int(input[at + index]) << (8 * index) }
                    literal += 1
                    at += extra
                }
                guard literal <= input.count - at else {
                    throw malformed(tagOffset, "a literal of \(literal) bytes", "\(input.count - at) bytes left")
                }
                guard literal <= length - output.count else {
                    throw malformed(tagOffset, "at most \(length) bytes in all", "a literal past that")
                }
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[at..<at + literal]))
                at += literal
            default:
                let copyLength: Int
                let distance: Int
                switch tag & 3 {
                case 1:
                    guard at + 1 <= input.count else { throw malformed(tagOffset, "a 1-byte copy offset", "the end of the block") }
                    copyLength = Int((tag >> 2) & 7) + 4
                    distance = Int(tag >> 5) << 8 | Int(input[at])
                    at += 1
                case 2:
                    guard at + 2 <= input.count else { throw malformed(tagOffset, "a 2-byte copy offset", "the end of the block") }
                    copyLength = Int(tag >> 2) + 1
                    distance = Int(input[at]) | Int(input[at + 1]) << 8
                    at += 2
                default:
                    guard at + 4 <= input.count else { throw malformed(tagOffset, "a 4-byte copy offset", "the end of the block") }
                    copyLength = Int(tag >> 2) + 1
                    distance = Int(input[at]) | Int(input[at + 1]) << 8 | Int(input[at + 2]) << 16 | Int(input[at + 3]) << 24
                    at += 4
                }
                guard distance > 0, distance <= output.count else {
                    throw malformed(tagOffset, "a copy offset between 1 and \(output.count)", "\(distance)")
                }
                guard copyLength <= length - output.count else {
                    throw malformed(tagOffset, "at most \(length) bytes in all", "a copy past that")
                }
                // Byte by byte: a copy may overlap the bytes it produces (a run).
                let start = output.count - distance
                for index in 0..<copyLength { output.append(output[start + index]) }
            }
        }
        guard output.count == length else {
            throw malformed(input.count, "\(length) uncompressed bytes", "\(output.count)")
        }
        return output
    }
}
