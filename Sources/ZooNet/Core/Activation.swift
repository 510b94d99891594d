import CZooKernels

/// Element-wise (and row-wise for softmax) activation functions.
///
/// Formulas (y = f(x)); derivatives are computed from the output y so layers need not keep x:
/// - `linear`: y = x; f' = 1
/// - `relu`: y = max(0, x); f' = [y > 0]
/// - `leakyReLU(alpha)`: y = x if x > 0 else αx (α ≥ 0); f' = 1 if y > 0 else α
///   (Keras' LeakyReLU default is α = 0.3, the seed used 0.01: pass it explicitly)
/// - `elu(alpha)`: y = x if x > 0 else α(eˣ − 1) (α > 0); f' = 1 if y > 0 else y + α
/// - `selu`: y = λx if x > 0 else λα(eˣ − 1), λ = 1.0507009873554805, α = 1.6732632423543772;
///   f' = λ if y > 0 else y + λα
/// - `sigmoid`: y = 1 / (1 + e⁻ˣ); f' = y(1 − y)
/// - `tanh`: f' = 1 − y²
/// - `softmax` over the last axis of each row: yᵢ = eˣⁱ / Σⱼ eˣʲ;
///   dxᵢ = yᵢ (dyᵢ − Σⱼ dyⱼ yⱼ)
public enum Activation: Sendable, Equatable {
    case linear
    case relu
    case leakyReLU(alpha: Float)
    case elu(alpha: Float)
    case selu
    case sigmoid
    case tanh
    case softmax

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

    /// `y[r, j] = f(x[r, j] + bias[j])` for a `[rows, width]` block; `x` defaults to `y`
    /// (in place). The loops are written so LLVM vectorizes them; ELU/SELU run the C kernels
    /// (`CZooKernels`: AVX2 when the CPU has it, Cephes eˣ).
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
            switch self {
            case .linear: break
            case .relu:
                for j in 0..<width { row[j] = Swift.max(row[j], 0) }
            case .leakyReLU(let alpha):
                for j in 0..<width { let x = row[j]; row[j] = x > 0 ? x : alpha * x }
            case .elu(let alpha):
                zoo_elu(row, width, 1, alpha)
            case .selu:
                zoo_elu(row, width, Activation.seluScale, Activation.seluScale * Activation.seluAlpha)
            case .sigmoid:
                for j in 0..<width { row[j] = Activation.sigmoid(row[j]) }
            case .tanh:
                for j in 0..<width { row[j] = _tanh(row[j]) }
            case .softmax:
                var maximum = -Float.infinity
                for j in 0..<width { maximum = Swift.max(maximum, row[j]) }
                var sum: Float = 0
                for j in 0..<width { let e = _exp(row[j] - maximum); row[j] = e; sum += e }
                let inverse = 1 / sum
                for j in 0..<width { row[j] *= inverse }
            }
        }
    }

    /// `dx = dy · f'(x)` using the outputs `y` (`[rows, width]`); `dx` defaults to `dy` (in place).
    func backward(_ dy: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, rows: Int, width: Int,
                  into dx: UnsafeMutablePointer<Float>? = nil) {
        let n = rows * width
        let out = dx ?? dy
        switch self {
        case .linear:
            if out != dy { out.update(from: dy, count: n) }
        case .relu:
            for i in 0..<n { out[i] = y[i] > 0 ? dy[i] : 0 }
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
        }
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + _exp(-x)) : { let e = _exp(x); return e / (1 + e) }()
    }
}
