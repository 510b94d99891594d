/// 2-D max pooling on NHWC input (Keras `MaxPooling2D`, PyTorch `MaxPool2d`).
///
/// Input `[h, w, c]`, output `[oh, ow, c]` (sizes and pads: `Padding`; `ceilMode` as PyTorch's
/// `ceil_mode`): `y[p, q, c] = max over the window of x`, padded cells never win. Backward
/// routes each `dy` to the position of its maximum (the first one in the window's row order),
/// summed where overlapping windows share it. In ZooNet's own loops (`MaxPoolInference`,
/// `MaxPoolTraining`); `ZOONET_OWN_MAX_POOL=0` for oneDNN's pooling primitives.
public final class MaxPooling2D: Layer, BatchPreparing {
    public var name: String
    public var kind: String { "max_pooling2d" }
    /// The window (ph, pw).
    public let poolSize: (height: Int, width: Int)
    /// The step between windows, (sh, sw).
    public let strides: (height: Int, width: Int)
    /// How the borders are padded.
    public let padding: Padding
    /// Round the output size up (PyTorch `ceil_mode`).
    public let ceilMode: Bool
    public var variables: [Variable] { [] }
    private var core: PoolingCore?

    /// `strides` defaults to `poolSize`, as in Keras and PyTorch.
    public init(poolSize: (height: Int, width: Int) = (2, 2), strides: (height: Int, width: Int)? = nil,
                padding: Padding = .valid, ceilMode: Bool = false, name: String = "") {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        let geometry = try WindowGeometry(inputShape: inputShape, kernel: poolSize, strides: strides, padding: padding,
                                          ceilMode: ceilMode, layer: name)
        core = PoolingCore(kind: .max, geometry: geometry)
        return [geometry.outputHeight, geometry.outputWidth, geometry.channels]
    }

    func prepare(batch: Int, training: Bool) throws { try core?.prepare(batch: batch, training: training) }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        core?.forward(x, into: y, batch: batch, training: training)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        core?.backward(dy, into: dx, batch: batch)
    }
}

/// 2-D average pooling on NHWC input (Keras `AveragePooling2D`, PyTorch `AvgPool2d`).
///
/// `y[p, q, c] = Σ_window x / divisor`. The divisor follows one of the two conventions:
/// TensorFlow / Keras (and PyTorch with `count_include_pad=False`) divide by the number of
/// cells inside the input; PyTorch's default `count_include_pad=True` divides by the window
/// clipped to the explicitly padded input (the extra cells `ceil_mode` adds at the bottom/right
/// are never counted). Backward spreads `dy/divisor` over the window. On oneDNN's pooling
/// primitives, except PyTorch's convention when a `ceil_mode` window overhangs the padding
/// (oneDNN would count those cells): then ZooNet's own loops.
public final class AveragePooling2D: Layer, BatchPreparing {
    public var name: String
    public var kind: String { "average_pooling2d" }
    /// The window (ph, pw).
    public let poolSize: (height: Int, width: Int)
    /// The step between windows, (sh, sw).
    public let strides: (height: Int, width: Int)
    /// How the borders are padded.
    public let padding: Padding
    /// Round the output size up (PyTorch `ceil_mode`).
    public let ceilMode: Bool
    /// Divide by the window clipped to the padded input (PyTorch's default) instead of the cells inside the input.
    public let countIncludePad: Bool
    public var variables: [Variable] { [] }
    private var core: PoolingCore?

    ///                 padding: Padding = .valid, ceilMode: Bool = false, countIncludePad
    /// An average pooling layer.
    /// - Parameters:
    ///   - poolSize: (ph, pw).
    ///   - strides: (sh, sw); nil: the pool size.
    ///   - padding: `valid`, `same` or explicit pads.
    ///   - ceilMode: round the output size up.
    ///   - countIncludePad: PyTorch's divisor convention.
    ///   - name: the scope name; empty: `average_pooling2d`, ….
    public init(poolSize: (height: Int, width: Int) = (2, 2), strides: (height: Int, width: Int)? = nil,
                padding: Padding = .valid, ceilMode: Bool = false, countIncludePad: Bool = false, name: String = "") {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        let geometry = try WindowGeometry(inputShape: inputShape, kernel: poolSize, strides: strides, padding: padding,
                                          ceilMode: ceilMode, layer: name)
        if countIncludePad {
            // The pads the user asked for (ceil mode may have grown the bottom/right ones).
            let plain = try WindowGeometry(inputShape: inputShape, kernel: poolSize, strides: strides, padding: padding,
                                           ceilMode: false, layer: name)
            let overhang = geometry.padBottom != plain.padBottom || geometry.padRight != plain.padRight
            core = PoolingCore(kind: overhang ? .averageClipped(bottom: plain.padBottom, right: plain.padRight)
                                              : .averageIncludingPadding, geometry: geometry)
        } else {
            core = PoolingCore(kind: .averageExcludingPadding, geometry: geometry)
        }
        return [geometry.outputHeight, geometry.outputWidth, geometry.channels]
    }

    func prepare(batch: Int, training: Bool) throws { try core?.prepare(batch: batch, training: training) }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        core?.forward(x, into: y, batch: batch, training: training)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        core?.backward(dy, into: dx, batch: batch)
    }
}

/// The pooling shared by `MaxPooling2D` and `AveragePooling2D`: oneDNN primitives per batch
/// size, or the average with PyTorch's clipped divisor in ZooNet's own loops.
final class PoolingCore {
    enum Kind {
        case max, averageExcludingPadding, averageIncludingPadding
        /// PyTorch `count_include_pad=True` with `ceil_mode` overhang: the divisor counts the
        /// padded cells up to the user's bottom/right pads, not the overhang.
        case averageClipped(bottom: Int, right: Int)
    }

    let kind: Kind
    let geometry: WindowGeometry
    private struct Key: Hashable { let batch: Int; let training: Bool }
    private var primitives: [Key: PoolingPrimitives] = [:]
    private var current: PoolingPrimitives?
    /// Own max pooling: each maximum's input cell, written by a forward pass a backward pass may
    /// follow (`MaxPoolTraining`), and whether the last forward pass wrote them.
    private let winners = IndexBuffer()
    private var winnersWritten = false
    /// Own max pooling: whether the last `prepare` was for a backward pass (then every forward
    /// pass records the winners, inference-mode ones too: a vector-Jacobian product through a
    /// frozen network).
    private var preparedForBackward = false

    init(kind: Kind, geometry: WindowGeometry) {
        self.kind = kind
        self.geometry = geometry
    }

    private var primitiveKind: PoolingPrimitives.Kind? {
        switch kind {
        case .max: return .max
        case .averageExcludingPadding: return .averageExcludingPadding
        case .averageIncludingPadding: return .averageIncludingPadding
        case .averageClipped: return nil
        }
    }

    /// Max pooling in ZooNet's own loops (`ComputeBackend.ownMaxPool`), training included when
    /// an image's cells fit 32-bit indices.
    private var ownMax: Bool {
        guard case .max = kind else { return false }
        return ComputeBackend.ownMaxPool && MaxPoolTraining.fits(geometry)
    }

    func prepare(batch: Int, training: Bool) throws {
        if ownMax {
            preparedForBackward = training
            if training { winners.reserve(batch * geometry.outputHeight * geometry.outputWidth * geometry.channels) }
            return
        }
        guard let primitiveKind else { return }
        let key = Key(batch: batch, training: training)
        if let existing = primitives[key] { current = existing; return }
        let made = try PoolingPrimitives(kind: primitiveKind, geometry: geometry, batch: batch, training: training)
        primitives[key] = made
        current = made
    }

    private func primitives(batch: Int, training: Bool) -> PoolingPrimitives? {
        // Primitives prepared for a backward pass also serve an inference-mode forward before it.
        if let current, current.batch == batch, current.training || !training { return current }
        do { try prepare(batch: batch, training: training) } catch { OneDNN.recordError(error); return nil }
        return current
    }

    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        if case let .averageClipped(bottom, right) = kind {
            ClippedAveragePool(geometry: geometry, padBottom: bottom, padRight: right).forward(x, y, batch: batch)
            return
        }
        if ownMax {
            if training || preparedForBackward {
                winners.reserve(batch * geometry.outputHeight * geometry.outputWidth * geometry.channels)
                MaxPoolTraining(geometry).forward(x, into: y, winners: winners.pointer, batch: batch)
                winnersWritten = true
            } else {
                MaxPoolInference(geometry).forward(x, into: y, batch: batch)
                winnersWritten = false
            }
            return
        }
        winnersWritten = false
        // Primitives prepared for a backward pass need their workspace filled, even by an
        // inference-mode forward (a vector-Jacobian product through a frozen network).
        if case .max = kind, !training, current?.training != true, ComputeBackend.ownMaxPool {
            MaxPoolInference(geometry).forward(x, into: y, batch: batch)
            return
        }
        primitives(batch: batch, training: training)?.runForward(x: x, y: y)
    }

    func backward(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, batch: Int) {
        if case let .averageClipped(bottom, right) = kind {
            ClippedAveragePool(geometry: geometry, padBottom: bottom, padRight: right).backward(dy, dx, batch: batch)
            return
        }
        if winnersWritten {
            MaxPoolTraining(geometry).backward(dy, winners: winners.pointer, into: dx, batch: batch)
            return
        }
        primitives(batch: batch, training: true)?.runBackward(dy: dy, dx: dx)
    }
}

/// Average pooling with PyTorch's `count_include_pad=True` divisor when `ceil_mode` windows
/// overhang: divisor = the window clipped to `[−top, h + bottom) × [−left, w + right)` (the
/// user's pads), sums over the cells inside the input.
struct ClippedAveragePool {
    let geometry: WindowGeometry
    let padBottom: Int, padRight: Int

    /// (first row, end row, first column, end column) of the window inside the input, and the divisor.
    @inline(__always)
    private func window(_ p: Int, _ q: Int) -> (Int, Int, Int, Int, Float) {
        let g = geometry
        let h0 = p * g.strideHeight - g.padTop, w0 = q * g.strideWidth - g.padLeft
        let h1 = Swift.min(h0 + g.kernelHeight, g.inputHeight + padBottom)
        let w1 = Swift.min(w0 + g.kernelWidth, g.inputWidth + padRight)
        let divisor = Float((h1 - h0) * (w1 - w0))
        return (Swift.max(h0, 0), Swift.min(h1, g.inputHeight), Swift.max(w0, 0), Swift.min(w1, g.inputWidth), divisor)
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int) {
        let g = geometry, c = g.channels
        for b in 0..<batch {
            for p in 0..<g.outputHeight {
                for q in 0..<g.outputWidth {
                    let out = y + ((b * g.outputHeight + p) * g.outputWidth + q) * c
                    out.update(repeating: 0, count: c)
                    let (h0, h1, w0, w1, divisor) = window(p, q)
                    for i in h0..<Swift.max(h0, h1) {
                        for j in w0..<Swift.max(w0, w1) {
                            let cell = x + b * g.inputCount + (i * g.inputWidth + j) * c
                            for k in 0..<c { out[k] += cell[k] }
                        }
                    }
                    for k in 0..<c { out[k] /= divisor }
                }
            }
        }
    }

    func backward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, batch: Int) {
        let g = geometry, c = g.channels
        dx.update(repeating: 0, count: batch * g.inputCount)
        for b in 0..<batch {
            for p in 0..<g.outputHeight {
                for q in 0..<g.outputWidth {
                    let grad = dy + ((b * g.outputHeight + p) * g.outputWidth + q) * c
                    let (h0, h1, w0, w1, divisor) = window(p, q)
                    for i in h0..<Swift.max(h0, h1) {
                        for j in w0..<Swift.max(w0, w1) {
                            let cell = dx + b * g.inputCount + (i * g.inputWidth + j) * c
                            for k in 0..<c { cell[k] += grad[k] / divisor }
                        }
                    }
                }
            }
        }
    }
}
