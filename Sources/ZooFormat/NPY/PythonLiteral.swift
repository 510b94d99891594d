/// A Python literal as found in a `.npy` header: the subset `ast.literal_eval`
/// accepts that NumPy writes (dicts, tuples, lists, strings, integers, booleans, None).
///
/// Parsed, never evaluated.
public indirect enum PythonLiteral: Equatable, Sendable {
    /// `None`.
    case none
    /// `True` or `False`.
    case bool(Bool)
    /// An integer that fits in `Int`.
    case integer(Int)
    /// A string, `'…'` or `"…"`, unescaped.
    case string(String)
    /// `(…)`.
    case tuple([PythonLiteral])
    /// `[…]`.
    case list([PythonLiteral])
    /// `{…}`, items in source order.
    case dict([(key: PythonLiteral, value: PythonLiteral)])

    /// Structural equality; dicts are equal when their items are, in the same order.
    public static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.tuple(let a), .tuple(let b)), (.list(let a), .list(let b)): a == b
        case (.dict(let a), .dict(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The value for a string key of a dict.
    public subscript(key: String) -> PythonLiteral? {
        guard case .dict(let items) = self else { return nil }
        return items.first { $0.key == .string(key) }?.value
    }

    /// A short rendering for error messages, as Python would print it.
    public var repr: String {
        switch self {
        case .none: "None"
        case .bool(let value): value ? "True" : "False"
        case .integer(let value): String(value)
        case .string(let value): "'\(value)'"
        case .tuple(let items): items.count == 1 ? "(\(items[0].repr),)" : "(" + items.map(\.repr).joined(separator: ", ") + ")"
        case .list(let items): "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case .dict(let items): "{" + items.map { "\($0.key.repr): \($0.value.repr)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Parses the Python literal subset of `PythonLiteral` from text.
struct PythonLiteralParser {
    struct Failure: Error {
        let offset: Int
        let expected: String
        let found: String
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var depth = 0

    /// Parses `text` as one literal (surrounding whitespace allowed).
    static func parse(_ text: String) throws(Failure) -> PythonLiteral {
        var parser = PythonLiteralParser(scalars: Array(text.unicodeScalars))
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == parser.scalars.count else { throw parser.failure("end of the literal") }
        return value
    }

    private init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private func failure(_ expected: String) -> Failure {
        let found = current.map { "'\(Character($0))'" } ?? "end of the header"
        return Failure(offset: position, expected: expected, found: found)
    }

    private mutating func skipWhitespace() {
        while let scalar = current, scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { position += 1 }
    }

    private mutating func parseValue() throws(Failure) -> PythonLiteral {
        guard let scalar = current else { throw failure("a value") }
        switch scalar {
        case "{": return try parseDict()
        case "(": return try parseSequence(close: ")", isTuple: true)
        case "[": return try parseSequence(close: "]", isTuple: false)
        case "'", "\"": return .string(try parseString())
        case "-", "+", "0"..."9": return .integer(try parseInteger())
        default:
            if try matchWord("True") { return .bool(true) }
            if try matchWord("False") { return .bool(false) }
            if try matchWord("None") { return .none }
            throw failure("a Python literal (dict, tuple, list, string, integer, True, False or None)")
        }
    }

    private mutating func matchWord(_ word: String) throws(Failure) -> Bool {
        let wordScalars = Array(word.unicodeScalars)
        guard position + wordScalars.count <= scalars.count,
            Array(scalars[position..<position + wordScalars.count]) == wordScalars
        else { return false }
        position += wordScalars.count
        return true
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= 32 else { throw failure("nesting no deeper than 32") }
    }

    private mutating func parseDict() throws(Failure) -> PythonLiteral {
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [(key: PythonLiteral, value: PythonLiteral)] = []
        while true {
            skipWhitespace()
            if current == "}" {
                position += 1
                return .dict(items)
            }
            let key = try parseValue()
            skipWhitespace()
            guard current == ":" else { throw failure("':'") }
            position += 1
            skipWhitespace()
            items.append((key, try parseValue()))
            skipWhitespace()
            if current == "," {
                position += 1
            } else if current != "}" {
                throw failure("',' or '}'")
            }
        }
    }

    private mutating func parseSequence(close: Unicode.Scalar, isTuple: Bool) throws(Failure) -> PythonLiteral {
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [PythonLiteral] = []
        var sawComma = false
        while true {
            skipWhitespace()
            if current == close {
                position += 1
                // `(x)` is just x in Python; `(x,)` is a one-tuple.
                if isTuple && items.count == 1 && !sawComma { return items[0] }
                return isTuple ? .tuple(items) : .list(items)
            }
            items.append(try parseValue())
            skipWhitespace()
            if current == "," {
                position += 1
                sawComma = true
            } else if current != close {
                throw failure("',' or '\(Character(close))'")
            }
        }
    }

    private mutating func parseInteger() throws(Failure) -> Int {
        var text = ""
        if let sign = current, sign == "-" || sign == "+" {
            text.unicodeScalars.append(sign)
            position += 1
        }
        let digitsStart = position
        while let scalar = current, ("0"..."9").contains(scalar) {
            text.unicodeScalars.append(scalar)
            position += 1
        }
        // Python 2 wrote shapes as `(3L, 4L)`.
        if current == "L" { position += 1 }
        guard position > digitsStart, let value = Int(text) else {
            position = digitsStart
            throw failure("an integer that fits in 64 bits")
        }
        return value
    }

    private mutating func parseString() throws(Failure) -> String {
        guard let quote = current else { throw failure("a string") }
        position += 1
        var result = String.UnicodeScalarView()
        while true {
            guard let scalar = current else { throw failure("a closing quote") }
            position += 1
            if scalar == quote { return String(result) }
            guard scalar == "\\" else {
                result.append(scalar)
                continue
            }
            guard let escaped = current else { throw failure("an escaped character") }
            position += 1
            switch escaped {
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            case "0": result.append("\0")
            default: result.append(escaped)
            }
        }
    }
}
