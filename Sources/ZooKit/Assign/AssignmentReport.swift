import ZooFormat

/// What a weight assignment did: which variables got a tensor, which did not,
/// which tensors found no variable, and which had the wrong shape.
public struct AssignmentReport: Sendable, Equatable, Codable {
    /// A variable that got its tensor.
    public struct Assigned: Sendable, Equatable, Codable {
        /// The variable's name.
        public let variable: String
        /// The tensor's name in the file.
        public let source: String
        /// The shape (both have it).
        public let shape: [Int]
    }

    /// A variable without a tensor, or a tensor without a variable.
    public struct Unmatched: Sendable, Equatable, Codable {
        /// Its name (a variable's, or a mapped tensor's).
        public let name: String
        /// Its shape.
        public let shape: [Int]
        /// The closest name on the other side ("did you mean …?").
        public let hint: String?
    }

    /// A variable whose tensor has another shape.
    public struct Mismatched: Sendable, Equatable, Codable {
        /// The variable's name.
        public let variable: String
        /// The tensor's name in the file.
        public let source: String
        /// The variable's shape.
        public let expected: [Int]
        /// The tensor's shape.
        public let found: [Int]
        /// What probably explains it ("PyTorch stores Linear weights as [out, in]; use the pytorch layout preset").
        public let hint: String?
    }

    /// Variables that got their tensors, in network order.
    public var assigned: [Assigned] = []
    /// Network variables no tensor was found for.
    public var missing: [Unmatched] = []
    /// File tensors that match no variable.
    public var unexpected: [Unmatched] = []
    /// Variables whose tensors have other shapes.
    public var mismatched: [Mismatched] = []
    /// Tensors left out on purpose: optimizer state, or outside the requested scope.
    public var skipped: [String] = []

    /// True when every variable in scope got a tensor of the right shape and every tensor was used.
    public var isComplete: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    /// The problems, one per line, with hints (did you mean, layout presets).
    public var problemSummary: String {
        var lines: [String] = []
        for item in missing {
            lines.append("  missing \(item.name) \(item.shape): no tensor in the file" + (item.hint.map { " (did you mean `\($0)`?)" } ?? ""))
        }
        for item in unexpected {
            lines.append("  unexpected \(item.name) \(item.shape): no such variable in the network" + (item.hint.map { " (did you mean `\($0)`?)" } ?? ""))
        }
        for item in mismatched {
            lines.append("  shape \(item.variable): the network expects \(item.expected), the file has \(item.found) in \(item.source)" + (item.hint.map { " (\($0))" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    /// A table for people: one row per variable or tensor, with its status.
    public var table: String {
        var rows: [(String, String, String, String)] = [("STATUS", "VARIABLE", "SHAPE", "SOURCE / HINT")]
        for item in assigned { rows.append(("assigned", item.variable, "\(item.shape)", item.source)) }
        for item in mismatched { rows.append(("mismatch", item.variable, "\(item.expected)", "\(item.source) has \(item.found)" + (item.hint.map { "; \($0)" } ?? ""))) }
        for item in missing { rows.append(("missing", item.name, "\(item.shape)", item.hint.map { "did you mean \($0)?" } ?? "")) }
        for item in unexpected { rows.append(("unexpected", item.name, "\(item.shape)", item.hint.map { "did you mean \($0)?" } ?? "")) }
        for name in skipped { rows.append(("skipped", name, "", "")) }
        let widths = (0..<3).map { column in rows.map { [$0.0, $0.1, $0.2][column].count }.max() ?? 0 }
        let lines = rows.map { row in
            [row.0.padding(widths[0]), row.1.padding(widths[1]), row.2.padding(widths[2]), row.3].joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return (lines + ["\(assigned.count) assigned, \(missing.count) missing, \(unexpected.count) unexpected, \(mismatched.count) mismatched, \(skipped.count) skipped"]).joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

import Foundation
