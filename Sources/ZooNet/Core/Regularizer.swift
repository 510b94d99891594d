/// Weight penalties added to the loss (Keras `regularizers`).
///
/// - `l1(λ)`: λ Σ|w|, gradient λ·sign(w)
/// - `l2(λ)`: λ Σw², gradient 2λw
/// - `l1l2(l1:l2:)`: the sum of both
public enum Regularizer: Sendable, Equatable {
    /// λ Σ|w|.
    case l1(Float)
    /// λ Σw².
    case l2(Float)
    /// l1 Σ|w| + l2 Σw².
    case l1l2(l1: Float, l2: Float)

    private var factors: (l1: Float, l2: Float) {
        switch self {
        case .l1(let a): return (a, 0)
        case .l2(let b): return (0, b)
        case let .l1l2(a, b): return (a, b)
        }
    }

    /// Returns the penalty of `w[0..<count]` and, if `gradient` is given, adds its gradient there.
    func apply(_ w: UnsafePointer<Float>, count: Int, gradient: UnsafeMutablePointer<Float>?) -> Float {
        let (a, b) = factors
        var absSum: Float = 0, squareSum: Float = 0
        for i in 0..<count {
            let v = w[i]
            absSum += abs(v)
            squareSum += v * v
            if let gradient {
                let sign: Float = v > 0 ? 1 : (v < 0 ? -1 : 0)
                gradient[i] += a * sign + 2 * b * v
            }
        }
        return a * absSum + b * squareSum
    }
}

/// Projections applied to a variable after each optimizer step (Keras `constraints`).
public enum Constraint: Sendable, Equatable {
    /// Keras `MaxNorm(max_value, axis=0)` for a `[..., out]` kernel: each output unit's incoming
    /// weight vector w (all axes but the last) is rescaled to
    /// `w · clip(‖w‖, 0, maxValue) / (1e-7 + ‖w‖)`.
    case maxNorm(Float)
    /// Keras `NonNeg`: w ← max(w, 0).
    case nonNegative

    func apply(_ w: UnsafeMutablePointer<Float>, shape: [Int]) {
        let count = shape.reduce(1, *)
        switch self {
        case .nonNegative:
            for i in 0..<count { w[i] = Swift.max(w[i], 0) }
        case .maxNorm(let maxValue):
            let columns = shape.last ?? 1
            let rows = columns == 0 ? 0 : count / columns
            var norms = [Float](repeating: 0, count: columns)
            for r in 0..<rows { for c in 0..<columns { let v = w[r * columns + c]; norms[c] += v * v } }
            for c in 0..<columns {
                let norm = norms[c].squareRoot()
                norms[c] = Swift.min(Swift.max(norm, 0), maxValue) / (1e-7 + norm)
            }
            for r in 0..<rows { for c in 0..<columns { w[r * columns + c] *= norms[c] } }
        }
    }
}
