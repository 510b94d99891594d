/// Gives each sample a new shape with the same elements in the same order (Keras `Reshape`);
/// one dimension may be −1 (inferred).
public final class Reshape: Layer {
    public var name: String
    public var kind: String { "reshape" }
    public let targetShape: [Int]
    public var variables: [Variable] { [] }
    private var count = 0

    public init(_ targetShape: [Int], name: String = "") {
        self.targetShape = targetShape
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        count = inputShape.reduce(1, *)
        let unknown = targetShape.filter { $0 == -1 }.count
        let known = targetShape.filter { $0 != -1 }
        guard unknown <= 1, known.allSatisfy({ $0 > 0 }) else {
            throw ZooNetError.invalidArgument("\(name): target shape \(targetShape) may hold one −1 and positive sizes")
        }
        let product = known.reduce(1, *)
        guard unknown == 1 ? count % product == 0 : product == count else {
            throw ZooNetError.invalidArgument("\(name): cannot reshape \(inputShape) (\(count) values) to \(targetShape)")
        }
        return targetShape.map { $0 == -1 ? count / product : $0 }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        y.update(from: x, count: batch * count)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        dx?.update(from: dy, count: batch * count)
    }
}

/// Permutes the per-sample axes (Keras `Permute(dims)`, 1-based: `Permute([3, 1, 2])` turns
/// NHWC `[h, w, c]` into `[c, h, w]`, the order PyTorch flattens in). Output axis i is input
/// axis `dims[i] − 1`.
public final class Permute: Layer {
    public var name: String
    public var kind: String { "permute" }
    public let dims: [Int]
    public var variables: [Variable] { [] }
    private var inputShape: [Int] = []
    private var outputShape: [Int] = []
    /// For each output axis, the input stride along it.
    private var strides: [Int] = []
    private var count = 0

    public init(_ dims: [Int], name: String = "") {
        self.dims = dims
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard dims.sorted() == Array(1...Swift.max(inputShape.count, 1)), dims.count == inputShape.count else {
            throw ZooNetError.invalidArgument("\(name): dims \(dims) must be a permutation of 1…\(inputShape.count)")
        }
        self.inputShape = inputShape
        let inputStrides = MemoryDescriptor.rowMajorStrides(inputShape)
        outputShape = dims.map { inputShape[$0 - 1] }
        strides = dims.map { inputStrides[$0 - 1] }
        count = inputShape.reduce(1, *)
        return outputShape
    }

    /// Calls `body(outputIndex, inputIndex)` for every element of one sample, in output order.
    @inline(__always)
    private func forEach(_ body: (Int, Int) -> Void) {
        let rank = outputShape.count
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        for target in 0..<count {
            body(target, source)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                source += strides[d]
                if index[d] < outputShape[d] { break }
                source -= strides[d] * outputShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        for b in 0..<batch {
            let source = x + b * count, target = y + b * count
            forEach { target[$0] = source[$1] }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        for b in 0..<batch {
            let g = dy + b * count, target = dx + b * count
            forEach { target[$1] = g[$0] }
        }
    }
}

/// Adds rows and columns of zeros around NHWC maps (Keras `ZeroPadding2D`, PyTorch
/// `ZeroPad2d`): `[h, w, c]` → `[top + h + bottom, left + w + right, c]`.
/// With negative amounts it crops (used for `Cropping2D`).
public final class ZeroPadding2D: Layer {
    public var name: String
    public var kind: String { "zero_padding2d" }
    public let top: Int, bottom: Int, left: Int, right: Int
    public var variables: [Variable] { [] }
    private var h = 0, w = 0, c = 0, oh = 0, ow = 0

    public init(top: Int, bottom: Int, left: Int, right: Int, name: String = "") {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
        self.name = name
    }

    /// The same padding `p` on every side.
    public convenience init(_ p: Int, name: String = "") { self.init(top: p, bottom: p, left: p, right: p, name: name) }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw ZooNetError.invalidArgument("\(name): expects per-sample NHWC input [h, w, c], got \(inputShape)")
        }
        (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        (oh, ow) = (h + top + bottom, w + left + right)
        guard oh > 0, ow > 0 else {
            throw ZooNetError.invalidArgument("\(name): padding (\(top), \(bottom), \(left), \(right)) leaves nothing of \(inputShape)")
        }
        return [oh, ow, c]
    }

    /// The input rows and columns that land in the output, and where.
    private var rows: Range<Int> { Swift.max(0, -top)..<Swift.min(h, oh - top) }
    private var columns: Range<Int> { Swift.max(0, -left)..<Swift.min(w, ow - left) }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        y.update(repeating: 0, count: batch * oh * ow * c)
        let span = columns.count * c
        guard span > 0 else { return }
        for b in 0..<batch {
            for i in rows {
                let source = x + ((b * h + i) * w + columns.lowerBound) * c
                let target = y + ((b * oh + i + top) * ow + columns.lowerBound + left) * c
                target.update(from: source, count: span)
            }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        dx.update(repeating: 0, count: batch * h * w * c)
        let span = columns.count * c
        guard span > 0 else { return }
        for b in 0..<batch {
            for i in rows {
                let target = dx + ((b * h + i) * w + columns.lowerBound) * c
                let source = dy + ((b * oh + i + top) * ow + columns.lowerBound + left) * c
                target.update(from: source, count: span)
            }
        }
    }
}

/// Crops rows and columns off NHWC maps (Keras `Cropping2D`): `[h, w, c]` →
/// `[h − top − bottom, w − left − right, c]`.
public final class Cropping2D: Layer {
    public var name: String
    public var kind: String { "cropping2d" }
    public let top: Int, bottom: Int, left: Int, right: Int
    public var variables: [Variable] { [] }
    private let padding: ZeroPadding2D

    public init(top: Int, bottom: Int, left: Int, right: Int, name: String = "") {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
        self.name = name
        padding = ZeroPadding2D(top: -top, bottom: -bottom, left: -left, right: -right)
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard top >= 0, bottom >= 0, left >= 0, right >= 0 else {
            throw ZooNetError.invalidArgument("\(name): cropping amounts must be >= 0")
        }
        padding.name = name
        return try padding.build(inputShape: inputShape, seed: seed)
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        padding.forward(x, into: y, batch: batch, training: training)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        padding.backward(input: input, output: output, outputGradient: dy, inputGradient: dx, batch: batch)
    }
}

/// Upsamples NHWC maps by integer factors (Keras `UpSampling2D`, PyTorch `Upsample` /
/// `F.interpolate(scale_factor=…)`): `[h, w, c]` → `[h·sh, w·sw, c]`.
/// - `nearest`: output (p, q) copies input (⌊p/sh⌋, ⌊q/sw⌋).
/// - `bilinear` (half-pixel centres: TensorFlow's `resize(…, "bilinear")`, PyTorch's
///   `align_corners=False`): source coordinate `(p + ½)/sh − ½`, clamped at 0, blended
///   linearly between the two nearest rows (the last row repeats at the bottom edge), then the
///   same across columns.
public final class UpSampling2D: Layer {
    public enum Interpolation: String, Sendable { case nearest, bilinear }

    public var name: String
    public var kind: String { "up_sampling2d" }
    public let size: (height: Int, width: Int)
    public let interpolation: Interpolation
    public var variables: [Variable] { [] }
    private var h = 0, w = 0, c = 0

    public init(size: (height: Int, width: Int) = (2, 2), interpolation: Interpolation = .nearest, name: String = "") {
        self.size = size
        self.interpolation = interpolation
        self.name = name
    }

    public func build(inputShape: [Int], seed: UInt64) throws -> [Int] {
        guard inputShape.count == 3, size.height > 0, size.width > 0 else {
            throw ZooNetError.invalidArgument("\(name): expects per-sample NHWC input [h, w, c] and positive factors, got \(inputShape)")
        }
        (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        return [h * size.height, w * size.width, c]
    }

    /// (first source index, second, weight of the second) along one axis.
    @inline(__always)
    private static func taps(_ o: Int, factor: Int, input: Int) -> (Int, Int, Float) {
        let source = Swift.max((Float(o) + 0.5) / Float(factor) - 0.5, 0)
        let first = Swift.min(Int(source), input - 1)
        let second = Swift.min(first + 1, input - 1)
        return (first, second, source - Float(first))
    }

    /// Calls `body(output cell, input cell, weight)` for every contribution of one sample.
    @inline(__always)
    private func forEachTap(_ body: (Int, Int, Float) -> Void) {
        let oh = h * size.height, ow = w * size.width
        for p in 0..<oh {
            for q in 0..<ow {
                let out = p * ow + q
                switch interpolation {
                case .nearest:
                    body(out, (p / size.height) * w + q / size.width, 1)
                case .bilinear:
                    let (r0, r1, a) = Self.taps(p, factor: size.height, input: h)
                    let (c0, c1, b) = Self.taps(q, factor: size.width, input: w)
                    body(out, r0 * w + c0, (1 - a) * (1 - b))
                    body(out, r0 * w + c1, (1 - a) * b)
                    body(out, r1 * w + c0, a * (1 - b))
                    body(out, r1 * w + c1, a * b)
                }
            }
        }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int, training: Bool) {
        let outputCount = h * size.height * w * size.width * c, inputCount = h * w * c
        y.update(repeating: 0, count: batch * outputCount)
        for b in 0..<batch {
            let source = x + b * inputCount, target = y + b * outputCount
            forEachTap { out, cell, weight in
                let o = target + out * c, i = source + cell * c
                for k in 0..<c { o[k] += weight * i[k] }
            }
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient dy: UnsafeMutablePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let dx else { return }
        let outputCount = h * size.height * w * size.width * c, inputCount = h * w * c
        dx.update(repeating: 0, count: batch * inputCount)
        for b in 0..<batch {
            let g = dy + b * outputCount, target = dx + b * inputCount
            forEachTap { out, cell, weight in
                let o = g + out * c, i = target + cell * c
                for k in 0..<c { i[k] += weight * o[k] }
            }
        }
    }
}
