/// The ONNX nodes a conversion could not turn into engine layers, grouped by operator for one
/// message: `unsupported ONNX ops: NonMaxSuppression (opset 17) ×3 at nodes a, b, c: no engine
/// layer computes it; Resize ×1 at node r: coordinate_transformation_mode 'align_corners'`.
///
/// Every node is listed once, in graph order; a node of an operator Zoo converts that only takes
/// the outputs of an unsupported node is not listed (its problem is upstream).
public struct UnsupportedONNXOps: Sendable, Equatable, CustomStringConvertible {
    /// The nodes of one operator.
    public struct Group: Sendable, Equatable {
        /// The operator (`op_type`), with its domain when not ONNX's (`com.microsoft.FusedConv`).
        public let op: String
        /// The nodes (their names, or `#index` for unnamed ones), in graph order.
        public let nodes: [String]
        /// Why the first of them cannot be converted.
        public let reason: String
    }

    /// The default operator set's version the graph was written against (nil if not imported).
    public let opset: Int64?
    /// One group per operator, in order of first appearance.
    public let groups: [Group]

    /// Groups `items` by operator (the first reason of each operator kept).
    init(opset: Int64?, _ items: [(op: String, node: String, reason: String)]) {
        self.opset = opset
        var order: [String] = []
        var byOp: [String: (nodes: [String], reason: String)] = [:]
        for item in items {
            if byOp[item.op] == nil { order.append(item.op); byOp[item.op] = ([], item.reason) }
            byOp[item.op]?.nodes.append(item.node)
        }
        groups = order.map { Group(op: $0, nodes: byOp[$0]!.nodes, reason: byOp[$0]!.reason) }
    }

    /// `unsupported ONNX ops: Foo (opset 17) ×3 at nodes a, b, c: reason; Bar ×1 at node d: reason`
    /// (the opset named once, at the first group; at most 5 nodes named per group).
    public var description: String {
        "unsupported ONNX ops: " + groups.enumerated().map { index, group in
            let names = group.nodes.prefix(5).joined(separator: ", ") + (group.nodes.count > 5 ? ", …" : "")
            let version = index == 0 ? opset.map { " (opset \($0))" } ?? "" : ""
            return "\(group.op)\(version) ×\(group.nodes.count) at node\(group.nodes.count == 1 ? "" : "s") \(names): \(group.reason)"
        }.joined(separator: "; ")
    }
}
