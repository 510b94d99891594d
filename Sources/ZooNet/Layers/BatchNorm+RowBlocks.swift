import CZooKernels

/// `BatchNorm` on NHWC feature maps (N·H·W = 10⁴ … 10⁵ rows): the rows are cut into blocks,
/// each block sums its rows into its own partial sums, which are then added in block order; the
/// per-row passes (y = f(x·a + d), dx = a·dy + x·e + f) run block by block. The block count
/// depends on the shape only, so results do not change with the thread count. Blocks are
/// contiguous rows, so each thread works on the images of its own band (`WorkerPool`), the
/// stretch of the batch oneDNN's convolutions give it: what it reads was written by its own
/// core. (Column strips of features, as before for 128 features or more, had every thread read
/// every image: with a VM's two cores on different dies of the host, MobileNetV2 α 0.35's
/// training step ran 12–15 % slower; few features would leave a strip on one thread.)
extension BatchNorm {
    /// Row blocks at most (the partial sums take 2 × this × C floats, reserved when built).
    static let maximumRowBlocks = 16

    /// The row blocks of a pass over `rows` × `c`, or nil for column strips (too little work
    /// to split the rows).
    func rowBlocks(rows: Int, features c: Int) -> Int? {
        let blocks = Swift.min(BatchNorm.maximumRowBlocks, rows * c / (4 * WorkerPool.elementGrain))
        return blocks > 1 ? blocks : nil
    }

    /// Forward over row blocks: partial moments, their sum in block order, the statistics and
    /// coefficients, then y = f(x·a + d).
    func forwardInRowBlocks(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, blocks: Int,
                            activation: Activation) {
        guard let c = featureCount else { return }
        if usedBatchStatistics {
            WorkerPool.shared.parallel(blocks, RowBlockMoments(layer: self, x: x, rows: rows, blocks: blocks))
            let sum = sumDyXhat.pointer, squares = sumDy.pointer
            addPartialSums(blocks: blocks, into: sum, squares)
            finishStatistics(sum: sum, squares: squares, first: x, rows: rows, features: 0..<c)
        } else {
            inferenceStatistics(features: 0..<c)
        }
        forwardCoefficients(features: 0..<c)
        WorkerPool.shared.parallel(blocks, RowBlockNormalize(layer: self, x: x, y: y, rows: rows, blocks: blocks,
                                                             activation: activation))
    }

    /// Backward over row blocks: the activation's gradient with partial Σdy and Σdy·(x − μ)
    /// (`gradientRows`), their sum in block order, dγ and dβ, then dx.
    func backwardInRowBlocks(input x: UnsafePointer<Float>, activationOutput y: UnsafePointer<Float>,
                             outputGradient dy: UnsafeMutablePointer<Float>, activation: Activation,
                             inputGradient dx: UnsafeMutablePointer<Float>?, rows: Int, blocks: Int) {
        guard let c = featureCount else { return }
        let sums = needsGradientSums
        WorkerPool.shared.parallel(blocks, RowBlockGradient(layer: self, x: x, y: y, dy: dy, rows: rows, blocks: blocks,
                                                            activation: activation, sums: sums))
        if sums {
            addPartialSums(blocks: blocks, into: sumDy.pointer, sumDyXhat.pointer)
            finishGradientSums(features: 0..<c)
        }
        guard let dx else { return }
        inputGradientCoefficients(rows: rows, features: 0..<c)
        WorkerPool.shared.parallel(blocks, RowBlockInputGradient(layer: self, x: x, dy: dy, dx: dx, rows: rows, blocks: blocks,
                                                                 activation: activation))
    }

    /// Block `block`'s two partial sums (C floats each) in `rowBlockSums`, zeroed.
    func partialSums(_ block: Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        let c = featureCount ?? 0
        let first = rowBlockSums.pointer + 2 * block * c, second = first + c
        first.update(repeating: 0, count: c)
        second.update(repeating: 0, count: c)
        return (first, second)
    }

    /// first = Σ_b first_b, second = Σ_b second_b over the blocks' partial sums, b = 0, 1, ….
    private func addPartialSums(blocks: Int, into first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>) {
        guard let c = featureCount else { return }
        let partials = rowBlockSums.pointer
        first.update(from: partials, count: c)
        second.update(from: partials + c, count: c)
        for block in 1..<blocks {
            zoo_add_row(first, partials + 2 * block * c, c)
            zoo_add_row(second, partials + (2 * block + 1) * c, c)
        }
    }

    /// The rows of block `block`.
    func rowRange(_ block: Int, of blocks: Int, rows: Int) -> Range<Int> {
        partRange(block, of: blocks, count: rows, alignment: 1)
    }
}

/// The jobs of the row-block passes (a part = a block of rows, all features).
private struct RowBlockMoments: ParallelJob {
    unowned(unsafe) let layer: BatchNorm
    let x: UnsafePointer<Float>
    let rows: Int, blocks: Int

    func run(_ block: Int) {
        let (sum, squares) = layer.partialSums(block)
        layer.momentRows(layer.rowRange(block, of: blocks, rows: rows), features: 0..<(layer.featureCount ?? 0), x: x,
                         sum: sum, squares: squares)
    }
}

private struct RowBlockNormalize: ParallelJob {
    unowned(unsafe) let layer: BatchNorm
    let x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    let rows: Int, blocks: Int
    let activation: Activation

    func run(_ block: Int) {
        layer.normalizeRows(layer.rowRange(block, of: blocks, rows: rows), features: 0..<(layer.featureCount ?? 0), x: x, y: y,
                            activation: activation)
    }
}

private struct RowBlockGradient: ParallelJob {
    unowned(unsafe) let layer: BatchNorm
    let x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>
    let rows: Int, blocks: Int
    let activation: Activation
    let sums: Bool

    func run(_ block: Int) {
        let partials = sums ? layer.partialSums(block) : nil
        layer.gradientRows(layer.rowRange(block, of: blocks, rows: rows), features: 0..<(layer.featureCount ?? 0), x: x, y: y,
                           dy: dy, activation: activation, sums: partials.map { (g: $0.0, gx: $0.1) })
    }
}

private struct RowBlockInputGradient: ParallelJob {
    unowned(unsafe) let layer: BatchNorm
    let x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
    let rows: Int, blocks: Int
    let activation: Activation

    func run(_ block: Int) {
        layer.inputGradientRows(layer.rowRange(block, of: blocks, rows: rows), features: 0..<(layer.featureCount ?? 0), x: x,
                                dy: dy, dx: dx, activation: activation)
    }
}
