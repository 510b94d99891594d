/// Bit-level conversions between `Float` and the 16-bit float formats, portable
/// to every platform (Swift's `Float16` is missing on some).

/// IEEE 754 binary16 bits → `Float` (exact).
@inline(__always)
func floatFromHalfBits(_ half: UInt16) -> Float {
    let sign = UInt32(half & 0x8000) << 16
    let exponent = UInt32(half >> 10) & 0x1F
    let mantissa = UInt32(half & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa · 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// `Float` → IEEE 754 binary16 bits, rounding to nearest even (as NumPy's `astype(float16)`).
@inline(__always)
func halfBits(from value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    var mantissa = bits & 0x7F_FFFF
    if exponent == 0xFF {
        return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(truncatingIfNeeded: mantissa >> 13) : 0)
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 31 { return sign | 0x7C00 }
    if halfExponent <= 0 {
        if halfExponent < -10 { return sign }
        mantissa |= 0x80_0000
        let shift = UInt32(14 - halfExponent)
        var half = mantissa >> shift
        let remainder = mantissa & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if remainder > halfway || (remainder == halfway && half & 1 == 1) { half += 1 }
        return sign | UInt16(truncatingIfNeeded: half)
    }
    var half = UInt32(halfExponent << 10) | (mantissa >> 13)
    let remainder = mantissa & 0x1FFF
    if remainder > 0x1000 || (remainder == 0x1000 && half & 1 == 1) { half += 1 }
    return sign | UInt16(truncatingIfNeeded: half)
}

/// bfloat16 bits → `Float` (exact).
@inline(__always)
func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// `Float` → bfloat16 bits, rounding to nearest even (as PyTorch's `.to(torch.bfloat16)`).
@inline(__always)
func bfloat16Bits(from value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
    let rounding: UInt32 = 0x7FFF + ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
}

/// `Double` → `Float` rounding to odd: exact values pass through; inexact ones
/// are truncated toward zero with the last bit set. Rounding that result to a
/// format of at most 22 significant bits (float16, bfloat16) then gives the
/// correctly rounded value, with no double-rounding error.
@inline(__always)
func floatRoundedToOdd(_ value: Double) -> Float {
    let nearest = Float(value)
    guard value.isFinite, nearest.isFinite, Double(nearest) != value else { return nearest }
    var truncated = nearest
    if abs(Double(truncated)) > abs(value) { truncated = truncated > 0 ? truncated.nextDown : truncated.nextUp }
    return Float(bitPattern: truncated.bitPattern | 1)
}
