import Foundation

/// A name mapping rule `REGEX=REPLACEMENT`, applied with search-and-replace
/// semantics like Python's `re.sub`: every match is replaced; `$1` or `\1`
/// in the replacement refer to capture groups.
///
///     TensorRenameRule("^dense_(\\d+)/=layer\\1/")  // "dense_1/kernel" → "layer1/kernel"
public struct TensorRenameRule: Sendable, CustomStringConvertible {
    /// The regular expression (`NSRegularExpression` syntax).
    public let pattern: String
    /// The replacement template, with `$1` for capture groups.
    public let replacement: String
    private let regex: NSRegularExpression
    private let template: String

    /// Parses `REGEX=REPLACEMENT`, splitting at the first `=` not preceded by a backslash.
    /// - Throws: `TensorRuleError` when there is no `=` or the regex does not compile.
    public init(_ rule: String) throws(TensorRuleError) {
        var previous: Character?
        var split: String.Index?
        for index in rule.indices {
            if rule[index] == "=", previous != "\\" {
                split = index
                break
            }
            previous = rule[index]
        }
        guard let split else { throw .missingSeparator(rule) }
        let pattern = String(rule[..<split]).replacingOccurrences(of: "\\=", with: "=")
        try self.init(pattern: pattern, replacement: String(rule[rule.index(after: split)...]))
    }

    /// A rule from its two halves.
    /// - Parameters:
    ///   - pattern: the regular expression, searched anywhere in a name.
    ///   - replacement: the template; `\1` (Python) or `$1` refer to capture groups.
    /// - Throws: ``TensorRuleError/invalidPattern(_:)`` when `pattern` does not compile.
    public init(pattern: String, replacement: String) throws(TensorRuleError) {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { throw .invalidPattern(pattern) }
        self.regex = regex
        self.pattern = pattern
        self.replacement = replacement
        // Python-style \1 → NSRegularExpression's $1.
        template = replacement.replacingOccurrences(of: #"\\(\d)"#, with: "\\$$1", options: .regularExpression)
    }

    /// `name` with every match of the pattern replaced.
    public func apply(to name: String) -> String {
        let range = NSRange(name.startIndex..., in: name)
        return regex.stringByReplacingMatches(in: name, range: range, withTemplate: template)
    }

    /// `PATTERN=REPLACEMENT`.
    public var description: String { "\(pattern)=\(replacement)" }
}

/// A selection of tensors by a regex searched anywhere in the name (anchor with `^…$`).
public struct TensorFilter: Sendable {
    /// The regular expression.
    public let pattern: String
    private let regex: NSRegularExpression

    /// Compiles `pattern`.
    /// - Throws: ``TensorRuleError/invalidPattern(_:)`` when it does not compile.
    public init(_ pattern: String) throws(TensorRuleError) {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { throw .invalidPattern(pattern) }
        self.pattern = pattern
        self.regex = regex
    }

    /// Whether the pattern matches anywhere in `name`.
    public func matches(_ name: String) -> Bool {
        regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }
}

/// A rename rule or filter that cannot be used.
public enum TensorRuleError: Error, Equatable, CustomStringConvertible {
    /// A rule without `=` between its regex and its replacement.
    case missingSeparator(String)
    /// A regular expression that does not compile.
    case invalidPattern(String)

    /// The message, with the rule or pattern and how to write it.
    public var description: String {
        switch self {
        case .missingSeparator(let rule): "rule '\(rule)' has no '=': write it as REGEX=REPLACEMENT"
        case .invalidPattern(let pattern): "'\(pattern)' is not a valid regular expression"
        }
    }
}
