/// An immutable, row-major, contiguous array of `Float` with a shape.
///
/// `Tensor` is the value type used at the API boundary (inputs, outputs, variable snapshots).
/// Element `[i0, i1, ..., ik]` lives at offset `((i0 * s1 + i1) * s2 + ...) + ik`.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first. A scalar has shape `[]`.
    public let shape: [Int]
    /// `shape.reduce(1, *)` values in row-major order.
    public let scalars: [Float]

    /// Creates a tensor; throws if `scalars.count` differs from the product of `shape`
    /// or if a dimension is negative.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw ZooNetError.invalidArgument("negative dimension in shape \(shape)")
        }
        let count = shape.reduce(1, *)
        guard count == scalars.count else {
            throw ZooNetError.countMismatch(expected: count, actual: scalars.count, context: "Tensor")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Creates a rank-2 tensor from nested rows; throws if rows are ragged.
    public init(rows: [[Float]]) throws {
        let width = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == width }) else {
            throw ZooNetError.invalidArgument("ragged rows")
        }
        self.shape = [rows.count, width]
        self.scalars = rows.flatMap { $0 }
    }

    /// Number of elements.
    public var count: Int { scalars.count }

    /// Rows of a tensor viewed as `[shape[0], count / shape[0]]`.
    public var rows: [[Float]] {
        guard let first = shape.first, first > 0 else { return [] }
        let width = count / first
        return (0..<first).map { Array(scalars[($0 * width)..<(($0 + 1) * width)]) }
    }
}
