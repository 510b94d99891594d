import CDNNL

/// Activations over large blocks split across the compute team (bands of whole rows, so the
/// row-wise ones — softmax — stay correct).
extension Activation {
    /// `y = f(input ?? y)` for a `[rows, width]` block.
    func forwardParallel(_ y: UnsafeMutablePointer<Float>, rows: Int, width: Int, input: UnsafePointer<Float>? = nil) {
        guard self != .linear || input != nil else { return }
        let pool = WorkerPool.shared
        let parts = pool.parts(work: rows * width, grain: WorkerPool.elementGrain, most: rows)
        pool.parallel(parts, ForwardRows(activation: self, y: y, input: input, rows: rows, width: width, parts: parts))
    }

    /// `dx = dy · f'` for a `[rows, width]` block (`dx` defaults to `dy`).
    func backwardParallel(_ dy: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>?,
                          rows: Int, width: Int, into dx: UnsafeMutablePointer<Float>? = nil) {
        guard self != .linear || dx != nil else { return }
        let pool = WorkerPool.shared
        let parts = pool.parts(work: rows * width, grain: WorkerPool.elementGrain, most: rows)
        pool.parallel(parts, BackwardRows(activation: self, dy: dy, output: output, input: input, dx: dx ?? dy,
                                          rows: rows, width: width, parts: parts))
    }

    private struct ForwardRows: ParallelJob {
        let activation: Activation
        let y: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>?
        let rows: Int, width: Int, parts: Int
        func run(_ part: Int) {
            let band = partRange(part, of: parts, count: rows, alignment: 1)
            let offset = band.lowerBound * width
            activation.forward(y + offset, rows: band.count, width: width, input: input.map { $0 + offset })
        }
    }

    private struct BackwardRows: ParallelJob {
        let activation: Activation
        let dy: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>?
        let dx: UnsafeMutablePointer<Float>
        let rows: Int, width: Int, parts: Int
        func run(_ part: Int) {
            let band = partRange(part, of: parts, count: rows, alignment: 1)
            let offset = band.lowerBound * width
            activation.backward(dy + offset, output: output + offset, input: input.map { $0 + offset },
                                rows: band.count, width: width, into: dx + offset)
        }
    }

    /// The oneDNN eltwise post-ops computing this activation on a primitive's output, or nil
    /// when oneDNN has no such function (then ZooNet applies it after the primitive).
    var postOps: [(algorithm: dnnl_alg_kind_t, alpha: Float, beta: Float)]? {
        switch self {
        case .linear: return []
        case .relu: return [(dnnl_eltwise_relu, 0, 0)]
        case .relu6: return [(dnnl_eltwise_clip_v2, 0, 6)]
        case .leakyReLU(let alpha): return [(dnnl_eltwise_relu, alpha, 0)]
        case .elu(let alpha): return [(dnnl_eltwise_elu, alpha, 0)]
        case .sigmoid: return [(dnnl_eltwise_logistic, 0, 0)]
        case .tanh: return [(dnnl_eltwise_tanh, 0, 0)]
        case .swish: return [(dnnl_eltwise_swish, 1, 0)]
        case .hardSwish: return [(dnnl_eltwise_hardswish, 0, 0)]
        case .hardSigmoid: return [(dnnl_eltwise_linear, 1.0 / 6, 0.5), (dnnl_eltwise_clip_v2, 0, 1)]
        case .hardSigmoidKeras2: return [(dnnl_eltwise_linear, 0.2, 0.5), (dnnl_eltwise_clip_v2, 0, 1)]
        case .gelu(let approximate): return [(approximate ? dnnl_eltwise_gelu_tanh : dnnl_eltwise_gelu_erf, 0, 0)]
        case .exponential: return [(dnnl_eltwise_exp, 0, 0)]
        case .selu, .softmax, .logSoftmax, .softplus, .softsign, .mish: return nil
        }
    }
}
