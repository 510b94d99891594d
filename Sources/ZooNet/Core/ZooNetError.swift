/// Errors thrown by ZooNet for invalid user input (shapes, names, hyperparameters).
///
/// ZooNet never traps on user input; every check that depends on caller data throws one of these.
public indirect enum ZooNetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tensor or layer received a shape it cannot handle.
    case shapeMismatch(expected: [Int], actual: [Int], context: String)
    /// A value count does not match the product of a shape.
    case countMismatch(expected: Int, actual: Int, context: String)
    /// A hyperparameter or argument is out of its valid range.
    case invalidArgument(String)
    /// No variable has this name.
    case unknownVariable(String)
    /// Two variables share a name.
    case duplicateVariable(String)
    /// A regular expression could not be compiled.
    case invalidPattern(String)
    /// A label lies outside `0..<classCount`.
    case labelOutOfRange(label: Int, classCount: Int)
    /// A network's graph is malformed at `node` (a cycle, a missing input, shapes a layer
    /// rejects, …); `problem` names the nodes and shapes involved.
    case graph(node: String, problem: String)
    /// The layer of `node` rejected its inputs (`inputs` names them with their shapes).
    case layerBuild(node: String, kind: String, inputs: String, error: ZooNetError)
    /// oneDNN refused or failed an operation (`operation` names the primitive and its shapes).
    case backend(operation: String, status: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(expected, actual, context):
            return "\(context): expected shape \(expected), got \(actual)"
        case let .countMismatch(expected, actual, context):
            return "\(context): expected \(expected) values, got \(actual)"
        case let .invalidArgument(message): return message
        case let .unknownVariable(name): return "no variable named '\(name)'"
        case let .duplicateVariable(name): return "duplicate variable name '\(name)'"
        case let .invalidPattern(pattern): return "invalid regular expression '\(pattern)'"
        case let .labelOutOfRange(label, classCount):
            return "label \(label) outside 0..<\(classCount)"
        case let .graph(node, problem):
            return node.isEmpty ? problem : "node '\(node)': \(problem)"
        case let .layerBuild(node, kind, inputs, error):
            return "node '\(node)' (\(kind)) on \(inputs): \(error)"
        case let .backend(operation, status):
            return "oneDNN failed: \(operation): \(status)"
        }
    }
}
