import Foundation
import ZooFormat
import ZooNet

/// How strict an assignment is.
public struct AssignmentOptions: Sendable {
    /// Accept missing and unexpected tensors (they are still reported).
    public var partial: Bool
    /// Take only variables whose name matches this regex at its start (TF's
    /// `scope="hidden[123]"`); others keep their initial values and are not reported missing.
    public var scope: String?
    /// Assign optimizer state too (normally skipped).
    public var includeOptimizerState: Bool

    public init(partial: Bool = false, scope: String? = nil, includeOptimizerState: Bool = false) {
        self.partial = partial
        self.scope = scope
        self.includeOptimizerState = includeOptimizerState
    }
}

/// Assigns mapped tensors to a network's variables by name, checking every shape first.
public enum WeightAssigner {
    /// Matches `tensors` to the variables of `network` and, unless the report has
    /// problems and `options.partial` is off, assigns them.
    /// - Returns: the report (also on success).
    /// - Throws: `ZooKitError.assignmentFailed` with the report when strict and anything
    ///   is missing, unexpected or of the wrong shape; nothing is assigned then.
    @discardableResult
    public static func assign(_ tensors: [MappedTensor], to network: Network, options: AssignmentOptions = AssignmentOptions()) throws -> AssignmentReport {
        let plan = try self.plan(tensors, for: network, options: options)
        if !plan.report.isComplete && !options.partial { throw ZooKitError.assignmentFailed(plan.report) }
        for (variable, tensor) in plan.pairs {
            try variable.assign(try tensor.values())
        }
        return plan.report
    }

    /// The report of an assignment, without assigning anything.
    public static func plan(_ tensors: [MappedTensor], for network: Network, options: AssignmentOptions = AssignmentOptions()) throws -> (report: AssignmentReport, pairs: [(Variable, MappedTensor)]) {
        var scope: Regex<AnyRegexOutput>?
        if let pattern = options.scope {
            do { scope = try Regex(pattern) } catch { throw ZooKitError.invalidRequest("scope '\(pattern)' is not a valid regular expression") }
        }
        func inScope(_ name: String) -> Bool {
            guard let scope else { return true }
            return (try? scope.prefixMatch(in: name)) != nil
        }
        var report = AssignmentReport()
        var pairs: [(Variable, MappedTensor)] = []
        var available: [String: MappedTensor] = [:]
        var order: [String] = []
        for tensor in tensors {
            if tensor.isOptimizerState && !options.includeOptimizerState {
                report.skipped.append(tensor.source)
                continue
            }
            if available[tensor.name] == nil { order.append(tensor.name) }
            available[tensor.name] = tensor
        }
        let variableNames = network.variables.map(\.name)
        var used: Set<String> = []
        for variable in network.variables where inScope(variable.name) {
            guard let tensor = available[variable.name] else {
                report.missing.append(.init(name: variable.name, shape: variable.shape, hint: closestName(to: variable.name, among: order.filter { !variableNames.contains($0) })))
                continue
            }
            used.insert(variable.name)
            guard tensor.shape == variable.shape else {
                report.mismatched.append(.init(variable: variable.name, source: tensor.source, expected: variable.shape, found: tensor.shape, hint: shapeHint(expected: variable.shape, found: tensor.shape)))
                continue
            }
            pairs.append((variable, tensor))
            report.assigned.append(.init(variable: variable.name, source: tensor.source, shape: variable.shape))
        }
        for name in order where !used.contains(name) {
            guard let tensor = available[name] else { continue }
            if !inScope(name) || (scope != nil && variableNames.contains(name)) {
                report.skipped.append(tensor.source)
            } else {
                report.unexpected.append(.init(name: name, shape: tensor.shape, hint: closestName(to: name, among: variableNames.filter { !used.contains($0) })))
            }
        }
        return (report, pairs)
    }

    static func shapeHint(expected: [Int], found: [Int]) -> String? {
        if expected.count == 2, found == expected.reversed() {
            return "PyTorch stores Linear weights as [out, in]; use the pytorch layout preset"
        }
        if expected.count == 4, found.count == 4, found == [expected[3], expected[2], expected[0], expected[1]] {
            return "PyTorch stores Conv weights as OIHW; use the pytorch layout preset"
        }
        return nil
    }
}
