/// Owned, grow-only, zero-initialized `Float` storage used for activations, gradients and
/// optimizer slots.
///
/// Buffers are sized for the largest batch seen and then reused: a training loop with a fixed
/// batch size allocates once, and a smaller final batch reuses the prefix.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int
    /// Bumped by whoever changes the contents of a variable's values (see `Variable.version`).
    var version = 0

    init(count: Int) {
        capacity = Swift.max(count, 1)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    /// Ensures room for `count` elements; contents are zeroed when the buffer grows.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }

    /// Sets the first `count` elements to `value`.
    func fill(_ value: Float, count: Int) {
        pointer.update(repeating: value, count: count)
    }

    /// Copies out the first `count` elements.
    func array(count: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}
