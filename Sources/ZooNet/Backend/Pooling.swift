import CDNNL

/// oneDNN's pooling primitives for one geometry and batch size: forward (training keeps the
/// max pool's workspace — where each maximum came from) and backward.
final class PoolingPrimitives {
    enum Kind { case max, averageExcludingPadding, averageIncludingPadding }

    let batch: Int
    let training: Bool
    private let forward: BoundPrimitive
    private let backward: BoundPrimitive?
    private let workspace: FloatBuffer?

    /// - Throws: `ZooNetError.backend` when oneDNN has no kernel for the geometry.
    init(kind: Kind, geometry g: WindowGeometry, batch: Int, training: Bool) throws {
        self.batch = batch
        self.training = training
        let name = "\(kind) pooling [\(g.inputHeight), \(g.inputWidth), \(g.channels)] → [\(g.outputHeight), \(g.outputWidth)] "
            + "window \(g.kernelHeight)×\(g.kernelWidth) stride \(g.strideHeight)×\(g.strideWidth) batch \(batch)"
        let algorithm: dnnl_alg_kind_t
        switch kind {
        case .max: algorithm = dnnl_pooling_max
        case .averageExcludingPadding: algorithm = dnnl_pooling_avg_exclude_padding
        case .averageIncludingPadding: algorithm = dnnl_pooling_avg_include_padding
        }
        let src = try MemoryDescriptor.nhwc(batch: batch, height: g.inputHeight, width: g.inputWidth, channels: g.channels,
                                            context: name)
        let dst = try MemoryDescriptor.nhwc(batch: batch, height: g.outputHeight, width: g.outputWidth, channels: g.channels,
                                            context: name)
        let strides = [g.strideHeight, g.strideWidth], kernel = [g.kernelHeight, g.kernelWidth]
        let dilation = [g.dilationHeight - 1, g.dilationWidth - 1]
        let padL = [g.padTop, g.padLeft], padR = [g.padBottom, g.padRight]
        var srcRaw = src.raw, dstRaw = dst.raw
        var d = dnnl_pooling_v2_desc_t()
        var status = withDims(strides) { s in withDims(kernel) { k in withDims(dilation) { dl in withDims(padL) { l in
            withDims(padR) { r in
                dnnl_pooling_v2_forward_desc_init(&d, training ? dnnl_forward_training : dnnl_forward_inference, algorithm,
                                                  &srcRaw, &dstRaw, s, k, dl, l, r) } } } } }
        try OneDNN.check(status, "\(name) forward descriptor")
        let forwardPrimitive = try Primitive(d, name: "\(name) forward")
        var arguments: [(kind: Int32, layout: MemoryDescriptor)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_DST, dst)]
        let workspaceLayout = try forwardPrimitive.memory(dnnl_query_workspace_md)
        let hasWorkspace = training && workspaceLayout.byteCount > 0
        if hasWorkspace { arguments.append((DNNL_ARG_WORKSPACE, workspaceLayout)) }
        forward = try BoundPrimitive(forwardPrimitive, arguments: arguments)
        workspace = hasWorkspace ? FloatBuffer(count: workspaceLayout.floatCount) : nil
        guard training else { backward = nil; return }
        var b = dnnl_pooling_v2_desc_t()
        status = withDims(strides) { s in withDims(kernel) { k in withDims(dilation) { dl in withDims(padL) { l in
            withDims(padR) { r in
                dnnl_pooling_v2_backward_desc_init(&b, algorithm, &srcRaw, &dstRaw, s, k, dl, l, r) } } } } }
        try OneDNN.check(status, "\(name) backward descriptor")
        let backwardPrimitive = try Primitive(b, hint: forwardPrimitive, name: "\(name) backward")
        var backwardArguments: [(kind: Int32, layout: MemoryDescriptor)] = [(DNNL_ARG_DIFF_DST, dst), (DNNL_ARG_DIFF_SRC, src)]
        if hasWorkspace { backwardArguments.append((DNNL_ARG_WORKSPACE, workspaceLayout)) }
        backward = try BoundPrimitive(backwardPrimitive, arguments: backwardArguments)
    }

    func runForward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        forward.bind(0, x)
        forward.bind(1, y)
        if let workspace { forward.bind(2, workspace.pointer) }
        forward.run()
    }

    func runBackward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        guard let backward else { return }
        backward.bind(0, dy)
        backward.bind(1, dx)
        if let workspace { backward.bind(2, workspace.pointer) }
        backward.run()
    }
}
