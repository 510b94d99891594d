/// Inverted dropout (Keras `Dropout`).
///
/// Training: each element is kept with probability `1 − rate` and scaled by `1/(1 − rate)`,
/// otherwise zeroed: `y = x · m`, `m ∈ {0, 1/(1 − rate)}`; backward `dx = dy · m`.
/// Inference (or `rate == 0`): identity. The mask stream is a `SplitMix64` seeded at build.
public final class Dropout: Layer {
    public var name: String
    public var kind: String { "dropout" }
    /// The probability of zeroing an element, in [0, 1).
    public let rate: Float
    public var variables: [Variable] { [] }
    private var count = 0
    private var generator = SplitMix64(seed: 0)
    private let mask = FloatBuffer(count: 0)
    private var masked = false

    /// A dropout layer.
    /// - Parameters:
    ///   - rate: the drop probability, in [0, 1) (checked when built).
    ///   - name: the scope name; empty: `dropout`, `dropout_1`, ….
    public init(rate: Float, name: String = "") {
        self.rate = rate
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard rate >= 0, rate < 1 else {
            throw ZooNetError.invalidArgument("\(name): dropout rate must be in [0, 1), got \(rate)")
        }
        count = inputShape.reduce(1, *)
        generator = SplitMix64(seed: seed)
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let n = batch * count
        masked = training && rate > 0
        guard masked else { y.update(from: x, count: n); return }
        mask.reserve(n)
        let m = mask.pointer, keep = 1 - rate, scale = 1 / (1 - rate)
        for i in 0..<n {
            m[i] = generator.nextUnitFloat() < keep ? scale : 0
            y[i] = x[i] * m[i]
        }
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let dx else { return }
        let n = batch * count
        if masked {
            let m = mask.pointer
            for i in 0..<n { dx[i] = dy[i] * m[i] }
        } else {
            dx.update(from: dy, count: n)
        }
    }
}
