import Synchronization
import Testing
@testable import ZooNet

/// The pool runs every part exactly once whatever the split between caller and workers
/// (including workers that wake after the caller is done, and nested or concurrent regions,
/// which run inline), and `partRange` tiles `0..<count` without gaps or overlaps.
@Suite struct WorkerPoolTests {
    final class Counter: Sendable { let value = Atomic<Int>(0) }

    @Test(arguments: [1, 2, 3, 4, 7, 64]) func everyPartOnce(_ parts: Int) {
        let pool = WorkerPool(width: 3)
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        for _ in 0..<500 { pool.parallel(parts) { hits[$0] += 1 } }
        #expect(hits.allSatisfy { $0 == 500 })
    }

    @Test func nestedRegionsRunInline() {
        let pool = WorkerPool(width: 2)
        let total = Counter()
        for _ in 0..<200 {
            pool.parallel(2) { _ in pool.parallel(3) { _ in total.value.add(1, ordering: .relaxed) } }
        }
        #expect(total.value.load(ordering: .relaxed) == 200 * 2 * 3)
    }

    @Test func concurrentCallersAllFinish() async {
        let pool = WorkerPool(width: 2)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { for _ in 0..<300 { pool.parallel(4) { _ in total.value.add(1, ordering: .relaxed) } } }
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
