import Synchronization
import Testing
@testable import ZooNet

/// The pool runs every part exactly once whatever the split between caller and workers
/// (including workers that wake after the caller is done, and nested or concurrent regions,
/// which run inline), and `partRange` tiles `0..<count` without gaps or overlaps.
@Suite struct WorkerPoolTests {
    final class Counter: Sendable { let value = Atomic<Int>(0) }

    /// A job from a closure (tests only: the library's jobs are structs of pointers).
    struct Each: ParallelJob {
        let body: (Int) -> Void
        func run(_ part: Int) { body(part) }
    }

    @Test(arguments: [1, 2, 3, 4, 7, 64]) func everyPartOnce(_ parts: Int) {
        let pool = WorkerPool(width: 3)
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        for _ in 0..<500 { pool.parallel(parts, Each { hits[$0] += 1 }) }
        #expect(hits.allSatisfy { $0 == 500 })
    }

    @Test func nestedRegionsRunInline() {
        let pool = WorkerPool(width: 2)
        let total = Counter()
        for _ in 0..<200 {
            pool.parallel(2, Each { _ in pool.parallel(3, Each { _ in total.value.add(1, ordering: .relaxed) }) })
        }
        #expect(total.value.load(ordering: .relaxed) == 200 * 2 * 3)
    }

    @Test func concurrentCallersAllFinish() async {
        let pool = WorkerPool(width: 2)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { for _ in 0..<300 { pool.parallel(4, Each { _ in total.value.add(1, ordering: .relaxed) }) } }
            }
        }
        #expect(total.value.load(ordering: .relaxed) == 4 * 300 * 4)
    }

    @Test(arguments: [(0, 1, 16), (5, 2, 16), (300, 2, 16), (100, 3, 16), (257, 4, 1), (784, 7, 16)])
    func partRangesTile(_ count: Int, _ parts: Int, _ alignment: Int) {
        var next = 0
        for part in 0..<parts {
            let range = partRange(part, of: parts, count: count, alignment: alignment)
            #expect(range.lowerBound == next)
            if range.upperBound < count { #expect(range.upperBound % alignment == 0) }
            next = range.upperBound
        }
        #expect(next == count)
    }

    /// A product split into bands equals the same product in one sgemm call.
    @Test(arguments: [(256, 300, 784, false, false), (784, 300, 256, true, false), (256, 784, 300, false, true),
                      (33, 700, 50, false, false)])
    func splitGEMMMatchesOneCall(_ m: Int, _ n: Int, _ k: Int, _ ta: Bool, _ tb: Bool) {
        let pool = WorkerPool(width: 2)
        var rng = SplitMix64(seed: 7)
        let a = (0..<(m * k)).map { _ in rng.nextUnitFloat() - 0.5 }, b = (0..<(k * n)).map { _ in rng.nextUnitFloat() - 0.5 }
        var whole = [Float](repeating: 1, count: m * n), split = whole
        let lda = ta ? m : k, ldb = tb ? k : n
        gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: &whole, ldc: n)
        parallelGEMM(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: 1,
                     c: &split, ldc: n, pool: pool)
        let worst = zip(whole, split).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4)
    }
}

/// Splitting the work over two threads gives the gradients and the trained weights one
/// thread gives (the split changes which sgemm computes a band, not the arithmetic; OpenBLAS
/// may pick its small-matrix kernel for a band, hence a tolerance instead of bit equality).
/// Plain SGD, so rounding differences are not amplified the way Adam's g/√v does for
/// near-zero gradients.
@Suite(.serialized) struct ThreadCountParityTests {
    struct Run { var gradients: [[Float]]; var weights: [[Float]] }

    static func run(threads: Int, batch: Int) throws -> Run {
        ComputeThreads.set(threads)
        let layers: [any Layer] = [
            Dense(outputCount: 300, name: "hidden1"), BatchNorm(momentum: 0.9, name: "bn1"), ActivationLayer(.elu(alpha: 1)),
            Dense(outputCount: 100, activation: .selu, name: "hidden2"), BatchNorm(name: "bn2"),
            Dense(outputCount: 10, name: "outputs"),
        ]
        let net = try Sequential(inputShape: [784], layers: layers, seed: 5)
        var rng = SplitMix64(seed: 9)
        let n = batch * 3
        let x = try Tensor(shape: [n, 784], scalars: (0..<(n * 784)).map { _ in rng.nextUnitFloat() })
        let data = try Dataset(inputs: x, labels: .classes((0..<n).map { _ in Int(rng.next() % 10) }))
        _ = try net.lossAndGradients(data, loss: .softmaxCrossEntropy)
        let gradients = net.trainableVariables.map { $0.gradient.array(count: $0.count) }
        try net.fit(data, loss: .softmaxCrossEntropy, optimizer: try SGD(learningRate: 0.05, momentum: 0.9), epochs: 2,
                    batchSize: batch)
        return Run(gradients: gradients, weights: net.variables.map(\.values))
    }

    /// Largest |a − b| relative to the largest |a| of the same variable (at least 0.01: a
    /// bias followed by batch norm has a zero gradient in exact arithmetic, so its values are
    /// rounding noise of order 1e-9).
    static func worst(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).map { x, y in
            let scale = max(x.map(abs).max() ?? 0, 0.01)
            return zip(x, y).map { abs($0 - $1) / scale }.max() ?? 0
        }.max() ?? 0
    }

    @Test(arguments: [64, 256]) func twoThreadsMatchOne(_ batch: Int) throws {
        let previous = ComputeThreads.count
        defer { ComputeThreads.set(previous) }
        let one = try Self.run(threads: 1, batch: batch)
        let two = try Self.run(threads: 2, batch: batch)
        #expect(Self.worst(one.gradients, two.gradients) <= 1e-5)
        #expect(Self.worst(one.weights, two.weights) <= 1e-5)
    }
}
