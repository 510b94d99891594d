/// 8-lane SIMD helpers for element-wise kernels (optimizer updates, activations).
typealias Float8 = SIMD8<Float>

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inline(__always) func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

/// Branch-free eˣ (Cephes `expf` scheme) that LLVM can vectorize: x = n·ln2 + r with
/// |r| ≤ ln2/2 (n rounded with the 1.5·2²³ trick), eʳ by a degree-6 polynomial, scaled by 2ⁿ
/// through the exponent bits. Relative error ≈ 2e-7; inputs are clamped to [−87.3, 88.3].
@inline(__always) func fastExp(_ input: Float) -> Float {
    let x = Swift.min(Swift.max(input, -87.3), 88.3)
    let t = x * 1.44269504088896341 + 12_582_912
    let n = t - 12_582_912
    let r = (x - n * 0.693359375) + n * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    let exponent = (Int32(bitPattern: t.bitPattern) &- 0x4B40_0000 &+ 127) &<< 23
    return p * Float(bitPattern: UInt32(bitPattern: exponent))
}
