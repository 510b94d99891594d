/// `y = x · scale + offset` (Keras `Rescaling`): scalars, or one value per channel (last axis).
/// Backward `dx = dy · scale`.
public final class Rescaling: Layer {
    public var name: String
    public var kind: String { "rescaling" }
    /// The factor: one value, or one per channel.
    public let scale: [Float]
    /// The term added: one value, or one per channel.
    public let offset: [Float]
    public var variables: [Variable] { [] }
    private var count = 0, width = 1

    /// `scale` and `offset`: one value, or one per channel.
    public init(scale: [Float], offset: [Float] = [0], name: String = "") {
        self.scale = scale
        self.offset = offset
        self.name = name
    }

    /// `y = x · scale + offset` with scalars (`Rescaling(1/255)` for pixels).
    public convenience init(scale: Float, offset: Float = 0, name: String = "") {
        self.init(scale: [scale], offset: [offset], name: name)
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        width = inputShape.last ?? 1
        count = inputShape.reduce(1, *)
        for (label, values) in [("scale", scale), ("offset", offset)] where values.count != 1 && values.count != width {
            throw ZooNetError.invalidArgument("\(name): \(label) has \(values.count) values; expected 1 or \(width) (the channels)")
        }
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let rows = batch * count / width
        let s = scale.count == 1 ? [Float](repeating: scale[0], count: width) : scale
        let o = offset.count == 1 ? [Float](repeating: offset[0], count: width) : offset
        for r in 0..<rows {
            let source = x + r * width, target = y + r * width
            for j in 0..<width { target[j] = source[j] * s[j] + o[j] }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        let rows = batch * count / width
        for r in 0..<rows {
            for j in 0..<width { dx[r * width + j] = dy[r * width + j] * scale[scale.count == 1 ? 0 : j] }
        }
    }
}

/// Feature-wise standardization with stored statistics (Keras 3 `Normalization`, axis −1):
/// `y = (x − mean) / max(√variance, ε)`, ε = 1e-7 (Keras' `backend.epsilon()`). Without
/// constants: variables `<name>/mean`, `<name>/variance` `[C]` and `<name>/count` `[]`, none
/// trainable (Keras' order, what `adapt` fills). With constants (`Normalization(mean=…,
/// variance=…)` in Keras, which then saves no weights): no variables. Backward
/// `dx = dy / max(√variance, ε)`.
public final class Normalization: Layer {
    public var name: String
    public var kind: String { "normalization" }
    public var variables: [Variable] { [mean, variance, count].compactMap { $0 } }
    /// The statistics when they are constants (held like variables, but not listed).
    private var constants: (mean: Variable, variance: Variable)?
    /// The per-feature mean `[C]`, `<name>/mean`.
    public private(set) var mean: Variable?
    /// The per-feature variance `[C]`, `<name>/variance`.
    public private(set) var variance: Variable?
    /// The number of samples the statistics came from `[]`, `<name>/count` (Keras keeps it).
    public private(set) var count: Variable?
    /// The mean given as a constant (nil: the statistics are variables).
    public let constantMean: [Float]?
    /// The variance given as a constant (nil: the statistics are variables).
    public let constantVariance: [Float]?
    static let epsilon: Float = 1e-7
    private var elements = 0, width = 1

    /// Statistics per channel (or assigned later by name, e.g. from a Keras file).
    public init(mean: [Float]? = nil, variance: [Float]? = nil, name: String = "") {
        constantMean = mean
        constantVariance = variance
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        width = inputShape.last ?? 1
        elements = inputShape.reduce(1, *)
        let m = constantMean ?? [Float](repeating: 0, count: width), v = constantVariance ?? [Float](repeating: 1, count: width)
        let width = self.width
        let fit = { (values: [Float]) in values.count == width || values.count == 1 }
        guard fit(m), fit(v), v.allSatisfy({ $0 >= 0 }), (constantMean == nil) == (constantVariance == nil) else {
            throw ZooNetError.invalidArgument("\(name): mean and variance need 1 or \(width) values each (variance >= 0), both or neither")
        }
        let expand = { (values: [Float]) in values.count == 1 ? [Float](repeating: values[0], count: width) : values }
        let meanVariable = Variable(name: "\(name)/mean", shape: [width], trainable: false, initialValues: expand(m))
        let varianceVariable = Variable(name: "\(name)/variance", shape: [width], trainable: false, initialValues: expand(v))
        if constantMean == nil {
            mean = meanVariable
            variance = varianceVariable
            count = Variable(name: "\(name)/count", shape: [], trainable: false, initialValues: [0])
        } else {
            constants = (meanVariable, varianceVariable)
        }
        return inputShape
    }

    private func inverseStd() -> [Float] {
        guard let variance = variance ?? constants?.variance else { return [] }
        return variance.values.map { 1 / Swift.max($0.squareRoot(), Normalization.epsilon) }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let mean = mean ?? constants?.mean else { return }
        let m = mean.value.pointer, inverse = inverseStd()
        for r in 0..<(batch * elements / width) {
            for j in 0..<width { y[r * width + j] = (x[r * width + j] - m[j]) * inverse[j] }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        let inverse = inverseStd()
        for r in 0..<(batch * elements / width) {
            for j in 0..<width { dx[r * width + j] = dy[r * width + j] * inverse[j] }
        }
    }
}

/// Layer normalization (Keras `LayerNormalization`, PyTorch `LayerNorm`): each sample is
/// normalized over its trailing axes — the last one (`axes: [-1]`, default) or several (e.g.
/// `[1, 2, 3]` of an NHWC map, Keras' numbering with the batch as 0):
/// `μ, σ²` = mean and biased variance over the group, `x̂ = (x − μ)/√(σ² + ε)`, `y = γ·x̂ + β`
/// with `<name>/gamma`, `<name>/beta` of the group's shape.
/// Backward (N = group size): `dβ = Σ dy`, `dγ = Σ dy·x̂`, `g = dy·γ`,
/// `dx = (N·g − Σg − x̂·Σ(g·x̂)) / (N·√(σ² + ε))`.
public final class LayerNormalization: Layer {
    public var name: String
    public var kind: String { "layer_normalization" }
    /// The normalized axes, Keras' numbering (batch = 0, −1 = last).
    public let axes: [Int]
    /// ε > 0, added to the variance.
    public let epsilon: Float
    /// Whether β exists.
    public let center: Bool
    /// Whether γ exists.
    public let scale: Bool
    /// γ with the group's shape, `<name>/gamma`.
    public private(set) var gamma: Variable?
    /// β with the group's shape, `<name>/beta`.
    public private(set) var beta: Variable?
    public var variables: [Variable] { [gamma, beta].compactMap { $0 } }
    private var group = 1, groupsPerSample = 1
    private let statistics = FloatBuffer(count: 0)  // per group: mean, 1/σ

    /// A layer normalization with Keras' defaults.
    /// - Parameters:
    ///   - axes: the trailing axes normalized together.
    ///   - epsilon: ε > 0.
    ///   - center: create β.
    ///   - scale: create γ.
    ///   - name: the scope name; empty: `layer_normalization`, ….
    public init(axes: [Int] = [-1], epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true, name: String = "") {
        self.axes = axes
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        let rank = inputShape.count
        let perSample = Set(axes.map { $0 < 0 ? rank + $0 : $0 - 1 })
        guard !perSample.isEmpty, perSample.allSatisfy({ $0 >= 0 && $0 < rank }),
              perSample == Set((rank - perSample.count)..<rank) else {
            throw ZooNetError.invalidArgument(
                "\(name): axes \(axes) must be the trailing axes of the input (rank \(rank + 1) with the batch)")
        }
        let groupShape = Array(inputShape[(rank - perSample.count)...])
        group = groupShape.reduce(1, *)
        groupsPerSample = inputShape.reduce(1, *) / group
        guard epsilon > 0 else { throw ZooNetError.invalidArgument("\(name): epsilon must be > 0") }
        if scale {
            gamma = Variable(name: "\(name)/gamma", shape: groupShape, trainable: true,
                             initialValues: [Float](repeating: 1, count: group))
        }
        if center {
            beta = Variable(name: "\(name)/beta", shape: groupShape, trainable: true,
                            initialValues: [Float](repeating: 0, count: group))
        }
        return inputShape
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let groups = batch * groupsPerSample
        statistics.reserve(2 * groups)
        let stats = statistics.pointer, n = group
        for k in 0..<groups {
            let source = x + k * n, target = y + k * n
            var sum: Double = 0
            for i in 0..<n { sum += Double(source[i]) }
            let mu = Float(sum / Double(n))
            var squares: Double = 0
            for i in 0..<n { let d = Double(source[i] - mu); squares += d * d }
            let inverse = 1 / (Float(squares / Double(n)) + epsilon).squareRoot()
            stats[2 * k] = mu
            stats[2 * k + 1] = inverse
            for i in 0..<n {
                var v = (source[i] - mu) * inverse
                if let gamma { v *= gamma.value.pointer[i] }
                if let beta { v += beta.value.pointer[i] }
                target[i] = v
            }
        }
    }

    public func backward(input x: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        let groups = batch * groupsPerSample, n = group, stats = statistics.pointer
        let dGamma = gamma.flatMap { $0.isTrainable ? $0.gradient.pointer : nil }
        let dBeta = beta.flatMap { $0.isTrainable ? $0.gradient.pointer : nil }
        dGamma?.update(repeating: 0, count: n)
        dBeta?.update(repeating: 0, count: n)
        for k in 0..<groups {
            let source = x + k * n, g = dy + k * n
            let mu = stats[2 * k], inverse = stats[2 * k + 1]
            var sumG: Float = 0, sumGX: Float = 0
            for i in 0..<n {
                let xhat = (source[i] - mu) * inverse
                dGamma?[i] += g[i] * xhat
                dBeta?[i] += g[i]
                let gi = g[i] * (gamma?.value.pointer[i] ?? 1)
                sumG += gi
                sumGX += gi * xhat
            }
            guard let dx else { continue }
            let target = dx + k * n, scale = inverse / Float(n)
            for i in 0..<n {
                let xhat = (source[i] - mu) * inverse
                let gi = g[i] * (gamma?.value.pointer[i] ?? 1)
                target[i] = scale * (Float(n) * gi - sumG - xhat * sumGX)
            }
        }
    }
}
