/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, seedable generator.
///
/// State advances by the golden-ratio increment `0x9E3779B97F4A7C15`; each output is the
/// state passed through the `mix64` finalizer. Identical seeds give identical streams on
/// every platform, which makes initialization, shuffling and dropout reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose stream depends only on `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal sample (Box–Muller, one value per call).
    public mutating func nextNormal() -> Double {
        let u1 = 1.0 - nextUnitDouble()  // (0, 1]
        let u2 = nextUnitDouble()
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }

    /// Derives an independent seed for a sub-stream (layer index, epoch, ...).
    public static func derive(_ seed: UInt64, _ salt: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: seed ^ (salt &* 0xD1B5_4A32_D192_ED03))
        return generator.next()
    }
}
