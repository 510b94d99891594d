/// What every convolution layer shares: the oneDNN primitives per batch size and mode, and the
/// layer's activation — fused into the primitive as a post-op when oneDNN has it and backward
/// can work from the output, applied by ZooNet otherwise (keeping the pre-activation when its
/// derivative needs it).
///
/// Forward: `y = f(conv(x, W) + b)`. Backward with `G = dy ⊙ f'`: `dW, db` from oneDNN's
/// backward-weights primitive (X and G), `dx` from its backward-data primitive (G and W).
///
/// A 3×3 stride-1 convolution with ≥ 16 channels and a clamp activation (none, ReLU, ReLU6)
/// runs its forward, backward-data and (C·K ≤ 65,536) weight-gradient passes as Winograd
/// F(2×2, 3×3) where that pays (`WinogradConvolution`). Backward data is the convolution of G
/// with the kernel turned 180° and transposed, `W'[a, b, k, c] = W[2 − a, 2 − b, c, k]`, padded
/// `2 − pad` on each side (pads ≤ 2), which gives back the input's height and width.
///
/// With one input channel (a gray-image network's first layer) the weight gradient is an im2col
/// product on `dnnl_sgemm` instead (`Im2colWeightGradient`); with one filter per channel
/// (depthwise) ZooNet's own kernel computes it where oneDNN has no depthwise kernel for it
/// (`DepthwiseWeightGradient`).
final class ConvolutionCore {
    let shape: ConvolutionShape
    let activation: Activation
    let hasBias: Bool
    private struct Key: Hashable { let batch: Int; let training: Bool }
    private var primitives: [Key: ConvolutionPrimitives] = [:]
    private var current: ConvolutionPrimitives?
    private let preActivation = FloatBuffer(count: 0)
    /// db when the kernel is trainable and the bias is not (oneDNN computes both at once).
    private let biasScratch: FloatBuffer
    /// Whether the Winograd forms may run (`Network.allowsWinograd`).
    var allowsWinograd = true
    private let winogradForward: WinogradConvolution?
    private let winogradBackwardData: WinogradConvolution?
    /// W' of the backward data pass (`[3, 3, K, C]`).
    private let flippedKernel = FloatBuffer(count: 0)
    /// The weight gradient of layers with one input channel, and its scratch (im2col rows, product).
    private let im2colWeightGradient: Im2colWeightGradient?
    private let im2col = FloatBuffer(count: 0), im2colProduct = FloatBuffer(count: 0)
    /// The weight gradient of depthwise layers.
    private let depthwiseWeightGradient: DepthwiseWeightGradient?

    init(shape: ConvolutionShape, activation: Activation, hasBias: Bool) {
        self.shape = shape
        self.activation = activation
        self.hasBias = hasBias
        biasScratch = FloatBuffer(count: hasBias ? shape.outputChannels : 0)
        im2colWeightGradient = Im2colWeightGradient.supports(shape) ? Im2colWeightGradient(shape: shape) : nil
        depthwiseWeightGradient = DepthwiseWeightGradient.supports(shape) ? DepthwiseWeightGradient(shape: shape) : nil
        if WinogradConvolution.supports(shape), WinogradConvolution.clamp(activation) != nil {
            let scratch = WinogradScratch()
            winogradForward = WinogradConvolution(shape: shape, scratch: scratch)
            var backward = ConvolutionShape()
            backward.inputHeight = shape.outputHeight; backward.inputWidth = shape.outputWidth
            backward.inputChannels = shape.outputChannels
            backward.outputHeight = shape.inputHeight; backward.outputWidth = shape.inputWidth
            backward.outputChannels = shape.inputChannels
            backward.kernelHeight = 3; backward.kernelWidth = 3
            backward.padTop = 2 - shape.padTop; backward.padBottom = 2 - shape.padBottom
            backward.padLeft = 2 - shape.padLeft; backward.padRight = 2 - shape.padRight
            let padsFit = [backward.padTop, backward.padBottom, backward.padLeft, backward.padRight].allSatisfy { $0 >= 0 }
            winogradBackwardData = padsFit && WinogradConvolution.supports(backward)
                ? WinogradConvolution(shape: backward, scratch: scratch) : nil
        } else {
            winogradForward = nil
            winogradBackwardData = nil
        }
    }

    /// Which passes run as Winograd at `batch` samples (for tests and benchmarks).
    func winogradForms(batch: Int) -> (forward: Bool, backwardData: Bool) {
        (winograd(winogradForward, batch: batch) != nil, winograd(winogradBackwardData, batch: batch) != nil)
    }

    /// The Winograd form `form` when it is allowed and pays at `batch` samples.
    private func winograd(_ form: WinogradConvolution?, batch: Int) -> WinogradConvolution? {
        guard allowsWinograd, let form,
              WinogradConvolution.pays(for: form.shape, batch: batch, threads: WorkerPool.shared.width) else { return nil }
        return form
    }

    /// Whether oneDNN applies the activation (as a post-op) in this mode.
    private func fused(training: Bool) -> Bool {
        activation.postOps != nil && (!training || activation.derivativeFromOutput)
    }

    /// Makes (once) and selects the primitives for `batch` samples.
    /// - Throws: `ZooNetError.backend` when oneDNN has no kernel for the shape.
    func prepare(batch: Int, training: Bool) throws {
        let key = Key(batch: batch, training: training)
        if let existing = primitives[key] { current = existing; return }
        var attributes: PrimitiveAttributes?
        if fused(training: training), let ops = activation.postOps, !ops.isEmpty {
            let attr = try PrimitiveAttributes()
            try attr.append(activation)
            attributes = attr
        }
        let made = try ConvolutionPrimitives(shape: shape, batch: batch, training: training, hasBias: hasBias,
                                             postOps: attributes)
        primitives[key] = made
        current = made
    }

    private func primitives(batch: Int, training: Bool) -> ConvolutionPrimitives? {
        // Primitives prepared for a backward pass also serve an inference-mode forward before it.
        if let current, current.batch == batch, current.training || !training { return current }
        do { try prepare(batch: batch, training: training) } catch {
            OneDNN.recordError(error)
            return nil
        }
        return current
    }

    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, kernel: Variable, bias: Variable?,
                 batch: Int, training: Bool) {
        guard let p = primitives(batch: batch, training: training) else { return }
        if let form = winograd(winogradForward, batch: batch), let clamp = WinogradConvolution.clamp(activation) {
            form.run(x, kernel: kernel.value.pointer, version: training ? nil : kernel.version,
                     bias: bias.map { UnsafePointer($0.value.pointer) },
                     first: clamp, sum: false, second: (-.infinity, .infinity), into: y, batch: batch)
            return
        }
        let rows = batch * shape.outputHeight * shape.outputWidth
        let keepInput = training && !activation.derivativeFromOutput
        if fused(training: training) || activation == .linear {
            p.runForward(x: x, weights: kernel.value.pointer, version: kernel.version, bias: bias?.value.pointer, y: y)
        } else if keepInput {
            preActivation.reserve(rows * shape.outputChannels)
            p.runForward(x: x, weights: kernel.value.pointer, version: kernel.version, bias: bias?.value.pointer,
                         y: preActivation.pointer)
            activation.forwardParallel(y, rows: rows, width: shape.outputChannels, input: preActivation.pointer)
        } else {
            p.runForward(x: x, weights: kernel.value.pointer, version: kernel.version, bias: bias?.value.pointer, y: y)
            activation.forwardParallel(y, rows: rows, width: shape.outputChannels)
        }
    }

    func backward(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                  inputGradient dx: UnsafeMutablePointer<Float>?, kernel: Variable, bias: Variable?, batch: Int) {
        guard let p = primitives(batch: batch, training: true) else { return }
        let rows = batch * shape.outputHeight * shape.outputWidth
        if activation != .linear {
            let keptInput = !activation.derivativeFromOutput ? UnsafePointer(preActivation.pointer) : nil
            activation.backwardParallel(dy, output: y, input: keptInput, rows: rows, width: shape.outputChannels)
        }
        if kernel.isTrainable, let form = winograd(winogradForward, batch: batch),
           shape.inputChannels * shape.outputChannels <= 65_536 {  // one dU of 16·C·K floats per thread
            form.runWeightGradient(x: x, dy: dy, into: kernel.gradient.pointer, batch: batch)
            if let bias, bias.isTrainable { columnSums(dy, rows: rows, width: shape.outputChannels, into: bias.gradient.pointer) }
        } else if kernel.isTrainable, let im2colWeightGradient {
            im2colWeightGradient.run(x: x, dy: dy, batch: batch, weightGradient: kernel.gradient.pointer,
                                     biasGradient: bias.flatMap { $0.isTrainable ? $0.gradient.pointer : nil },
                                     col: im2col, product: im2colProduct)
        } else if kernel.isTrainable, let depthwiseWeightGradient,
                  DepthwiseWeightGradient.replaces(p.backwardWeightsImplementation) {
            depthwiseWeightGradient.run(x: x, dy: dy, batch: batch, weightGradient: kernel.gradient.pointer,
                                        biasGradient: bias.flatMap { $0.isTrainable ? $0.gradient.pointer : nil })
        } else if kernel.isTrainable {
            let db: UnsafeMutablePointer<Float>? = bias.map { $0.isTrainable ? $0.gradient.pointer : biasScratch.pointer }
            p.runBackwardWeights(x: x, dy: dy, weightGradient: kernel.gradient.pointer, biasGradient: db)
        } else if let bias, bias.isTrainable {
            columnSums(dy, rows: rows, width: shape.outputChannels, into: bias.gradient.pointer)
        }
        guard let dx else { return }
        if let form = winograd(winogradBackwardData, batch: batch) {
            form.run(dy, kernel: flipped(kernel), version: nil, bias: nil, first: (-.infinity, .infinity),
                     sum: false, second: (-.infinity, .infinity), into: dx, batch: batch)
        } else {
            p.runBackwardData(dy: dy, weights: kernel.value.pointer, dx: dx)
        }
    }

    /// `W'[a, b, k, c] = W[2 − a, 2 − b, c, k]` of the current kernel (made every backward pass).
    private func flipped(_ kernel: Variable) -> UnsafePointer<Float> {
        let c = shape.inputChannels, k = shape.outputChannels
        flippedKernel.reserve(9 * c * k)
        let w = kernel.value.pointer, target = flippedKernel.pointer
        for a in 0..<3 {
            for b in 0..<3 {
                let from = w + ((2 - a) * 3 + (2 - b)) * c * k, to = target + (a * 3 + b) * k * c
                for ci in 0..<c {
                    for ki in 0..<k { to[ki * c + ci] = from[ci * k + ki] }
                }
            }
        }
        return UnsafePointer(flippedKernel.pointer)
    }
}
