/// What every convolution layer shares: the oneDNN primitives per batch size and mode, and the
/// layer's activation — fused into the primitive as a post-op when oneDNN has it and backward
/// can work from the output, applied by ZooNet otherwise (keeping the pre-activation when its
/// derivative needs it).
///
/// Forward: `y = f(conv(x, W) + b)`. Backward with `G = dy ⊙ f'`: `dW, db` from oneDNN's
/// backward-weights primitive (X and G), `dx` from its backward-data primitive (G and W).
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

    init(shape: ConvolutionShape, activation: Activation, hasBias: Bool) {
        self.shape = shape
        self.activation = activation
        self.hasBias = hasBias
        biasScratch = FloatBuffer(count: hasBias ? shape.outputChannels : 0)
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
            for op in ops { try attr.appendEltwise(op.algorithm, alpha: op.alpha, beta: op.beta) }
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
        if kernel.isTrainable {
            let db: UnsafeMutablePointer<Float>? = bias.map { $0.isTrainable ? $0.gradient.pointer : biasScratch.pointer }
            p.runBackwardWeights(x: x, dy: dy, weightGradient: kernel.gradient.pointer, biasGradient: db)
        } else if let bias, bias.isTrainable {
            columnSums(dy, rows: rows, width: shape.outputChannels, into: bias.gradient.pointer)
        }
        if let dx { p.runBackwardData(dy: dy, weights: kernel.value.pointer, dx: dx) }
    }
}
