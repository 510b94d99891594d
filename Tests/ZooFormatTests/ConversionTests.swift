import Foundation
import Testing
@testable import ZooFormat

/// float16 / bfloat16 conversions against NumPy's `astype(float16)`, PyTorch's
/// `.to(torch.bfloat16)` and Swift's own `Float16`: rounding to nearest even,
/// subnormals, overflow to infinity, NaN.
@Suite struct ConversionTests {
    static let inputs = FixtureExpectations.conversionInputs.map { Float(bitPattern: $0) }

    @Test("conv_f32.npy holds the recorded inputs")
    func inputsRead() throws {
        let tensor = try Fixtures.open("conv_f32.npy").tensors[0]
        #expect(sameBits(try tensor.floats(), FixtureExpectations.conversionInputs))
    }

    @Test("cast(to: .float16) rounds as numpy's astype(float16)")
    func castToFloat16() throws {
        let tensor = try Fixtures.open("conv_f32.npy").tensors[0].cast(to: .float16)
        #expect(tensor.dtype == .float16)
        let bits = try halves(tensor)
        for (index, (got, want)) in zip(bits, FixtureExpectations.float16Bits).enumerated() {
            #expect(got == want, "input \(Self.inputs[index]) (0x\(String(FixtureExpectations.conversionInputs[index], radix: 16)))")
        }
        #expect(bits.count == FixtureExpectations.float16Bits.count)
    }

    @Test("cast(to: .bfloat16) rounds as torch's to(torch.bfloat16)")
    func castToBFloat16() throws {
        let tensor = try Fixtures.open("conv_f32.npy").tensors[0].cast(to: .bfloat16)
        let bits = try halves(tensor)
        #expect(bits.count == FixtureExpectations.bfloat16Bits.count)
        for (index, (got, want)) in zip(bits, FixtureExpectations.bfloat16Bits).enumerated() {
            if Self.inputs[index].isNaN {
                #expect(got & 0x7F80 == 0x7F80 && got & 0x7F != 0, "NaN stays NaN")
            } else {
                #expect(got == want, "input \(Self.inputs[index])")
            }
        }
    }

    @Test("float16 bits → Float as numpy, both byte orders", arguments: ["conv_f16.npy", "conv_f16_be.npy"])
    func float16ToFloat(_ name: String) throws {
        let expected = Fixtures.expected(name).tensors[0]
        let tensor = try Fixtures.open(name).tensors[0]
        let values = try tensor.floats()
        #expect(sameBits(values, expected.floatBits ?? []))
        // 0x0001 is the smallest subnormal, 2^-24; 0x03FF the largest; 0x0400 the smallest normal.
        #expect(values[2] == 0x1p-24)
        #expect(values[4] == 0x1.ff8p-15)
        #expect(values[5] == 0x1p-14)
        #expect(values[8] == 65504)
        #expect(values[10] == .infinity && values[11] == -.infinity)
        #expect(values[12].isNaN)
    }

    @Test("bfloat16 bits → Float as torch")
    func bfloat16ToFloat() throws {
        let expected = Fixtures.expected("conv_bf16.safetensors").tensors[0]
        let values = try Fixtures.open("conv_bf16.safetensors").tensors[0].floats()
        #expect(sameBits(values, expected.floatBits ?? []))
        #expect(values[2] == Float(bitPattern: 0x0001_0000), "bfloat16 subnormals are exact")
    }

    @Test("every float16 bit pattern converts exactly and round-trips")
    func allHalves() {
        var mismatches: [UInt16] = []
        for pattern in UInt16.min...UInt16.max {
            let value = floatFromHalfBits(pattern)
            let reference = Float(Float16(bitPattern: pattern))
            if value.isNaN {
                if !reference.isNaN { mismatches.append(pattern) }
                if halfBits(from: value) & 0x7C00 != 0x7C00 || halfBits(from: value) & 0x3FF == 0 { mismatches.append(pattern) }
                continue
            }
            if value.bitPattern != reference.bitPattern || halfBits(from: value) != pattern { mismatches.append(pattern) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(8).map { String($0, radix: 16) })")
    }

    @Test("Float → float16 agrees with Swift's Float16 on 2^20 spread bit patterns")
    func halfRoundingMatchesSwift() {
        var mismatches: [UInt32] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<(1 << 20) {
            // SplitMix64: deterministic, covers every exponent.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            let bits = UInt32(truncatingIfNeeded: z ^ (z >> 31))
            let value = Float(bitPattern: bits)
            guard !value.isNaN else { continue }
            if halfBits(from: value) != Float16(value).bitPattern { mismatches.append(bits) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(8).map { String($0, radix: 16) })")
    }

    @Test("Float → float16 near every half boundary (ties, subnormals, overflow)")
    func halfTies() {
        var mismatches: [UInt32] = []
        for pattern in UInt16(0)...UInt16(0x7C00) {
            let center = floatFromHalfBits(pattern).bitPattern
            for delta in [-2, -1, 0, 1, 2] as [Int64] {
                for offset in [0, 0x1000, 0x0FFF, 0x1001, 0x2000] as [Int64] {
                    let bits = UInt32(clamping: Int64(center) + offset + delta)
                    let value = Float(bitPattern: bits)
                    guard !value.isNaN else { continue }
                    if halfBits(from: value) != Float16(value).bitPattern { mismatches.append(bits) }
                    if halfBits(from: -value) != Float16(-value).bitPattern { mismatches.append(bits | 0x8000_0000) }
                }
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(8).map { String($0, radix: 16) })")
    }

    @Test("every bfloat16 bit pattern round-trips through Float")
    func allBFloat16() {
        var mismatches: [UInt16] = []
        for pattern in UInt16.min...UInt16.max {
            let value = floatFromBFloat16Bits(pattern)
            let back = bfloat16Bits(from: value)
            if value.isNaN {
                if back & 0x7F80 != 0x7F80 || back & 0x7F == 0 { mismatches.append(pattern) }
            } else if back != pattern {
                mismatches.append(pattern)
            }
        }
        #expect(mismatches.isEmpty)
    }

    @Test("Float → bfloat16 rounds to nearest even", arguments: [
        (Float(1), UInt16(0x3F80)), (1 + 0x1p-8, 0x3F80), (1 + 0x1.8p-7, 0x3F82), (1 + 0x1p-8 + 0x1p-20, 0x3F81),
        (Float.greatestFiniteMagnitude, 0x7F80), (-Float.infinity, 0xFF80), (0x1p-133, 0x0001), (-0.0, 0x8000),
    ] as [(Float, UInt16)])
    func bfloat16Rounding(_ value: Float, _ bits: UInt16) {
        #expect(bfloat16Bits(from: value) == bits)
    }

    @Test("casts between float types; integers can be cast to floats, not floats to integers")
    func castRules() throws {
        let ints = try Fixtures.open("npy_int32_le.npy").tensors[0]
        let asFloat = try ints.cast(to: .float32)
        #expect(try asFloat.floats() == ints.floats())
        #expect(try asFloat.canonicalBytes().count == ints.elementCount * 4)
        let asDouble = try ints.cast(to: .float64)
        #expect(try asDouble.doubles() == [-2_147_483_648, 2_147_483_647, 0, 1, 715_827_882, -1_073_741_824])
        let floats = try Fixtures.open("npy_float32_le.npy").tensors[0]
        #expect(try floats.cast(to: .float32).sha256() == floats.sha256(), "casting to the same dtype is the identity")
        let error = #expect(throws: FormatError.self) { try floats.cast(to: .int32) }
        guard case .cannotRepresent? = error?.reason else {
            Issue.record("expected cannotRepresent, got \(String(describing: error))")
            return
        }
        let half = try Fixtures.open("conv_f16.npy").tensors[0]
        #expect(sameBits(try half.cast(to: .float32).floats(), try half.floats().map(\.bitPattern)), "float16 → float32 is exact")
        let complex = try Fixtures.open("npy_complex64.npy").tensors[0]
        let complexError = #expect(throws: FormatError.self) { try complex.cast(to: .float32) }
        #expect(complexError?.reason == .unsupportedDType(tensor: "npy_complex64", dtype: "complex64"))
    }

    @Test("float64 → float16 rounds once, as numpy does")
    func doubleRounding() throws {
        // 1 + 2^-11 + 2^-40: numpy's astype(float16) gives 1 + 2^-10 (0x3C01); rounding
        // through a nearest Float would land exactly on the tie 1 + 2^-11 and then on 1.0 (0x3C00).
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var bytes = NPYHeader.encode(descr: "<f8", shape: [1])
        withUnsafeBytes(of: (1 + 0x1p-11 + 0x1p-40 as Double).bitPattern.littleEndian) { bytes += $0 }
        let tensor = try TensorArchive.open(try directory.write(bytes, to: "d.npy")).tensors[0]
        let bits = try halves(try tensor.cast(to: .float16))
        #expect(bits == [0x3C01])
    }

    private func halves(_ tensor: StoredTensor) throws -> [UInt16] {
        try tensor.canonicalBytes().withUnsafeBytes { raw in
            (0..<tensor.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self) }
        }
    }
}
