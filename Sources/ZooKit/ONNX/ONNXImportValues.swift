import ZooFormat

/// What an ONNX value name stands for while a graph is converted: a constant (an initializer, a
/// `Constant` node's value, a folded shape computation), a tensor the engine computes, or the
/// output of a node that could not be converted (its users are then skipped, not reported).
enum ONNXImportValue {
    /// Values known before the network runs.
    case constant(ONNXConstant)
    /// A tensor of the network.
    case runtime(ONNXRuntimeValue)
    /// Made by a node that was reported unsupported.
    case failed
}

/// A constant ONNX tensor: its shape, element type and values (a stored tensor read on demand,
/// or values computed by constant folding). Integers are held exactly as `Double` (shape
/// arithmetic stays far below 2⁵³).
struct ONNXConstant: Sendable {
    /// The ONNX shape.
    var shape: [Int]
    /// The ONNX element type.
    var type: ONNXDataType
    /// The initializer or value name (what `MappedTensor.source` and messages name).
    var source: String
    private var stored: StoredTensor?
    private var computed: [Double]?

    /// A constant read from a stored tensor when its values are needed.
    init(_ tensor: ONNXTensor) {
        shape = tensor.dims
        type = tensor.dataType
        source = tensor.name
        stored = tensor.tensor
    }

    /// A computed constant of `shape` (C order).
    init(shape: [Int], type: ONNXDataType, values: [Double], source: String) {
        self.shape = shape
        self.type = type
        self.source = source
        computed = values
    }

    /// The number of elements.
    var count: Int { shape.reduce(1, *) }

    /// Whether the element type is an integer or boolean type.
    var isInteger: Bool {
        switch type {
        case .float, .double, .float16, .bfloat16: false
        default: true
        }
    }

    /// The elements in C order.
    func values() throws -> [Double] {
        if let computed { return computed }
        guard let stored else { return [] }
        return try stored.doubles()
    }

    /// The elements as `Float` (weights).
    func floats() throws -> [Float] {
        if let computed { return computed.map(Float.init) }
        guard let stored else { return [] }
        return try stored.floats()
    }

    /// The elements as integers (shapes, axes, pads), clamped to ±2⁴² (beyond any size Zoo
    /// handles, so that sums of them cannot overflow).
    func ints() throws -> [Int] {
        let limit = Double(ONNXShapeFolding.largestInteger)
        return try values().map { Int(min(max($0.rounded(.towardZero), -limit), limit)) }
    }

    /// The single element of a scalar or one-element tensor.
    func scalar() throws -> Double? {
        count == 1 ? try values().first : nil
    }
}

/// A tensor the engine computes: the engine node (or input) that makes it, its ONNX shape and
/// how the engine lays it out.
///
/// The engine keeps maps NHWC; ONNX graphs are NCHW. Rather than transposing at every node,
/// each value carries `order`: engine axis i holds ONNX axis `order[i]` (`[0, 2, 3, 1]` for an
/// NCHW map held NHWC; the identity when the engine holds the ONNX layout). A `Transpose` only
/// changes `order`; a `Permute` node is inserted where an op needs another order (a `Flatten`
/// of an `[N, C, H, W]` map with H, W > 1 flattens in C, H, W order, so the engine permutes to
/// `[C, H, W]` first).
struct ONNXRuntimeValue {
    /// The engine node or input name.
    var node: String
    /// The ONNX shape; axis 0 (the batch) is `ONNXShapeFolding.batch`.
    var shape: [Int]
    /// Engine axis i holds ONNX axis `order[i]`; `order[0] == 0`.
    var order: [Int]

    /// The ONNX rank.
    var rank: Int { shape.count }
    /// The engine's per-sample shape.
    var engineShape: [Int] { order.dropFirst().map { shape[$0] } }
    /// Whether the engine holds the ONNX layout.
    var isONNXOrder: Bool { order == Array(0..<rank) }
    /// The engine axis (batch included, 1-based for per-sample axes) holding ONNX axis `axis`.
    func engineAxis(of axis: Int) -> Int { order.firstIndex(of: axis)! }
}

/// The batch axis during constant folding.
enum ONNXShapeFolding {
    /// The size every runtime value's axis 0 has while shapes are folded: a marker (2⁴⁰) that
    /// `Shape` passes on and `Reshape` recognizes as "the batch", whatever the batch size.
    static let batch = 1 << 40
    /// Integers read from constants are clamped to ±this (2⁴²).
    static let largestInteger = 1 << 42
    /// The most elements a computed tensor may have per sample (2³²): larger graphs are refused
    /// before any size arithmetic could overflow.
    static let largestSample = 1 << 32
    /// The largest stride, dilation, window or resize factor accepted (2¹⁶).
    static let largestStep = 1 << 16
}

/// ONNX axis arithmetic.
extension Int {
    /// A possibly negative ONNX axis made non-negative for `rank`, nil when out of range.
    func normalizedAxis(rank: Int) -> Int? {
        let axis = self < 0 ? self + rank : self
        return (0..<Swift.max(rank, 1)).contains(axis) ? axis : nil
    }
}
