/// Summary statistics of a tensor's elements, computed in `Double`.
public struct TensorStatistics: Sendable, Equatable {
    /// The smallest element.
    public let minimum: Double
    /// The largest element.
    public let maximum: Double
    /// The arithmetic mean Σx / n.
    public let mean: Double
    /// Population standard deviation (NumPy's `std()` with `ddof=0`).
    public let standardDeviation: Double

    /// Statistics of `tensor`; nil for an empty tensor. NaN anywhere makes every field NaN, as in NumPy.
    /// - Throws: `.unsupportedDType` for opaque dtypes; read errors.
    public init?(_ tensor: StoredTensor) throws {
        guard tensor.elementCount > 0 else { return nil }
        let values = try tensor.doubles()
        var minimum = Double.infinity
        var maximum = -Double.infinity
        var sum = 0.0
        for value in values {
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
            sum += value
        }
        let mean = sum / Double(values.count)
        var squares = 0.0
        for value in values {
            let deviation = value - mean
            squares += deviation * deviation
        }
        if values.contains(where: \.isNaN) {
            self.minimum = .nan
            self.maximum = .nan
            self.mean = .nan
            self.standardDeviation = .nan
            return
        }
        self.minimum = minimum
        self.maximum = maximum
        self.mean = mean
        self.standardDeviation = (squares / Double(values.count)).squareRoot()
    }
}
