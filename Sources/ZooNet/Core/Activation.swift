import CZooKernels

/// Element-wise (and row-wise for softmax and log-softmax) activation functions.
///
/// Formulas (y = f(x)) and the derivative ZooNet uses. Where f' can be written in y the layer
/// needs only its output (it may then run fused with the layer before it, overwriting the
/// pre-activation); the others (`derivativeFromOutput == false`) need x:
/// - `linear`: y = x; f' = 1
/// - `relu`: y = max(0, x); f' = [y > 0]
/// - `relu6`: y = min(max(0, x), 6); f' = [0 < y < 6]
/// - `leakyReLU(alpha)`: y = x if x > 0 else αx (α ≥ 0); f' = 1 if y > 0 else α
///   (Keras' LeakyReLU default is α = 0.3, the seed used 0.01: pass it explicitly)
/// - `elu(alpha)`: y = x if x > 0 else α(eˣ − 1) (α > 0); f' = 1 if y > 0 else y + α
/// - `selu`: y = λx if x > 0 else λα(eˣ − 1), λ = 1.0507009873554805, α = 1.6732632423543772;
///   f' = λ if y > 0 else y + λα
/// - `sigmoid`: y = 1 / (1 + e⁻ˣ); f' = y(1 − y)
/// - `tanh`: f' = 1 − y²
/// - `softmax` over the last axis of each row: yᵢ = eˣⁱ / Σⱼ eˣʲ; dxᵢ = yᵢ (dyᵢ − Σⱼ dyⱼ yⱼ)
/// - `logSoftmax` over the last axis: yᵢ = xᵢ − log Σⱼ eˣʲ; dxᵢ = dyᵢ − e^{yᵢ} Σⱼ dyⱼ
/// - `hardSigmoid` (Keras 3, PyTorch `Hardsigmoid`): y = relu6(x + 3)/6; f' = 1/6 on (−3, 3)
/// - `hardSigmoidKeras2` (Keras 2 / tf-keras): y = clip(0.2x + 0.5, 0, 1); f' = 0.2 on (−2.5, 2.5)
/// - `hardSwish` (MobileNetV3): y = x·relu6(x + 3)/6; f' = 0 below −3, 1 above 3, (2x + 3)/6 between
/// - `swish` (SiLU): y = x·σ(x); f' = σ(x)(1 + x(1 − σ(x)))
/// - `gelu(approximate: false)`: y = x·Φ(x) = x/2·(1 + erf(x/√2)); f' = Φ(x) + x·φ(x)
/// - `gelu(approximate: true)`: y = x/2·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³);
///   f' = ½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²)
/// - `softplus`: y = log(1 + eˣ); f' = σ(x)
/// - `softsign`: y = x/(1 + |x|); f' = 1/(1 + |x|)² = (1 − |y|)²
/// - `mish`: y = x·tanh(softplus(x)); f' = tanh(sp) + x·σ(x)·(1 − tanh²(sp))
/// - `exponential`: y = eˣ; f' = y
public enum Activation: Sendable, Equatable {
    /// y = x.
    case linear
    /// y = max(0, x).
    case relu
    /// y = min(max(0, x), 6).
    case relu6
    /// y = x if x > 0 else αx, α ≥ 0.
    case leakyReLU(alpha: Float)
    /// y = x if x > 0 else α(eˣ − 1), α > 0.
    case elu(alpha: Float)
    /// Scaled ELU with λ ≈ 1.0507, α ≈ 1.6733 (self-normalizing).
    case selu
    /// y = 1 / (1 + e⁻ˣ).
    case sigmoid
    /// y = tanh x.
    case tanh
    /// yᵢ = eˣⁱ / Σⱼ eˣʲ over the last axis.
    case softmax
    /// yᵢ = xᵢ − log Σⱼ eˣʲ over the last axis.
    case logSoftmax
    /// y = relu6(x + 3) / 6 (Keras 3, PyTorch).
    case hardSigmoid
    /// y = clip(0.2x + 0.5, 0, 1) (Keras 2).
    case hardSigmoidKeras2
    /// y = x·relu6(x + 3) / 6 (MobileNetV3).
    case hardSwish
    /// y = x·σ(x) (SiLU).
    case swish
    /// y = x·Φ(x), exactly or with the tanh approximation.
    case gelu(approximate: Bool)
    /// y = log(1 + eˣ).
    case softplus
    /// y = x / (1 + |x|).
    case softsign
    /// y = x·tanh(softplus(x)).
    case mish
    /// y = eˣ.
    case exponential

    static let seluScale: Float = 1.0507009873554804934193349852946
    static let seluAlpha: Float = 1.6732632423543772848170429916717

    /// Throws for parameters whose derivative cannot be recovered from the output.
    public func validate() throws {
        switch self {
        case .leakyReLU(let alpha) where !(alpha >= 0):
            throw ZooNetError.invalidArgument("leakyReLU alpha must be >= 0, got \(alpha)")
        case .elu(let alpha) where !(alpha > 0):
            throw ZooNetError.invalidArgument("elu alpha must be > 0, got \(alpha)")
        default: return
        }
    }

    /// Whether f' can be computed from the output alone (see the list above).
    public var derivativeFromOutput: Bool {
        switch self {
        case .swish, .gelu, .softplus, .mish, .hardSwish: return false
        default: return true
        }
    }

    /// Whether the function mixes the elements of a row (softmax, log-softmax).
    var isRowWise: Bool { self == .softmax || self == .logSoftmax }

    /// `y[r, j] = f(x[r, j] + bias[j])` for a `[rows, width]` block; `x` defaults to `y`
    /// (in place). The loops are written so LLVM vectorizes them; ELU/SELU, sigmoid and swish
    /// run the C kernels (`CZooKernels`: AVX2 when the CPU has it, Cephes eˣ).
    func forward(_ y: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>? = nil,
                 input: UnsafePointer<Float>? = nil) {
        for r in 0..<rows {
            let row = y + r * width
            if let input {
                let source = input + r * width
                if let bias { for j in 0..<width { row[j] = source[j] + bias[j] } }
                else { row.update(from: source, count: width) }
            } else if let bias {
                for j in 0..<width { row[j] += bias[j] }
            }
            apply(row, width: width)
        }
    }

    /// f applied in place to one row of `width` values.
    @inline(__always)
    private func apply(_ row: UnsafeMutablePointer<Float>, width: Int) {
        switch self {
        case .linear: break
        case .relu:
            for j in 0..<width { row[j] = Swift.max(row[j], 0) }
        case .relu6:
            for j in 0..<width { row[j] = Swift.min(Swift.max(row[j], 0), 6) }
        case .leakyReLU(let alpha):
            for j in 0..<width { let x = row[j]; row[j] = x > 0 ? x : alpha * x }
        case .elu(let alpha):
            zoo_elu(row, width, 1, alpha)
        case .selu:
            zoo_elu(row, width, Activation.seluScale, Activation.seluScale * Activation.seluAlpha)
        case .sigmoid:
            zoo_sigmoid(row, row, width)
        case .tanh:
            for j in 0..<width { row[j] = _tanh(row[j]) }
        case .softmax:
            var maximum = -Float.infinity
            for j in 0..<width { maximum = Swift.max(maximum, row[j]) }
            var sum: Float = 0
            for j in 0..<width { let e = _exp(row[j] - maximum); row[j] = e; sum += e }
            let inverse = 1 / sum
            for j in 0..<width { row[j] *= inverse }
        case .logSoftmax:
            var maximum = -Float.infinity
            for j in 0..<width { maximum = Swift.max(maximum, row[j]) }
            var sum: Float = 0
            for j in 0..<width { sum += _exp(row[j] - maximum) }
            let shift = maximum + _log(sum)
            for j in 0..<width { row[j] -= shift }
        case .hardSigmoid:
            for j in 0..<width { row[j] = Swift.min(Swift.max(row[j] + 3, 0), 6) / 6 }
        case .hardSigmoidKeras2:
            for j in 0..<width { row[j] = Swift.min(Swift.max(0.2 * row[j] + 0.5, 0), 1) }
        case .hardSwish:
            for j in 0..<width { let x = row[j]; row[j] = x * Swift.min(Swift.max(x + 3, 0), 6) / 6 }
        case .swish:
            zoo_swish(row, row, width)
        case .gelu(let approximate):
            if approximate {
                for j in 0..<width { row[j] = Activation.geluTanh(row[j]).value }
            } else {
                for j in 0..<width { let x = row[j]; row[j] = 0.5 * x * (1 + _erf(x * 0.70710678118654752)) }
            }
        case .softplus:
            for j in 0..<width { row[j] = Activation.softplus(row[j]) }
        case .softsign:
            for j in 0..<width { let x = row[j]; row[j] = x / (1 + abs(x)) }
        case .mish:
            for j in 0..<width { let x = row[j]; row[j] = x * _tanh(Activation.softplus(x)) }
        case .exponential:
            for j in 0..<width { row[j] = _exp(row[j]) }
        }
    }

    /// `dx = dy · f'(x)` for a `[rows, width]` block, from the outputs `y` and, for the
    /// functions whose derivative needs it, the inputs `x` (`input`, required then); `dx`
    /// defaults to `dy` (in place).
    func backward(_ dy: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, input x: UnsafePointer<Float>? = nil,
                  rows: Int, width: Int, into dx: UnsafeMutablePointer<Float>? = nil) {
        let n = rows * width
        let out = dx ?? dy
        switch self {
        case .linear:
            if out != dy { out.update(from: dy, count: n) }
        case .relu:
            for i in 0..<n { out[i] = y[i] > 0 ? dy[i] : 0 }
        case .relu6:
            for i in 0..<n { out[i] = y[i] > 0 && y[i] < 6 ? dy[i] : 0 }
        case .leakyReLU(let alpha):
            for i in 0..<n { out[i] = dy[i] * (y[i] > 0 ? 1 : alpha) }
        case .elu(let alpha):
            zoo_elu_backward(out, dy, y, n, 1, alpha)
        case .selu:
            zoo_elu_backward(out, dy, y, n, Activation.seluScale, Activation.seluScale * Activation.seluAlpha)
        case .sigmoid:
            for i in 0..<n { let v = y[i]; out[i] = dy[i] * v * (1 - v) }
        case .tanh:
            for i in 0..<n { let v = y[i]; out[i] = dy[i] * (1 - v * v) }
        case .softmax:
            for r in 0..<rows {
                let g = dy + r * width, o = y + r * width, d = out + r * width
                var dot: Float = 0
                for j in 0..<width { dot += g[j] * o[j] }
                for j in 0..<width { d[j] = o[j] * (g[j] - dot) }
            }
        case .logSoftmax:
            for r in 0..<rows {
                let g = dy + r * width, o = y + r * width, d = out + r * width
                var sum: Float = 0
                for j in 0..<width { sum += g[j] }
                for j in 0..<width { d[j] = g[j] - _exp(o[j]) * sum }
            }
        case .hardSigmoid:
            for i in 0..<n { out[i] = y[i] > 0 && y[i] < 1 ? dy[i] / 6 : 0 }
        case .hardSigmoidKeras2:
            for i in 0..<n { out[i] = y[i] > 0 && y[i] < 1 ? dy[i] * 0.2 : 0 }
        case .softsign:
            for i in 0..<n { let a = 1 - abs(y[i]); out[i] = dy[i] * a * a }
        case .exponential:
            for i in 0..<n { out[i] = dy[i] * y[i] }
        case .swish:
            guard let x else { preconditionFailure("\(self): the derivative needs the layer's input") }
            zoo_swish_backward(out, dy, x, n)
        case .hardSwish, .gelu, .softplus, .mish:
            guard let x else { preconditionFailure("\(self): the derivative needs the layer's input") }
            for i in 0..<n { out[i] = dy[i] * derivative(at: x[i]) }
        }
    }

    /// f'(x) for the functions whose derivative needs x.
    @inline(__always)
    private func derivative(at x: Float) -> Float {
        switch self {
        case .hardSwish:
            return x < -3 ? 0 : (x > 3 ? 1 : (2 * x + 3) / 6)
        case .gelu(let approximate):
            if approximate { return Activation.geluTanh(x).derivative }
            let cdf = 0.5 * (1 + _erf(x * 0.70710678118654752))
            return cdf + x * 0.39894228040143268 * _exp(-0.5 * x * x)
        case .softplus:
            return Activation.sigmoid(x)
        case .mish:
            let t = _tanh(Activation.softplus(x))
            return t + x * Activation.sigmoid(x) * (1 - t * t)
        default:
            return 1
        }
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + _exp(-x)) : { let e = _exp(x); return e / (1 + e) }()
    }

    /// log(1 + eˣ) without overflow: max(x, 0) + log1p(e^{−|x|}).
    @inline(__always) static func softplus(_ x: Float) -> Float {
        Swift.max(x, 0) + _log1p(_exp(-abs(x)))
    }

    /// The tanh approximation of GELU and its derivative.
    @inline(__always) static func geluTanh(_ x: Float) -> (value: Float, derivative: Float) {
        let c: Float = 0.79788456080286536  // √(2/π)
        let u = c * (x + 0.044715 * x * x * x)
        let t = _tanh(u)
        let value = 0.5 * x * (1 + t)
        let derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        return (value, derivative)
    }

    /// For the clamps (ReLU: `[0, +∞)`, ReLU6: `[0, 6]`) their bounds, which the fused C row
    /// kernels take (`zoo_scale_shift_clamp_rows`, `zoo_clamped_gradient_sums_rows`); nil otherwise.
    var clampBounds: (lower: Float, upper: Float)? {
        switch self {
        case .relu: (0, .infinity)
        case .relu6: (0, 6)
        default: nil
        }
    }
}
