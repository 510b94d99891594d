extension JSONValue {
    /// Compact JSON text (no spaces), members in their stored order.
    public var compactText: String {
        var output = ""
        write(to: &output, indent: nil, level: 0)
        return output
    }

    /// Indented JSON text, two spaces a level, for people.
    public var prettyText: String {
        var output = ""
        write(to: &output, indent: "  ", level: 0)
        return output
    }

    private func write(to output: inout String, indent: String?, level: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let text): output += text
        case .string(let text): output += jsonQuoted(text)
        case .array(let elements):
            writeContainer(elements.map { (nil, $0) }, open: "[", close: "]", to: &output, indent: indent, level: level)
        case .object(let members):
            writeContainer(members.map { ($0.key, $0.value) }, open: "{", close: "}", to: &output, indent: indent, level: level)
        }
    }

    private func writeContainer(
        _ items: [(String?, JSONValue)], open: String, close: String, to output: inout String, indent: String?, level: Int
    ) {
        output += open
        guard !items.isEmpty else {
            output += close
            return
        }
        // Short arrays of scalars (shapes) stay on one line even when indenting.
        let inline = indent == nil || (open == "[" && items.count <= 16 && items.allSatisfy { $0.1.isScalar })
        for (index, (key, value)) in items.enumerated() {
            if index > 0 { output += inline && indent != nil ? ", " : "," }
            if !inline, let indent {
                output += "\n" + String(repeating: indent, count: level + 1)
            }
            if let key {
                output += jsonQuoted(key) + (indent == nil ? ":" : ": ")
            }
            value.write(to: &output, indent: indent, level: level + 1)
        }
        if !inline, let indent {
            output += "\n" + String(repeating: indent, count: level)
        }
        output += close
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    /// A JSON number for an integer.
    public static func integer<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    /// A JSON number for a double; non-finite values become `null` (JSON has no NaN).
    public static func double(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number("\(value)")
    }
}

/// `text` as a JSON string literal.
func jsonQuoted(_ text: String) -> String {
    var output = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": output += "\\\""
        case "\\": output += "\\\\"
        case "\n": output += "\\n"
        case "\r": output += "\\r"
        case "\t": output += "\\t"
        case _ where scalar.value < 0x20:
            let digits = String(scalar.value, radix: 16)
            output += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        default: output.unicodeScalars.append(scalar)
        }
    }
    return output + "\""
}
