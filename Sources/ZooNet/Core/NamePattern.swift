/// A regular expression matched at the start of variable names, as TensorFlow's
/// `get_collection(scope="hidden[123]")` and Python's `re.match` do: `hidden[12]` selects
/// `hidden1/kernel` and `hidden2/bias`, not `my_hidden1/kernel`. Anchor the end with `$`
/// (`hidden1/kernel$`) or list alternatives with `|` (`hidden[34]|outputs`).
///
/// The one place where Zoo turns a user's pattern into a selection of variables: freezing,
/// unfreezing, assignment scopes and ``Network/freeze(trainable:)-(String)`` all use it.
public struct NamePattern: @unchecked Sendable, CustomStringConvertible {
    /// The pattern as written (for ``exactly(_:)``, the names joined by `|`).
    public let pattern: String
    private let matcher: Matcher

    // `Regex<AnyRegexOutput>` holds no shared mutable state once compiled, hence `@unchecked Sendable`.
    private enum Matcher {
        case regex(Regex<AnyRegexOutput>)
        case names(Set<String>)
    }

    /// Compiles `pattern` (Swift `Regex` syntax, which accepts Python's for the usual cases).
    /// - Parameter pattern: the regular expression, matched at the start of each name.
    /// - Throws: ``ZooNetError/invalidPattern(_:)`` when it does not compile.
    public init(_ pattern: String) throws(ZooNetError) {
        do {
            matcher = .regex(try Regex(pattern))
        } catch {
            throw ZooNetError.invalidPattern(pattern)
        }
        self.pattern = pattern
    }

    private init(names: [String]) {
        pattern = names.joined(separator: "|")
        matcher = .names(Set(names))
    }

    /// A pattern that matches exactly these names and nothing else (no prefixes, no metacharacters).
    /// - Parameter names: the names to match; an empty list matches nothing.
    public static func exactly(_ names: [String]) -> NamePattern {
        NamePattern(names: names)
    }

    /// Whether the pattern matches at the start of `name` (for ``exactly(_:)``: whether it is one of the names).
    public func matches(_ name: String) -> Bool {
        switch matcher {
        case .regex(let regex): (try? regex.prefixMatch(in: name)) != nil
        case .names(let names): names.contains(name)
        }
    }

    /// The names the pattern matches, in their order.
    public func filter(_ names: [String]) -> [String] {
        names.filter(matches)
    }

    /// The pattern as written.
    public var description: String { pattern }
}
