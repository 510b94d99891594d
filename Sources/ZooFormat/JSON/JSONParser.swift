/// A strict RFC 8259 JSON parser over raw bytes.
///
/// Object members keep their order, nesting depth is bounded, and errors carry
/// the byte offset. Used for safetensors headers and Keras configs, where the
/// input is untrusted.
public struct JSONParser {
    /// A parse failure at `offset` (relative to the parsed bytes).
    public struct Failure: Error, Equatable {
        /// Byte offset of the problem in the parsed bytes.
        public let offset: Int
        /// What the grammar allows there (`a value`, `',' or '}'`).
        public let expected: String
        /// What is there instead, quoted, or `end of input`.
        public let found: String
    }

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var depth = 0
    private let maximumDepth: Int
    private var values = 0
    private let maximumValues: Int

    /// The most values (numbers, strings, containers) one document may hold: a 100 MB header
    /// of `1,1,1,…` would otherwise build a tree of about 1.6 GB.
    public static let defaultMaximumValues = 1 << 22

    private init(bytes: UnsafeRawBufferPointer, maximumDepth: Int, maximumValues: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
        self.maximumValues = maximumValues
    }

    /// Parses one JSON value filling all of `bytes` (surrounding whitespace allowed).
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text.
    ///   - maximumDepth: the deepest nesting of arrays and objects accepted.
    ///   - maximumValues: the most values (of any kind, nested ones included) accepted.
    /// - Returns: the value.
    /// - Throws: ``Failure`` at the first byte that does not fit the grammar, past `maximumDepth`
    ///   or past `maximumValues`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maximumDepth: Int = 128, maximumValues: Int = defaultMaximumValues) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maximumDepth: maximumDepth, maximumValues: maximumValues)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.failure("end of input") }
        return value
    }

    /// Parses one JSON value filling all of `text` (see ``parse(_:maximumDepth:maximumValues:)``).
    /// - Throws: ``Failure`` with the UTF-8 offset of the problem.
    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(Failure) -> JSONValue in try parse(buffer) }
        }
        return try result.get()
    }

    private func failure(_ expected: String) -> Failure {
        guard position < bytes.count else { return Failure(offset: position, expected: expected, found: "end of input") }
        let byte = bytes[position]
        let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte \(hex([byte]))"
        return Failure(offset: position, expected: expected, found: shown)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func expect(_ literal: StaticString, _ value: JSONValue) throws(Failure) -> JSONValue {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw failure("'\(literal)'") }
        for offset in 0..<count where bytes[position + offset] != literal.utf8Start[offset] {
            throw failure("'\(literal)'")
        }
        position += count
        return value
    }

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard let byte = current else { throw failure("a JSON value") }
        values += 1
        guard values <= maximumValues else { throw failure("at most \(maximumValues) values in the document") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("a JSON value")
        }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= maximumDepth else { throw failure("nesting no deeper than \(maximumDepth)") }
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw failure("a string key") }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("':'") }
            position += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard current == UInt8(ascii: "}") else { throw failure("',' or '}'") }
            position += 1
            return .object(members)
        }
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard current == UInt8(ascii: "]") else { throw failure("',' or ']'") }
            position += 1
            return .array(elements)
        }
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw failure("a digit") }
        if first == UInt8(ascii: "0") {
            position += 1
        } else {
            skipDigits()
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard let digit = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { throw failure("a digit after '.'") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let digit = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { throw failure("a digit in the exponent") }
            skipDigits()
        }
        return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
    }

    private mutating func skipDigits() {
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
    }

    private mutating func parseString() throws(Failure) -> String {
        position += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        let start = position
        // Fast path: no escapes, valid UTF-8.
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { position += 1 }
        if current == UInt8(ascii: "\"") {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
            guard let text = String(validating: slice, as: UTF8.self) else {
                position = start
                throw failure("valid UTF-8 in a string")
            }
            position += 1
            return text
        }
        position = start
        var pendingUTF8: [UInt8] = []
        func flush(_ pending: inout [UInt8], into scalars: inout String.UnicodeScalarView) -> Bool {
            guard !pending.isEmpty else { return true }
            guard let text = String(validating: pending, as: UTF8.self) else { return false }
            scalars.append(contentsOf: text.unicodeScalars)
            pending.removeAll(keepingCapacity: true)
            return true
        }
        while true {
            guard let byte = current else { throw failure("'\"' closing the string") }
            if byte == UInt8(ascii: "\"") {
                guard flush(&pendingUTF8, into: &scalars) else { throw failure("valid UTF-8 in a string") }
                position += 1
                return String(scalars)
            }
            guard byte >= 0x20 else { throw failure("no control characters in a string") }
            if byte != UInt8(ascii: "\\") {
                pendingUTF8.append(byte)
                position += 1
                continue
            }
            guard flush(&pendingUTF8, into: &scalars) else { throw failure("valid UTF-8 in a string") }
            position += 1
            guard let escape = current else { throw failure("an escape character") }
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard current == UInt8(ascii: "\\") else { throw failure("a low surrogate") }
                    position += 1
                    guard current == UInt8(ascii: "u") else { throw failure("a low surrogate") }
                    position += 1
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("a low surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw failure("a valid code point") }
                scalars.append(scalar)
            default:
                position -= 1
                throw failure("a valid escape")
            }
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw failure("4 hex digits") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("4 hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
