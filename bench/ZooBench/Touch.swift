/// Touches every byte of `bytes` and returns a checksum, so the reads cannot be
/// optimised away and every reader of the same model can be cross-checked:
///
///     checksum = (Σ little-endian UInt64 words at offsets 0, 8, 16, …
///                 + Σ the 0–7 trailing bytes) mod 2^64
///
/// bench/peers.py computes the same value with numpy (`view(np.uint64).sum()`).
/// Four independent accumulators let the loop vectorise; it runs well above
/// the speed of faulting in or copying memory, so it does not hide differences
/// between readers.
@inline(never)
func touch(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    guard let base = bytes.baseAddress else { return 0 }
    let words = bytes.count / 8
    var s0: UInt64 = 0, s1: UInt64 = 0, s2: UInt64 = 0, s3: UInt64 = 0
    var index = 0
    while index + 4 <= words {
        let at = index * 8
        s0 &+= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        s1 &+= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self))
        s2 &+= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self))
        s3 &+= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at + 24, as: UInt64.self))
        index += 4
    }
    while index < words {
        s0 &+= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
        index += 1
    }
    var sum = s0 &+ s1 &+ s2 &+ s3
    for offset in (words * 8)..<bytes.count {
        sum &+= UInt64(base.load(fromByteOffset: offset, as: UInt8.self))
    }
    return sum
}
