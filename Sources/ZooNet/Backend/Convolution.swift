import CDNNL

/// The geometry of one 2-D convolution (or transposed convolution) on NHWC data, as oneDNN
/// describes it. Heights and widths are per sample; pads are per side.
struct ConvolutionShape: Hashable, CustomStringConvertible {
    var transposed = false
    var inputHeight = 0, inputWidth = 0, inputChannels = 0
    var outputHeight = 0, outputWidth = 0, outputChannels = 0
    var kernelHeight = 1, kernelWidth = 1
    var strideHeight = 1, strideWidth = 1
    /// 1 = no dilation (Keras/PyTorch convention; oneDNN counts the gaps, d − 1).
    var dilationHeight = 1, dilationWidth = 1
    var padTop = 0, padBottom = 0, padLeft = 0, padRight = 0
    var groups = 1

    var description: String {
        "\(transposed ? "transposed " : "")convolution [\(inputHeight), \(inputWidth), \(inputChannels)] → "
            + "[\(outputHeight), \(outputWidth), \(outputChannels)] kernel \(kernelHeight)×\(kernelWidth) stride "
            + "\(strideHeight)×\(strideWidth) dilation \(dilationHeight)×\(dilationWidth) pads "
            + "(\(padTop), \(padBottom), \(padLeft), \(padRight)) groups \(groups)"
    }

    var inputCount: Int { inputHeight * inputWidth * inputChannels }

    /// A 1×1, stride-1, unpadded, ungrouped, not transposed convolution: each output pixel from
    /// the same input pixel alone (a matrix product over the pixels).
    var isPointwise: Bool {
        !transposed && groups == 1 && kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padBottom == 0 && padLeft == 0 && padRight == 0
    }
    var outputCount: Int { outputHeight * outputWidth * outputChannels }

    /// Multiply-adds per sample × 2 (FLOP).
    var flopPerSample: Int {
        let positions = transposed ? inputHeight * inputWidth : outputHeight * outputWidth
        let fanIn = (transposed ? outputChannels : inputChannels) / groups * kernelHeight * kernelWidth
        return 2 * positions * fanIn * (transposed ? inputChannels : outputChannels)
    }

    /// oneDNN's logical weight dimensions: `(O, I, H, W)`, or `(G, O/G, I/G, H, W)` grouped.
    var weightDims: [Int] {
        let o = outputChannels, i = inputChannels
        if groups == 1 { return [o, i, kernelHeight, kernelWidth] }
        return [groups, o / groups, i / groups, kernelHeight, kernelWidth]
    }

    /// Element strides of the Keras kernel in oneDNN's logical order: `Conv2D` kernels are
    /// `[kh, kw, cin/g, cout]` (HWIO; a depthwise `[kh, kw, c, m]` kernel is the same memory
    /// with g = c, cout = c·m), `Conv2DTranspose` kernels `[kh, kw, cout, cin]`.
    var kerasWeightStrides: [Int] {
        if transposed {  // [kh, kw, O, I]: o stride I, i stride 1 (no groups: Keras has none)
            let o = outputChannels, i = inputChannels
            return [i, 1, kernelWidth * o * i, o * i]
        }
        let ig = inputChannels / groups, o = outputChannels
        if groups == 1 { return [1, o, kernelWidth * ig * o, ig * o] }
        return [o / groups, 1, o, kernelWidth * ig * o, ig * o]
    }
}

/// oneDNN's forward and backward convolution primitives for one shape and batch size, with
/// the weight reorders they need: Keras-layout kernels (HWIO) into the layout each primitive
/// prefers, and the weight gradient back. Activations stay NHWC (no reorders), except for an
/// inference convolution made with `blocked` buffers (`BlockedActivations`), which runs on nChw8c
/// between two reorders.
final class ConvolutionPrimitives {
    let shape: ConvolutionShape
    let batch: Int
    let training: Bool
    let hasBias: Bool

    private let forward: BoundPrimitive
    private let forwardWeights: WeightLayout
    private let backwardData: BoundPrimitive?
    private let backwardDataWeights: WeightLayout?
    private let backwardWeights: BoundPrimitive?
    private let weightGradient: WeightLayout?
    /// oneDNN's implementation of the forward pass (`jit:avx2`, `brgconv:avx512_core`, …).
    let forwardImplementation: String
    /// oneDNN's implementation of the weight gradient (`jit_dw:avx2`, `gemm:jit`, …; empty
    /// without a backward pass).
    let backwardWeightsImplementation: String
    /// The reorders into and out of the blocked layout, when the forward pass runs on it.
    private let blockedReorders: BlockedReorders?
    /// The kernel version whose reorder `forwardWeights` holds (inference: reorder once per change).
    private var reorderedVersion = -1

    /// Creates the primitives; `postOps` are fused into the forward output (an activation).
    /// `blocked`: an inference convolution's forward pass runs on nChw8c in these buffers (the
    /// caller checks `BlockedActivations.suits`; ignored when training).
    /// - Throws: `ZooNetError.backend` naming the shape when oneDNN has no kernel for it.
    init(shape: ConvolutionShape, batch: Int, training: Bool, hasBias: Bool, postOps: PrimitiveAttributes?,
         blocked: BlockedActivations? = nil) throws {
        self.shape = shape
        self.batch = batch
        self.training = training
        self.hasBias = hasBias
        let name = "\(shape) batch \(batch)"
        let blocked = training ? nil : blocked
        let layouts = try ConvolutionLayouts(shape: shape, batch: batch, name: name, blocked: blocked != nil)
        if let blocked {
            let nhwc = try ConvolutionLayouts(shape: shape, batch: batch, name: name)
            blockedReorders = try BlockedReorders(nhwcSource: nhwc.src, blockedSource: layouts.src, blockedDestination: layouts.dst,
                                                  nhwcDestination: nhwc.dst, buffers: blocked, name: name)
        } else {
            blockedReorders = nil
        }
        let (src, dst, userWeights, bias) = (layouts.src, layouts.dst, layouts.userWeights, layouts.bias)
        let strides = [shape.strideHeight, shape.strideWidth]
        let dilates = [shape.dilationHeight - 1, shape.dilationWidth - 1]
        let padL = [shape.padTop, shape.padLeft], padR = [shape.padBottom, shape.padRight]
        var status = dnnl_success
        var srcRaw = src.raw, dstRaw = dst.raw, anyRaw = layouts.anyWeights.raw
        var biasRaw = hasBias ? bias.raw : dnnl_memory_desc_t()

        // Forward.
        let forwardPrimitive = try layouts.forwardPrimitive(training: training, hasBias: hasBias, attributes: postOps)
        forwardWeights = try WeightLayout(user: userWeights, primitive: forwardPrimitive.memory(dnnl_query_weights_md),
                                          toPrimitive: true, name: name)
        var arguments: [(Int32, MemoryDescriptor)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, forwardWeights.primitiveLayout)]
        if hasBias { arguments.append((DNNL_ARG_BIAS, bias)) }
        arguments.append((DNNL_ARG_DST, dst))
        forward = try BoundPrimitive(forwardPrimitive, arguments: arguments.map { (kind: $0.0, layout: $0.1) })
        forwardImplementation = forwardPrimitive.implementation

        guard training else {
            backwardData = nil; backwardDataWeights = nil; backwardWeights = nil; weightGradient = nil
            backwardWeightsImplementation = ""
            return
        }
        // Backward data: dX from dY and the weights.
        let dataPrimitive: Primitive
        if shape.transposed {
            var d = dnnl_deconvolution_desc_t()
            status = withDims(strides) { s in withDims(dilates) { dl in withDims(padL) { l in withDims(padR) { r in
                dnnl_dilated_deconvolution_backward_data_desc_init(&d, dnnl_deconvolution_direct, &srcRaw, &anyRaw, &dstRaw,
                                                                   s, dl, l, r) } } } }
            try OneDNN.check(status, "\(name) backward-data descriptor")
            dataPrimitive = try Primitive(d, hint: forwardPrimitive, name: "\(name) backward data")
        } else {
            var d = dnnl_convolution_desc_t()
            status = withDims(strides) { s in withDims(dilates) { dl in withDims(padL) { l in withDims(padR) { r in
                dnnl_dilated_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &srcRaw, &anyRaw, &dstRaw,
                                                                 s, dl, l, r) } } } }
            try OneDNN.check(status, "\(name) backward-data descriptor")
            dataPrimitive = try Primitive(d, hint: forwardPrimitive, name: "\(name) backward data")
        }
        let dataWeights = try WeightLayout(user: userWeights, primitive: dataPrimitive.memory(dnnl_query_weights_md),
                                           toPrimitive: true, name: "\(name) backward data")
        backwardDataWeights = dataWeights
        backwardData = try BoundPrimitive(dataPrimitive, arguments: [
            (DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_WEIGHTS, dataWeights.primitiveLayout), (DNNL_ARG_DIFF_SRC, src),
        ])
        // Backward weights: dW (and db) from X and dY.
        let weightsPrimitive: Primitive
        if shape.transposed {
            var d = dnnl_deconvolution_desc_t()
            status = withDims(strides) { s in withDims(dilates) { dl in withDims(padL) { l in withDims(padR) { r in
                dnnl_dilated_deconvolution_backward_weights_desc_init(&d, dnnl_deconvolution_direct, &srcRaw, &anyRaw,
                                                                      &biasRaw, &dstRaw, s, dl, l, r) } } } }
            try OneDNN.check(status, "\(name) backward-weights descriptor")
            weightsPrimitive = try Primitive(d, hint: forwardPrimitive, name: "\(name) backward weights")
        } else {
            var d = dnnl_convolution_desc_t()
            status = withDims(strides) { s in withDims(dilates) { dl in withDims(padL) { l in withDims(padR) { r in
                dnnl_dilated_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &srcRaw, &anyRaw,
                                                                    &biasRaw, &dstRaw, s, dl, l, r) } } } }
            try OneDNN.check(status, "\(name) backward-weights descriptor")
            // oneDNN 2.6's jit_1x1 weight gradient is wrong for strided 1×1 convolutions with
            // fewer than 8 input channels and no bias (most runs, any thread count; reproduced
            // in C outside ZooNet): use the next implementation for strided 1×1 convolutions.
            let strided1x1 = shape.kernelHeight == 1 && shape.kernelWidth == 1
                && (shape.strideHeight > 1 || shape.strideWidth > 1)
            weightsPrimitive = try Primitive(d, hint: forwardPrimitive, name: "\(name) backward weights",
                                             avoiding: strided1x1 ? { $0.hasPrefix("jit_1x1") } : nil)
        }
        let gradientLayout = try WeightLayout(user: userWeights, primitive: weightsPrimitive.memory(dnnl_query_diff_weights_md),
                                              toPrimitive: false, name: "\(name) weight gradient")
        weightGradient = gradientLayout
        backwardWeightsImplementation = weightsPrimitive.implementation
        var weightArguments: [(Int32, MemoryDescriptor)] = [
            (DNNL_ARG_SRC, src), (DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_DIFF_WEIGHTS, gradientLayout.primitiveLayout),
        ]
        if hasBias { weightArguments.append((DNNL_ARG_DIFF_BIAS, bias)) }
        backwardWeights = try BoundPrimitive(weightsPrimitive, arguments: weightArguments.map { (kind: $0.0, layout: $0.1) })
    }

    /// `y = conv(x, W) + b` (with the fused post-ops); `weights` in the Keras layout, reordered
    /// when `version` differs from the last reorder's (always when training).
    func runForward(x: UnsafePointer<Float>, weights: UnsafePointer<Float>, version: Int, bias: UnsafePointer<Float>?,
                    y: UnsafeMutablePointer<Float>) {
        let w: UnsafePointer<Float>
        if training || version != reorderedVersion {
            w = forwardWeights.prepare(weights)
            reorderedVersion = version
        } else {
            w = forwardWeights.prepared(weights)
        }
        let (source, destination) = blockedReorders?.enter(x) ?? (x, y)
        forward.bind(0, source)
        forward.bind(1, w)
        var next = 2
        if hasBias, let bias { forward.bind(next, bias); next += 1 }
        forward.bind(next, destination)
        forward.run()
        blockedReorders?.leave(into: y)
    }

    /// dX = conv_backward_data(dY, W).
    func runBackwardData(dy: UnsafePointer<Float>, weights: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        guard let backwardData, let backwardDataWeights else { return }
        backwardData.bind(0, dy)
        backwardData.bind(1, backwardDataWeights.prepare(weights))
        backwardData.bind(2, dx)
        backwardData.run()
    }

    /// dW (Keras layout, written into `weightGradient`) and db from X and dY.
    func runBackwardWeights(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>,
                            biasGradient db: UnsafeMutablePointer<Float>?) {
        guard let backwardWeights, let weightGradient else { return }
        backwardWeights.bind(0, x)
        backwardWeights.bind(1, dy)
        backwardWeights.bind(2, weightGradient.target(dw))
        if hasBias, let db { backwardWeights.bind(3, db) }
        backwardWeights.run()
        weightGradient.finish(dw)
    }
}

/// The memory layouts of a convolution of `shape` on `batch` samples: NHWC activations (nChw8c
/// when `blocked`), the weights in oneDNN's choice (`any`) and in Keras' layout, the bias; and
/// its forward primitive.
struct ConvolutionLayouts {
    let shape: ConvolutionShape
    let name: String
    let src: MemoryDescriptor, dst: MemoryDescriptor
    let anyWeights: MemoryDescriptor, userWeights: MemoryDescriptor
    let bias: MemoryDescriptor

    /// `name` describes the convolution in errors.
    init(shape: ConvolutionShape, batch: Int, name: String, blocked: Bool = false) throws {
        self.shape = shape
        self.name = name
        func activations(_ height: Int, _ width: Int, _ channels: Int) throws -> MemoryDescriptor {
            blocked ? try .nChw8c(batch: batch, height: height, width: width, channels: channels, context: name)
                : try .nhwc(batch: batch, height: height, width: width, channels: channels, context: name)
        }
        src = try activations(shape.inputHeight, shape.inputWidth, shape.inputChannels)
        dst = try activations(shape.outputHeight, shape.outputWidth, shape.outputChannels)
        anyWeights = try MemoryDescriptor.any(shape.weightDims, context: name)
        userWeights = try MemoryDescriptor.strided(shape.weightDims, strides: shape.kerasWeightStrides, context: name)
        bias = try MemoryDescriptor.rowMajor([shape.outputChannels], context: name)
    }

    /// The forward primitive (`attributes`: its post-ops), transposed or not as the shape says.
    func forwardPrimitive(training: Bool, hasBias: Bool, attributes: PrimitiveAttributes?) throws -> Primitive {
        let strides = [shape.strideHeight, shape.strideWidth]
        let dilates = [shape.dilationHeight - 1, shape.dilationWidth - 1]
        let padL = [shape.padTop, shape.padLeft], padR = [shape.padBottom, shape.padRight]
        let propagation = training ? dnnl_forward_training : dnnl_forward_inference
        var srcRaw = src.raw, dstRaw = dst.raw, anyRaw = anyWeights.raw
        var biasRaw = hasBias ? bias.raw : dnnl_memory_desc_t()
        if shape.transposed {
            var d = dnnl_deconvolution_desc_t()
            let status = withDims(strides) { s in withDims(dilates) { dl in withDims(padL) { l in withDims(padR) { r in
                dnnl_dilated_deconvolution_forward_desc_init(&d, propagation, dnnl_deconvolution_direct, &srcRaw, &anyRaw,
                                                             &biasRaw, &dstRaw, s, dl, l, r) } } } }
            try OneDNN.check(status, "\(name) forward descriptor")
            return try Primitive(d, attributes: attributes, name: "\(name) forward")
        }
        var d = dnnl_convolution_desc_t()
        let status = withDims(strides) { s in withDims(dilates) { dl in withDims(padL) { l in withDims(padR) { r in
            dnnl_dilated_convolution_forward_desc_init(&d, propagation, dnnl_convolution_direct, &srcRaw, &anyRaw,
                                                       &biasRaw, &dstRaw, s, dl, l, r) } } } }
        try OneDNN.check(status, "\(name) forward descriptor")
        return try Primitive(d, attributes: attributes, name: "\(name) forward")
    }
}

/// A weight tensor in the Keras layout and in the layout a primitive chose, with the reorder
/// between them (none when they are the same).
final class WeightLayout {
    let primitiveLayout: MemoryDescriptor
    private let reorder: BoundPrimitive?
    private let buffer: FloatBuffer

    /// `toPrimitive`: reorders Keras → primitive (weights); otherwise primitive → Keras (gradients).
    init(user: MemoryDescriptor, primitive: MemoryDescriptor, toPrimitive: Bool, name: String) throws {
        primitiveLayout = primitive
        if user.sameLayout(as: primitive) {
            reorder = nil
            buffer = FloatBuffer(count: 0)
        } else {
            let (from, to) = toPrimitive ? (user, primitive) : (primitive, user)
            reorder = try BoundPrimitive(Primitive(reorderFrom: from, to: to, name: name),
                                         arguments: [(DNNL_ARG_FROM, from), (DNNL_ARG_TO, to)])
            buffer = FloatBuffer(count: primitive.floatCount)
        }
    }

    /// Reorders Keras-layout `weights` into the primitive's layout; returns what to bind.
    func prepare(_ weights: UnsafePointer<Float>) -> UnsafePointer<Float> {
        guard let reorder else { return weights }
        reorder.bind(0, weights)
        reorder.bind(1, buffer.pointer)
        reorder.run()
        return UnsafePointer(buffer.pointer)
    }

    /// What `prepare` returned last time (no reorder).
    func prepared(_ weights: UnsafePointer<Float>) -> UnsafePointer<Float> {
        reorder == nil ? weights : UnsafePointer(buffer.pointer)
    }

    /// Where a primitive should write a gradient meant for the Keras-layout `target`.
    func target(_ target: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        reorder == nil ? target : buffer.pointer
    }

    /// Reorders a gradient written to `target(_:)` into the Keras-layout `target`.
    func finish(_ target: UnsafeMutablePointer<Float>) {
        guard let reorder else { return }
        reorder.bind(0, buffer.pointer)
        reorder.bind(1, target)
        reorder.run()
    }
}
