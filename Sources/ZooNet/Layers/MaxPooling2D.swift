/// 2-D max pooling on NHWC input (Keras `MaxPooling2D`).
///
/// Input `[h, w, c]`, output `[oh, ow, c]` (see `Padding`; padded cells never win).
/// `y[oh, ow, c] = max over the window of x`; backward routes each `dy` to the arg-max input
/// (first maximum in row-major window order).
public final class MaxPooling2D: Layer {
    public var name: String
    public var kind: String { "max_pooling2d" }
    /// The window's (ph, pw).
    public let poolSize: (height: Int, width: Int)
    /// The step between windows, (sh, sw).
    public let strides: (height: Int, width: Int)
    /// How the borders are padded.
    public let padding: Padding
    public var variables: [Variable] { [] }
    private var geometry = WindowGeometry()
    private var argmax: [Int32] = []

    /// `strides` defaults to `poolSize`, as in Keras.
    public init(poolSize: (height: Int, width: Int) = (2, 2), strides: (height: Int, width: Int)? = nil,
                padding: Padding = .valid, name: String = "") {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        geometry = try WindowGeometry(inputShape: inputShape, kernel: poolSize, strides: strides,
                                      padding: padding, layer: name)
        return [geometry.outputHeight, geometry.outputWidth, geometry.channels]
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let g = geometry, c = g.channels
        let outputCount = batch * g.positions * c
        if argmax.count < outputCount { argmax = [Int32](repeating: 0, count: outputCount) }
        argmax.withUnsafeMutableBufferPointer { arg in
            for b in 0..<batch {
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        let out = ((b * g.outputHeight + oh) * g.outputWidth + ow) * c
                        for ch in 0..<c { y[out + ch] = -.infinity; arg[out + ch] = -1 }
                        for kh in 0..<g.kernelHeight {
                            let ih = oh * g.strideHeight - g.padTop + kh
                            guard ih >= 0, ih < g.inputHeight else { continue }
                            for kw in 0..<g.kernelWidth {
                                let iw = ow * g.strideWidth - g.padLeft + kw
                                guard iw >= 0, iw < g.inputWidth else { continue }
                                let base = b * g.inputCount + (ih * g.inputWidth + iw) * c
                                for ch in 0..<c where x[base + ch] > y[out + ch] || arg[out + ch] < 0 {
                                    y[out + ch] = x[base + ch]
                                    arg[out + ch] = Int32(base + ch - b * g.inputCount)
                                }
                            }
                        }
                    }
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
        let g = geometry, perSample = g.positions * g.channels
        dx.update(repeating: 0, count: batch * g.inputCount)
        argmax.withUnsafeBufferPointer { arg in
            for b in 0..<batch {
                for i in 0..<perSample {
                    let o = b * perSample + i
                    dx[b * g.inputCount + Int(arg[o])] += dy[o]
                }
            }
        }
    }
}
