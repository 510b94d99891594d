import Testing
@testable import ZooNet

/// The helper's chunked hand-off covers every element exactly once, whatever the split
/// between caller and helper (including a helper that wakes after the caller is done).
@Suite struct HelperThreadTests {
    @Test(arguments: [1, 7, 40_000, 100_003]) func everyElementOnce(_ count: Int) {
        let helper = HelperThread()
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { buffer in
            var base = buffer.baseAddress!
            for _ in 0..<50 {
                helper.run(count: count, context: &base, chunk: 1000) { raw, lower, upper in
                    let p = raw.assumingMemoryBound(to: UnsafeMutablePointer<Float>.self).pointee
                    for i in lower..<upper { p[i] += 1 }
                }
            }
        }
        #expect(values.allSatisfy { $0 == 50 })
    }
}
