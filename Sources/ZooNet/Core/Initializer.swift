/// Weight initializers with Keras 3 semantics.
///
/// Variance-scaling initializers compute fans from the variable shape like Keras
/// (`[in, out]` → fanIn = in, fanOut = out; `[kh, kw, in, out]` → fanIn = kh·kw·in,
/// fanOut = kh·kw·out), then `s = scale / max(1, fan)`:
/// - `.uniform`: U(-√(3s), √(3s));
/// - `.truncatedNormal`: N(0, σ²) with σ = √s / 0.87962566103423978, resampled outside ±2σ;
/// - `.untruncatedNormal`: N(0, s).
///
/// Glorot = (1, fanAvg), He = (2, fanIn), LeCun = (1, fanIn); their "normal" variants are
/// truncated normal, as in Keras. Sampling uses `SplitMix64`, so results depend only on the seed
/// (they do not reproduce Keras' random numbers, only its distributions).
public enum Initializer: Sendable, Equatable {
    /// Which fan divides the scale.
    public enum FanMode: Sendable, Equatable {
        /// The inputs per output unit (He, LeCun).
        case fanIn
        /// The outputs per input unit.
        case fanOut
        /// (fanIn + fanOut) / 2 (Glorot).
        case fanAverage
    }

    /// The distribution of variance-scaling draws.
    public enum Distribution: Sendable, Equatable {
        /// N(0, σ²) with σ = √s / 0.8796…, redrawn outside ±2σ (Keras' "normal").
        case truncatedNormal
        /// N(0, s).
        case untruncatedNormal
        /// U(−√(3s), √(3s)).
        case uniform
    }

    /// All zeros (biases, BN beta and moving mean).
    case zeros
    /// All ones (BN gamma and moving variance).
    case ones
    /// Every element the same value.
    case constant(Float)
    /// Draws with variance scale / max(1, fan) (see the type's documentation).
    case varianceScaling(scale: Double, mode: FanMode, distribution: Distribution)
    /// Uniform in `[minimum, maximum)`.
    case randomUniform(minimum: Float, maximum: Float)

    /// Glorot (Xavier) uniform, Keras' default kernel initializer: U(±√(6 / (fanIn + fanOut))).
    public static let glorotUniform = Initializer.varianceScaling(scale: 1, mode: .fanAverage, distribution: .uniform)
    /// Glorot normal: truncated N with variance 2 / (fanIn + fanOut).
    public static let glorotNormal = Initializer.varianceScaling(scale: 1, mode: .fanAverage, distribution: .truncatedNormal)
    /// He uniform: U(±√(6 / fanIn)), for ReLU-family layers.
    public static let heUniform = Initializer.varianceScaling(scale: 2, mode: .fanIn, distribution: .uniform)
    /// He normal: truncated N with variance 2 / fanIn (the seed chapter's choice for ELU layers).
    public static let heNormal = Initializer.varianceScaling(scale: 2, mode: .fanIn, distribution: .truncatedNormal)
    /// LeCun uniform: U(±√(3 / fanIn)).
    public static let lecunUniform = Initializer.varianceScaling(scale: 1, mode: .fanIn, distribution: .uniform)
    /// LeCun normal: truncated N with variance 1 / fanIn (for SELU).
    public static let lecunNormal = Initializer.varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal)

    /// Keras `compute_fans`: returns (fanIn, fanOut) for a variable shape.
    public static func fans(of shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        case 2: return (shape[0], shape[1])
        default:
            let receptive = shape.dropLast(2).reduce(1, *)
            return (shape[shape.count - 2] * receptive, shape[shape.count - 1] * receptive)
        }
    }

    /// Draws `shape.reduce(1, *)` values.
    public func values(shape: [Int], seed: UInt64) -> [Float] {
        let count = shape.reduce(1, *)
        var rng = SplitMix64(seed: seed)
        switch self {
        case .zeros: return [Float](repeating: 0, count: count)
        case .ones: return [Float](repeating: 1, count: count)
        case .constant(let value): return [Float](repeating: value, count: count)
        case let .randomUniform(minimum, maximum):
            return (0..<count).map { _ in minimum + (maximum - minimum) * rng.nextUnitFloat() }
        case let .varianceScaling(scale, mode, distribution):
            let (fanIn, fanOut) = Initializer.fans(of: shape)
            let fan: Double
            switch mode {
            case .fanIn: fan = Double(fanIn)
            case .fanOut: fan = Double(fanOut)
            case .fanAverage: fan = Double(fanIn + fanOut) / 2
            }
            let s = scale / Swift.max(1, fan)
            switch distribution {
            case .uniform:
                let limit = (3 * s).squareRoot()
                return (0..<count).map { _ in Float((2 * rng.nextUnitDouble() - 1) * limit) }
            case .untruncatedNormal:
                return (0..<count).map { _ in Float(rng.nextNormal() * s.squareRoot()) }
            case .truncatedNormal:
                let stddev = s.squareRoot() / 0.87962566103423978
                return (0..<count).map { _ in
                    var z = rng.nextNormal()
                    while abs(z) > 2 { z = rng.nextNormal() }
                    return Float(z * stddev)
                }
            }
        }
    }
}
