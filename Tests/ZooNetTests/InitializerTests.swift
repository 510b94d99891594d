import Testing
@testable import ZooNet

@Suite struct InitializerTests {
    func moments(_ v: [Float]) -> (mean: Double, std: Double) {
        let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
        let variance = v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count)
        return (mean, variance.squareRoot())
    }

    @Test func fansFollowKeras() {
        #expect(Initializer.fans(of: [784, 300]) == (784, 300))
        #expect(Initializer.fans(of: [3, 3, 16, 32]) == (144, 288))
        #expect(Initializer.fans(of: [10]) == (10, 10))
    }

    static let cases: [(Initializer, Double)] = [
        (.glorotUniform, 2.0 / 600), (.glorotNormal, 2.0 / 600), (.heUniform, 2.0 / 400),
        (.heNormal, 2.0 / 400), (.lecunUniform, 1.0 / 400), (.lecunNormal, 1.0 / 400),
    ]

    @Test(arguments: cases)
    func varianceScaling(_ initializer: Initializer, _ variance: Double) {
        let v = initializer.values(shape: [400, 200], seed: 7)
        let (mean, std) = moments(v)
        #expect(abs(mean) < 0.05 * variance.squareRoot())
        #expect(abs(std / variance.squareRoot() - 1) < 0.02)
        if case .varianceScaling(_, _, .uniform) = initializer {
            let limit = Float((3 * variance).squareRoot())
            #expect(v.allSatisfy { abs($0) <= limit })
        }
        if case .varianceScaling(_, _, .truncatedNormal) = initializer {
            let bound = Float(2 * variance.squareRoot() / 0.87962566103423978)
            #expect(v.allSatisfy { abs($0) <= bound })
        }
        #expect(initializer.values(shape: [400, 200], seed: 7) == v)
        #expect(initializer.values(shape: [400, 200], seed: 8) != v)
    }

    @Test func constants() {
        #expect(Initializer.zeros.values(shape: [2, 2], seed: 0) == [0, 0, 0, 0])
        #expect(Initializer.ones.values(shape: [3], seed: 0) == [1, 1, 1])
        #expect(Initializer.constant(0.5).values(shape: [2], seed: 0) == [0.5, 0.5])
    }

    @Test func splitMixIsStable() {
        var rng = SplitMix64(seed: 0)
        // Reference values of SplitMix64 seeded with 0.
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
    }
}
