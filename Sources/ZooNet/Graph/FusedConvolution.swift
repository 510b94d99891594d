import CDNNL

/// One oneDNN convolution (`Conv2D`, `DepthwiseConv2D`, a stage of `SeparableConv2D`): what a
/// fused step needs to know of it. The kernel is in the Keras layout of its kind.
protocol SingleConvolution: AnyObject {
    var convolutionShape: ConvolutionShape? { get }
    var kernelVariable: Variable? { get }
    var biasVariable: Variable? { get }
    var activation: Activation { get }
    /// Whether it is a depthwise convolution (kernel `[kh, kw, c, m]`, one group per channel).
    var isDepthwise: Bool { get }
}

extension Conv2D: SingleConvolution {
    var convolutionShape: ConvolutionShape? { core?.shape }
    var kernelVariable: Variable? { kernel }
    var biasVariable: Variable? { bias }
    var isDepthwise: Bool { false }
}

extension DepthwiseConv2D: SingleConvolution {
    var convolutionShape: ConvolutionShape? { core?.shape }
    var kernelVariable: Variable? { kernel }
    var biasVariable: Variable? { bias }
    var isDepthwise: Bool { true }
}

/// A convolution and what follows it, run as one oneDNN primitive where no gradient flows
/// (inference, and frozen blocks in training):
/// `y = f₂(f₁(conv(x, W') + b') + addend)` with
/// - a following `BatchNorm` in inference mode folded into the weights:
///   `s = γ/√(σ² + ε)`, `W'[…, o] = W[…, o]·s[o]`, `b' = (b − μ)·s + β`;
/// - the activation f₁ (the convolution's own or a following activation layer) and f₂ (an
///   activation after a residual add) as eltwise post-ops;
/// - a `ZeroPadding2D` before it (Keras Applications' `*_pad` layers) folded into its pads;
/// - a residual `Add` as a sum post-op: the output buffer holds the addend before the
///   primitive runs (the plan gives the output the addend's buffer when the add is its last
///   use, so no copy is made).
/// The folded weights are recomputed when any of the variables changes (their versions).
/// A 3×3 stride-1 convolution whose activations are clamps (none, ReLU, ReLU6) runs as
/// Winograd F(2×2, 3×3) at the batch sizes where that pays (`WinogradConvolution`), as one
/// pass with the same bias, activations and residual add; on AVX2 other direct convolutions
/// run on ZooNet's own kernel (`DirectConvolution`) where it takes them (clamp activations,
/// channels it tiles), else, without a residual add, on oneDNN's blocked layout
/// (`BlockedActivations`). Those rules were measured on AVX2; where oneDNN runs other kernels
/// (AVX-512), or with `ComputeBackend.kernelTuning` `.on`, the step times its candidate kernels
/// once per batch size when it is prepared and runs the fastest (`ConvolutionKernelChoice`), or
/// takes the choice kept in the process or on disk (`KernelChoiceFile`).
final class FusedConvolution {
    let convolution: any SingleConvolution
    let shape: ConvolutionShape
    let batchNorm: BatchNorm?
    let first: Activation
    let sum: Bool
    let second: Activation
    /// The post-ops (activations, sum) every primitive of the step is made with; nil: none.
    let attributes: PrimitiveAttributes?
    private var primitives: [Int: ConvolutionPrimitives] = [:]
    /// Per batch size prepared: the kernel tuning chose and the candidates' times, or nil where
    /// the rules decide (at run time, so switching `ComputeBackend.winograd` takes effect at once).
    private var tuned: [Int: ConvolutionKernelChoice.Measured?] = [:]
    private let kernel = FloatBuffer(count: 0)
    private let bias = FloatBuffer(count: 0)
    private var foldedVersions: [Int] = []
    private var foldCount = 0
    /// Both activations as clamps `(lower, upper)`, when they are clamps (none, ReLU, ReLU6):
    /// what ZooNet's own Winograd and direct kernels apply as they store.
    private let clamps: (first: (lower: Float, upper: Float), second: (lower: Float, upper: Float))?
    /// The Winograd form of the step, when the convolution and activations allow it.
    private let winograd: WinogradConvolution?
    /// ZooNet's own direct kernel for the step, when the rules take it (`directByRule`) or, when
    /// tuning, it can run the step (`DirectConvolution.runs`: 1×1s too).
    private let direct: DirectConvolution?
    /// Whether the rules run the step on the own direct kernel (`DirectConvolution.suits`).
    private let directByRule: Bool
    /// The buffers for running on oneDNN's blocked layout, when the convolution suits it and
    /// the own kernel does not.
    private let blocked: BlockedActivations?
    /// The step on runs of pixels, when it is a pointwise convolution with a residual add that
    /// suits them (`FusedPixelRuns`).
    private var pixelRuns: FusedPixelRuns?

    /// `padding`: a `ZeroPadding2D` before the convolution, folded into its pads (the step then
    /// reads the unpadded tensor). `blockedActivations`: the network's buffers for the blocked
    /// layout, used if the convolution suits it (`BlockedActivations.suits`).
    init(convolution: any SingleConvolution, padding: ZeroPadding2D? = nil, batchNorm: BatchNorm?, first: Activation, sum: Bool,
         second: Activation, winogradScratch: WinogradScratch? = nil, blockedActivations: BlockedActivations? = nil) throws {
        guard var shape = convolution.convolutionShape else {
            throw ZooNetError.invalidArgument("fusing a convolution that is not built")
        }
        if let padding {
            shape.inputHeight -= padding.top + padding.bottom
            shape.inputWidth -= padding.left + padding.right
            shape.padTop += padding.top
            shape.padBottom += padding.bottom
            shape.padLeft += padding.left
            shape.padRight += padding.right
        }
        self.convolution = convolution
        self.shape = shape
        self.batchNorm = batchNorm
        self.first = first
        self.sum = sum
        self.second = second
        let attr = try PrimitiveAttributes()
        try attr.append(first)
        if sum { try attr.appendSum() }
        try attr.append(second)
        attributes = first == .linear && !sum && second == .linear ? nil : attr
        if let f = WinogradConvolution.clamp(first), let s = WinogradConvolution.clamp(second) {
            clamps = (f, s)
        } else {
            clamps = nil
        }
        if let winogradScratch, WinogradConvolution.supports(shape), clamps != nil {
            winograd = WinogradConvolution(shape: shape, scratch: winogradScratch)
        } else {
            winograd = nil
        }
        directByRule = DirectConvolution.suits(shape, first: first, sum: sum, second: second)
        let directCandidate = ComputeBackend.tunesKernels && DirectConvolution.runs(shape, first: first, second: second)
        direct = directByRule || directCandidate ? DirectConvolution(shape: shape) : nil
        blocked = !directByRule && BlockedActivations.suits(shape, sum: sum) ? blockedActivations : nil
        if FusedPixelRuns.suits(self) {
            var withoutSum: PrimitiveAttributes?
            if first != .linear {
                withoutSum = try PrimitiveAttributes()
                try withoutSum?.append(first)
            }
            pixelRuns = FusedPixelRuns(heldBy: self, withoutSum: withoutSum)
        }
    }

    /// Whether the step runs on runs of pixels (`FusedPixelRuns`) at `batch` samples.
    func runsOnPixelRuns(batch: Int) -> Bool { kernel(batch: batch) == .pixelRuns }

    /// Whether the rules run the step as Winograd at `batch` samples with the current thread
    /// count. Not on maps of fewer than 25 tiles (smaller than 9×9; 7×7 makes 16 tiles, a third
    /// of whose outputs overhang) when a direct kernel can run the step instead (ZooNet's own or
    /// oneDNN's on the blocked layout): ResNet-50's 7×7×512 layer at batch 6 (its pass at 224)
    /// ran 0.81–0.90× as fast as Winograd as blocked direct (`zoo-conv-bench winograd`, AMD EPYC
    /// Zen 3), and the own kernel is faster than that. Its 14×14 layers stay on Winograd: as own
    /// direct they measured level with it at batch 1 (alternating step profiles: Winograd
    /// 1.44–1.68 ms against 1.69–1.72 in one pair, 1.98–2.07 against 1.70–1.78 in the next).
    private func winogradByRule(batch: Int) -> Bool {
        guard winograd != nil, WinogradConvolution.pays(for: shape, batch: batch, threads: WorkerPool.shared.width) else {
            return false
        }
        return (blocked == nil && !directByRule) || WinogradConvolution.tiles(shape, batch: 1) >= 25
    }

    /// The kernel the rules pick at `batch` samples: Winograd where it pays, then ZooNet's own
    /// direct kernel and pixel runs where they pay (on AVX2, where these rules were measured),
    /// else oneDNN.
    func ruleKernel(batch: Int) -> ConvolutionKernel {
        if winogradByRule(batch: batch) { return .winograd }
        if directByRule { return .ownDirect }
        guard OneDNN.runsAVX2Kernels else { return .oneDNN }
        if let pixelRuns, pixelRuns.pays(batch: batch) { return .pixelRuns }
        return .oneDNN
    }

    /// The kernels that can run the step at `batch` samples, for tuning: Winograd (switched on,
    /// any tile count), the own direct kernel, pixel runs where they pay, and oneDNN.
    func candidateKernels(batch: Int) -> [ConvolutionKernel] {
        var list: [ConvolutionKernel] = []
        if winograd != nil, ComputeBackend.winograd { list.append(.winograd) }
        if direct != nil { list.append(.ownDirect) }
        if let pixelRuns, pixelRuns.pays(batch: batch) { list.append(.pixelRuns) }
        return list + [.oneDNN]
    }

    /// The kernel the step runs on at `batch` samples: tuning's choice when it chose one for
    /// that batch size when prepared, else the rules'.
    func kernel(batch: Int) -> ConvolutionKernel {
        tunedChoice(batch: batch)?.kernel ?? ruleKernel(batch: batch)
    }

    /// Tuning's choice for `batch` samples with each candidate's least time, seconds per sample
    /// (`ConvolutionKernelChoice`); nil where the rules decide.
    func tunedChoice(batch: Int) -> ConvolutionKernelChoice.Measured? { tuned[batch] ?? nil }

    /// What runs the step at `batch` samples, for profiles: the kernel's name, oneDNN's with the
    /// implementation it picked (`oneDNN jit:avx2 nChw8c`, `oneDNN brgconv:avx512_core`) once
    /// its primitives for that batch size exist.
    func kernelDescription(batch: Int) -> String {
        let kernel = kernel(batch: batch)
        guard kernel == .oneDNN, let made = primitives[batch] else { return kernel.rawValue }
        return "oneDNN \(made.forwardImplementation)\(blocked != nil ? " nChw8c" : "")"
    }

    /// Whether the step runs as Winograd at `batch` samples.
    func usesWinograd(batch: Int) -> Bool { kernel(batch: batch) == .winograd }

    /// Whether the step's direct convolution runs on the blocked layout (`BlockedActivations`).
    var runsBlocked: Bool { blocked != nil }

    /// Whether the rules run the step on ZooNet's own direct kernel (`DirectConvolution`) where
    /// it does not run as Winograd.
    var runsOwnDirect: Bool { directByRule }

    /// Whether the step has a kernel besides oneDNN's primitive for the layer alone: the own
    /// direct kernel, the blocked layout, or (when tuning) Winograd — a convolution with
    /// nothing to fuse is a step of its own then.
    var hasOwnKernels: Bool { direct != nil || blocked != nil || (winograd != nil && ComputeBackend.tunesKernels) }

    /// Whether these activations can be fused (oneDNN has them as post-ops).
    static func canFuse(_ activation: Activation) -> Bool { activation.postOps != nil }

    /// Readies the step for `batch` samples: where tuning is on and more than one kernel can
    /// run it, times them (or takes the choice kept in the process or in `choices`); then makes
    /// what the kernel needs (oneDNN's primitives, pixel runs' buffers).
    /// `tuning`: whether to tune (tests force it; the first preparation for a batch size decides);
    /// `choices`: the file of choices kept between processes (`KernelChoiceFile`), nil for none.
    /// - Throws: `ZooNetError.backend` if a oneDNN primitive cannot be made.
    func prepare(batch: Int, tuning: Bool = ComputeBackend.tunesKernels,
                 choices: KernelChoiceFile? = KernelChoiceFile.standard) throws {
        if tuned[batch] == nil {
            let candidates = candidateKernels(batch: batch)
            if tuning, candidates.count > 1, convolution.kernelVariable != nil {
                let key = ConvolutionKernelChoice.Key(shape: shape, batch: batch, threads: WorkerPool.shared.width, sum: sum,
                                                      candidates: candidates)
                tuned[batch] = try ConvolutionKernelChoice.choice(for: key, rule: ruleKernel(batch: batch),
                                                                  file: choices) {
                    try time(candidates, batch: batch)
                }
            } else {
                tuned[batch] = .some(nil)
            }
        }
        switch kernel(batch: batch) {
        case .winograd, .ownDirect: break
        case .pixelRuns: try pixelRuns?.prepare(batch: batch)
        case .oneDNN: _ = try oneDNNPrimitives(batch: batch)
        }
    }

    /// oneDNN's primitives for `batch` samples (made once per batch size).
    private func oneDNNPrimitives(batch: Int) throws -> ConvolutionPrimitives {
        if let existing = primitives[batch] { return existing }
        let made = try ConvolutionPrimitives(shape: shape, batch: batch, training: false, hasBias: hasBias, postOps: attributes,
                                             blocked: blocked)
        primitives[batch] = made
        return made
    }

    /// Each candidate's least time, seconds per sample, running the step on scratch maps (zeros;
    /// the addend too) of `batch` samples, or of fewer where that is work enough
    /// (`ConvolutionKernelChoice.timedBatch`).
    private func time(_ candidates: [ConvolutionKernel], batch: Int) throws -> [ConvolutionKernel: Double] {
        let timed = ConvolutionKernelChoice.timedBatch(batch, flopPerSample: shape.flopPerSample)
        if candidates.contains(.oneDNN) { _ = try oneDNNPrimitives(batch: timed) }
        if candidates.contains(.pixelRuns) { try pixelRuns?.prepare(batch: timed) }
        let x = FloatBuffer(count: timed * shape.inputCount), y = FloatBuffer(count: timed * shape.outputCount)
        let times = ConvolutionKernelChoice.time(candidates) { run(UnsafePointer(x.pointer), into: y.pointer, batch: timed, on: $0) }
        return times.mapValues { $0 / Double(timed) }
    }

    /// The variables whose versions decide whether the folded weights are current.
    private var sources: [Variable] {
        var list = [convolution.kernelVariable, convolution.biasVariable].compactMap { $0 }
        if let batchNorm { list += batchNorm.variables }
        return list
    }

    /// Folds the batch norm into the kernel and bias if a variable changed since the last fold.
    private func fold() {
        guard let batchNorm, let w = convolution.kernelVariable, let c = batchNorm.featureCount,
              let mean = batchNorm.movingMean, let variance = batchNorm.movingVariance else { return }
        let versions = sources.map(\.version)
        guard versions != foldedVersions else { return }
        foldedVersions = versions
        foldCount &+= 1
        kernel.reserve(w.count)
        bias.reserve(c)
        let gamma = batchNorm.gamma?.value.pointer, beta = batchNorm.beta?.value.pointer
        let b = convolution.biasVariable?.value.pointer
        var scale = [Float](repeating: 0, count: c)
        for o in 0..<c {
            scale[o] = (gamma?[o] ?? 1) / (variance.value.pointer[o] + batchNorm.epsilon).squareRoot()
            bias.pointer[o] = ((b?[o] ?? 0) - mean.value.pointer[o]) * scale[o] + (beta?[o] ?? 0)
        }
        let source = w.value.pointer, target = kernel.pointer
        for i in 0..<w.count { target[i] = source[i] * scale[i % c] }
    }

    /// Whether the primitives take a bias (the convolution's own, or the folded batch norm's).
    var hasBias: Bool { batchNorm != nil || convolution.biasVariable != nil }

    /// The weights to run with, in the Keras layout: the folded kernel and bias when a batch
    /// norm is fused (folded again if a variable changed), else the convolution's own;
    /// `version` changes whenever the kernel's values do.
    func currentWeights() -> (kernel: UnsafePointer<Float>, version: Int, bias: UnsafePointer<Float>?) {
        if batchNorm != nil {
            fold()
            return (UnsafePointer(kernel.pointer), foldCount, UnsafePointer(bias.pointer))
        }
        let w = convolution.kernelVariable!
        return (UnsafePointer(w.value.pointer), w.version, convolution.biasVariable.map { UnsafePointer($0.value.pointer) })
    }

    /// Runs the fused step: `y` already holds the addend when `sum` is set.
    func run(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int) {
        guard convolution.kernelVariable != nil else { return }
        guard let decision = tuned[batch] else {  // not prepared for this batch size yet
            do { try prepare(batch: batch) } catch { OneDNN.recordError(error); return }
            run(x, into: y, batch: batch, on: kernel(batch: batch))
            return
        }
        run(x, into: y, batch: batch, on: decision?.kernel ?? ruleKernel(batch: batch))
    }

    /// Runs the step on `kernel` (one of `candidateKernels`).
    private func run(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, on kernel: ConvolutionKernel) {
        switch kernel {
        case .winograd:
            guard let winograd, let clamps else { break }
            let weights = currentWeights()
            winograd.run(x, kernel: weights.kernel, version: weights.version, bias: weights.bias, first: clamps.first,
                         sum: sum, second: clamps.second, into: y, batch: batch)
        case .ownDirect:
            guard let direct, let clamps else { break }
            let weights = currentWeights()
            direct.run(x, kernel: weights.kernel, version: weights.version, bias: weights.bias, first: clamps.first,
                       sum: sum, second: clamps.second, into: y, batch: batch)
        case .pixelRuns:
            pixelRuns?.run(x, into: y, batch: batch)
        case .oneDNN:
            let primitives: ConvolutionPrimitives
            do { primitives = try oneDNNPrimitives(batch: batch) } catch { OneDNN.recordError(error); return }
            let weights = currentWeights()
            primitives.runForward(x: x, weights: weights.kernel, version: weights.version, bias: weights.bias, y: y)
        }
    }
}
