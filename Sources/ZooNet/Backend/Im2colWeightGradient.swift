/// The weight gradient of a convolution with one input channel — a gray-image network's first
/// layer — as matrix products:
///
///     dW[(a, b, c), k] = Σ_r col[r, (a, b, c)] · G[r, k],   db[k] = Σ_r G[r, k]
///
/// over the N·OH·OW output rows r = (n, y, x), where `col[r, (a, b, c)] = x[n, y·sh + a·dh − pt,
/// x·sw + b·dw − pl, c]` (0 where the window hangs over the padding) is the im2col matrix of the
/// input and G `[N·OH·OW, K]` the output gradient. dW comes out in Keras' HWIO order `[kh, kw, C, K]`
/// directly; a last column of ones in col gives db in the same product. The rows go in chunks
/// (col ≤ 2 MiB), col stored transposed (`[kh·kw·C + 1, rows]`: a tap's values along an output row
/// are a strided run of the input), one `dnnl_sgemm` per chunk (m = kh·kw·C + 1, the reduction
/// over the chunk's rows) added in chunk order.
///
/// oneDNN 2.6's direct backward-weights kernel reduces over input channels in blocks of 8, so with
/// C = 1 it ran at ~20 GFLOP/s (the small CNN's first layer, 1.4 ms of an 11.6 ms training step);
/// this form made that step 3–8 % faster on 2 threads. With 3 channels (MobileNetV2's stride-2
/// stem) oneDNN's kernel was faster than the gather, so colour images stay on it.
struct Im2colWeightGradient {
    let shape: ConvolutionShape
    /// Columns of col: kh·kw·C taps and the ones column.
    var columns: Int { shape.kernelHeight * shape.kernelWidth * shape.inputChannels + 1 }

    /// Plain convolutions (not transposed, not grouped) with one input channel and more than one
    /// tap (the general im2col below takes any C: tests run it with 3).
    static func supports(_ shape: ConvolutionShape) -> Bool {
        !shape.transposed && shape.groups == 1 && shape.inputChannels == 1 && shape.kernelHeight * shape.kernelWidth > 1
    }

    /// Output rows per chunk: col within 2 MiB (at least 256 rows).
    var rowsPerChunk: Int { Swift.max(256, (1 << 19) / columns) }

    /// dW `[kh, kw, C, K]` (and db `[K]` when `biasGradient` is given) from `x` `[N, H, W, C]` and
    /// `dy` `[N, OH, OW, K]`; `col` and `product` are scratch (grown here).
    func run(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, weightGradient dw: UnsafeMutablePointer<Float>,
             biasGradient db: UnsafeMutablePointer<Float>?, col: FloatBuffer, product: FloatBuffer) {
        let rows = batch * shape.outputHeight * shape.outputWidth, k = shape.outputChannels
        let chunk = Swift.min(rowsPerChunk, Swift.max(rows, 1))
        col.reserve(chunk * columns)
        product.reserve(columns * k)
        var first = 0
        while first < rows {
            let count = Swift.min(chunk, rows - first)
            let parts = WorkerPool.shared.parts(work: count * columns, grain: WorkerPool.elementGrain, most: columns)
            WorkerPool.shared.parallel(parts, Im2colColumns(shape: shape, x: x, col: col.pointer, first: first, count: count,
                                                            columns: columns, parts: parts))
            gemm(transposeA: false, transposeB: false, m: columns, n: k, k: count, a: col.pointer, lda: count,
                 b: dy + first * k, ldb: k, beta: first == 0 ? 0 : 1, c: product.pointer, ldc: k)
            first += count
        }
        if rows == 0 { product.fill(0, count: columns * k) }
        dw.update(from: product.pointer, count: (columns - 1) * k)
        db?.update(from: product.pointer + (columns - 1) * k, count: k)
    }
}

/// Rows `first ..< first + count` of the transposed im2col matrix (`col[column, row]`), a band of
/// its columns (tap, channel) per part.
private struct Im2colColumns: ParallelJob {
    let shape: ConvolutionShape
    let x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>
    let first: Int, count: Int, columns: Int, parts: Int

    func run(_ part: Int) {
        let s = shape, c = s.inputChannels, taps = s.kernelHeight * s.kernelWidth
        for column in partRange(part, of: parts, count: columns) {
            let out = col + column * count
            guard column < taps * c else {
                out.update(repeating: 1, count: count)
                continue
            }
            let a = column / (s.kernelWidth * c), b = (column / c) % s.kernelWidth, channel = column % c
            // Output positions ox with the tap inside the input: lo ..< hi.
            let offset = b * s.dilationWidth - s.padLeft, step = s.strideWidth * c
            let lo = Swift.min(s.outputWidth, offset >= 0 ? 0 : (-offset + s.strideWidth - 1) / s.strideWidth)
            let hi = Swift.max(lo, Swift.min(s.outputWidth,
                                             s.inputWidth - offset <= 0 ? 0 : (s.inputWidth - offset + s.strideWidth - 1) / s.strideWidth))
            var r = first, local = 0
            while local < count {
                let n = r / (s.outputHeight * s.outputWidth), oy = (r / s.outputWidth) % s.outputHeight, ox0 = r % s.outputWidth
                let run = Swift.min(s.outputWidth - ox0, count - local)
                let target = out + local - ox0  // indexed by ox
                let iy = oy * s.strideHeight + a * s.dilationHeight - s.padTop
                if iy < 0 || iy >= s.inputHeight {
                    (target + ox0).update(repeating: 0, count: run)
                } else {
                    let source = x + ((n * s.inputHeight + iy) * s.inputWidth + offset) * c + channel
                    let end = ox0 + run
                    let inside = Swift.min(Swift.max(lo, ox0), end), outside = Swift.min(Swift.max(hi, inside), end)
                    for ox in ox0..<inside { target[ox] = 0 }
                    if step == 1 {
                        (target + inside).update(from: source + inside, count: outside - inside)
                    } else {
                        for ox in inside..<outside { target[ox] = source[ox * step] }
                    }
                    for ox in outside..<end { target[ox] = 0 }
                }
                r += run
                local += run
            }
        }
    }
}
