/// 2-D convolution on NHWC input with HWIO kernels (Keras `Conv2D`, `data_format="channels_last"`).
///
/// Input `[h, w, cin]`, kernel `<name>/kernel` `[kh, kw, cin, cout]`, bias `<name>/bias` `[cout]`,
/// output `[oh, ow, cout]` (see `Padding`). Implemented as im2col + one sgemm:
/// `cols[b·oh·ow, kh·kw·cin]` holds each receptive field (zeros in padding), and
/// `Y = f(cols · K + b)` with K viewed as `[kh·kw·cin, cout]`.
/// Backward with `G = dY ⊙ f'(Y)`: `dK = colsᵀ·G`, `db = Σ G`, `dcols = G·Kᵀ`, then col2im sums
/// `dcols` back into `dX`.
public final class Conv2D: Layer {
    public var name: String
    public var kind: String { "conv2d" }
    public let filters: Int
    public let kernelSize: (height: Int, width: Int)
    public let strides: (height: Int, width: Int)
    public let padding: Padding
    public let activation: Activation
    public let useBias: Bool
    let kernelInitializer: Initializer
    let biasInitializer: Initializer
    let kernelRegularizer: Regularizer?
    let kernelConstraint: Constraint?

    public private(set) var kernel: Variable?
    public private(set) var bias: Variable?
    public var variables: [Variable] { [kernel, bias].compactMap { $0 } }
    private var geometry = WindowGeometry()
    private let columns = FloatBuffer(count: 0)
    private let columnGradient = FloatBuffer(count: 0)

    public init(
        filters: Int, kernelSize: (height: Int, width: Int), strides: (height: Int, width: Int) = (1, 1),
        padding: Padding = .valid, activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, kernelConstraint: Constraint? = nil, name: String = ""
    ) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.kernelConstraint = kernelConstraint
        self.name = name
    }

    private var patchSize: Int { geometry.kernelHeight * geometry.kernelWidth * geometry.channels }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard filters > 0 else { throw ZooNetError.invalidArgument("\(name): filters must be positive") }
        try activation.validate()
        geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides,
                                      padding: padding, layer: name)
        let shape = [kernelSize.height, kernelSize.width, geometry.channels, filters]
        let k = Variable(name: "\(name)/kernel", shape: shape, trainable: true,
                         initialValues: kernelInitializer.values(shape: shape, seed: seed))
        k.regularizer = kernelRegularizer
        k.constraint = kernelConstraint
        kernel = k
        if useBias {
            bias = Variable(name: "\(name)/bias", shape: [filters], trainable: true,
                            initialValues: biasInitializer.values(shape: [filters], seed: seed &+ 1))
        }
        return [geometry.outputHeight, geometry.outputWidth, filters]
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        guard let kernel else { return }
        let rows = batch * geometry.positions
        columns.reserve(rows * patchSize)
        im2col(x, batch: batch, into: columns.pointer)
        parallelGEMM(transposeA: false, transposeB: false, m: rows, n: filters, k: patchSize,
             a: columns.pointer, lda: patchSize, b: kernel.value.pointer, ldb: filters, c: y, ldc: filters)
        activation.forward(y, rows: rows, width: filters, bias: bias.map { UnsafePointer($0.value.pointer) })
    }

    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>,
        outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
        batch: Int
    ) {
        guard let kernel else { return }
        let rows = batch * geometry.positions
        activation.backward(dy, output: output, rows: rows, width: filters)
        if kernel.isTrainable {
            parallelGEMM(transposeA: true, transposeB: false, m: patchSize, n: filters, k: rows,
                 a: columns.pointer, lda: patchSize, b: dy, ldb: filters,
                 c: kernel.gradient.pointer, ldc: filters)
        }
        if let bias, bias.isTrainable { columnSums(dy, rows: rows, width: filters, into: bias.gradient.pointer) }
        guard let dx else { return }
        columnGradient.reserve(rows * patchSize)
        parallelGEMM(transposeA: false, transposeB: true, m: rows, n: patchSize, k: filters,
             a: dy, lda: filters, b: kernel.value.pointer, ldb: filters,
             c: columnGradient.pointer, ldc: patchSize)
        col2im(columnGradient.pointer, batch: batch, into: dx)
    }

    /// Visits each (row of cols, kernel tap, input offset or nil for padding).
    @inline(__always)
    private func forEachTap(batch: Int, _ body: (_ column: Int, _ input: Int?) -> Void) {
        let g = geometry, c = g.channels
        for b in 0..<batch {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    let row = (b * g.outputHeight + oh) * g.outputWidth + ow
                    var column = row * patchSize
                    for kh in 0..<g.kernelHeight {
                        let ih = oh * g.strideHeight - g.padTop + kh
                        for kw in 0..<g.kernelWidth {
                            let iw = ow * g.strideWidth - g.padLeft + kw
                            let inside = ih >= 0 && ih < g.inputHeight && iw >= 0 && iw < g.inputWidth
                            body(column, inside ? b * g.inputCount + (ih * g.inputWidth + iw) * c : nil)
                            column += c
                        }
                    }
                }
            }
        }
    }

    private func im2col(_ x: UnsafePointer<Float>, batch: Int, into cols: UnsafeMutablePointer<Float>) {
        let c = geometry.channels
        forEachTap(batch: batch) { column, input in
            if let input { (cols + column).update(from: x + input, count: c) }
            else { (cols + column).update(repeating: 0, count: c) }
        }
    }

    private func col2im(_ cols: UnsafePointer<Float>, batch: Int, into dx: UnsafeMutablePointer<Float>) {
        let c = geometry.channels
        dx.update(repeating: 0, count: batch * geometry.inputCount)
        forEachTap(batch: batch) { column, input in
            guard let input else { return }
            let source = cols + column, target = dx + input
            for j in 0..<c { target[j] += source[j] }
        }
    }
}
