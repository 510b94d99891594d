/// Inverted dropout (Keras `Dropout`, optionally with `noise_shape`).
///
/// Training: each mask value is kept with probability `1 − rate` and scaled by `1/(1 − rate)`,
/// otherwise zeroed: `y = x · m`, `m ∈ {0, 1/(1 − rate)}`; backward `dx = dy · m`.
/// Without a noise shape every element draws its own value. A per-sample `noiseShape` (each
/// dimension 1 or the input's) draws one value per cell of that shape and repeats it along the
/// dimensions of size 1: `[1, 1, c]` drops whole channels (`SpatialDropout2D`), `[1, 1, 1]`
/// whole samples (stochastic depth, as EfficientNet's `noise_shape=(None, 1, 1, 1)`).
/// Inference (or `rate == 0`): identity. The mask stream is a `SplitMix64` seeded at build.
public class Dropout: Layer {
    public var name: String
    public var kind: String { "dropout" }
    public let rate: Float
    /// Per-sample noise shape (batch excluded); nil = the input's shape.
    public let noiseShape: [Int]?
    public var variables: [Variable] { [] }
    private var count = 0
    private var generator = SplitMix64(seed: 0)
    private let mask = FloatBuffer(count: 0)
    private var masked = false
    private var broadcast: Broadcast?
    private var noiseCount = 0
    private let noise = FloatBuffer(count: 0)

    public init(rate: Float, noiseShape: [Int]? = nil, name: String = "") {
        self.rate = rate
        self.noiseShape = noiseShape
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        try buildWithNoise(noiseShape, inputShape: inputShape, seed: seed)
    }

    /// Builds with the per-sample noise shape `noiseShape` (nil: one value per element).
    func buildWithNoise(_ noiseShape: [Int]?, inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard rate >= 0, rate < 1 else {
            throw ZooNetError.invalidArgument("\(name): dropout rate must be in [0, 1), got \(rate)")
        }
        count = inputShape.reduce(1, *)
        generator = SplitMix64(seed: seed)
        if let noiseShape, noiseShape != inputShape {
            guard noiseShape.count == inputShape.count,
                  zip(noiseShape, inputShape).allSatisfy({ $0 == 1 || $0 == $1 }) else {
                throw ZooNetError.invalidArgument("\(name): noise shape \(noiseShape) must match \(inputShape) or be 1 per axis")
            }
            broadcast = try Broadcast([inputShape, noiseShape])
            noiseCount = noiseShape.reduce(1, *)
        }
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let n = batch * count
        masked = training && rate > 0
        guard masked else { y.update(from: x, count: n); return }
        mask.reserve(n)
        let m = mask.pointer, keep = 1 - rate, scale = 1 / (1 - rate)
        guard let plan = broadcast else {
            for i in 0..<n {
                m[i] = generator.nextUnitFloat() < keep ? scale : 0
                y[i] = x[i] * m[i]
            }
            return
        }
        // Draw the noise cells of each sample, then spread them over the sample.
        let width = plan.rowLength
        noise.reserve(noiseCount)
        let noise = noise.pointer
        for b in 0..<batch {
            for i in 0..<noiseCount { noise[i] = generator.nextUnitFloat() < keep ? scale : 0 }
            for row in 0..<plan.rowsPerSample {
                let offset = plan.inputOffset(1, row: row), scalar = plan.isScalarRow(1)
                let base = b * count + row * width
                for j in 0..<width {
                    m[base + j] = noise[offset + (scalar ? 0 : j)]
                    y[base + j] = x[base + j] * m[base + j]
                }
            }
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

/// Drops whole channels of NHWC maps (Keras `SpatialDropout2D`): `Dropout` with the noise
/// shape `[1, 1, c]`, so adjacent, correlated pixels do not keep each other alive.
public final class SpatialDropout2D: Dropout {
    public override var kind: String { "spatial_dropout2d" }

    public init(rate: Float, name: String = "") {
        super.init(rate: rate, noiseShape: nil, name: name)
    }

    public override func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw ZooNetError.invalidArgument("\(name): expects per-sample NHWC input [h, w, c], got \(inputShape)")
        }
        return try buildWithNoise([1, 1, inputShape[2]], inputShape: inputShape, seed: seed)
    }
}

/// Layers whose inference output is their input, element for element: an inference plan lets
/// them share their input's buffer and runs nothing for them.
protocol InferenceIdentity: Layer {}
extension Dropout: InferenceIdentity {}
extension Flatten: InferenceIdentity {}
extension Reshape: InferenceIdentity {}
