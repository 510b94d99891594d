import ZooNet

/// Samples and their integer class labels, in memory: `inputs` holds
/// `count × sampleShape.product` floats, row-major.
public struct LabeledData: Sendable {
    /// The samples' values, `count × sampleSize` floats, row-major.
    public var inputs: [Float]
    /// The per-sample shape (`[28, 28]` for MNIST images).
    public var sampleShape: [Int]
    /// One class number per sample.
    public var labels: [Int]
    /// Where the data came from, for messages.
    public var source: String
    /// The names of the classes by number, when the data names them (an image folder's
    /// subdirectories); nil otherwise.
    public var classNames: [String]?

    /// Labeled samples.
    /// - Parameters:
    ///   - inputs: `labels.count × sampleShape.product` floats.
    ///   - sampleShape: the per-sample shape.
    ///   - labels: the classes.
    ///   - source: a name for messages (the file).
    public init(inputs: [Float], sampleShape: [Int], labels: [Int], source: String) {
        self.inputs = inputs
        self.sampleShape = sampleShape
        self.labels = labels
        self.source = source
    }

    /// The number of samples.
    public var count: Int { labels.count }
    /// The values per sample, the product of `sampleShape`.
    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledData {
        let size = sampleSize
        var values = [Float]()
        values.reserveCapacity(indices.count * size)
        for index in indices { values.append(contentsOf: inputs[index * size..<(index + 1) * size]) }
        var subset = LabeledData(inputs: values, sampleShape: sampleShape, labels: indices.map { labels[$0] }, source: source)
        subset.classNames = classNames
        return subset
    }

    /// Only the samples of `classes`, relabelled 0…N−1 in that order (a test set for a new head).
    /// - Throws: `invalidRequest` when a class has no samples.
    public func filtered(classes: [Int]) throws -> LabeledData {
        try DataSelection(classes: classes).apply(to: self).training
    }

    /// The model's preprocessing on every input (``Preprocessing``): channels reversed for BGR,
    /// `x · scale + offset`, then `(x − mean[c]) / std[c]` over the last axis.
    public func preprocessed(_ preprocessing: Preprocessing) -> LabeledData {
        guard !preprocessing.isIdentity else { return self }
        var copy = self
        let channels = sampleShape.last ?? 1
        if preprocessing.channelOrder == .bgr, channels > 1 {
            for start in stride(from: 0, to: copy.inputs.count, by: channels) { copy.inputs[start..<start + channels].reverse() }
        }
        let scale = Float(preprocessing.scale), offset = Float(preprocessing.offset)
        let mean = preprocessing.mean.map { $0.map(Float.init) }, std = preprocessing.std.map { $0.map(Float.init) }
        for index in copy.inputs.indices {
            var x = copy.inputs[index] * scale + offset
            let c = index % channels
            if let mean, mean.count == channels { x -= mean[c] }
            if let std, std.count == channels { x /= std[c] }
            copy.inputs[index] = x
        }
        return copy
    }

    /// The same samples viewed with `shape` per sample (same element count: `[28, 28]` ↔ `[784]` ↔ `[28, 28, 1]`).
    /// - Throws: `invalidRequest` when the element counts differ.
    public func reshaped(to shape: [Int]) throws -> LabeledData {
        guard shape.reduce(1, *) == sampleSize else {
            throw ZooKitError.invalidRequest("\(source): samples of shape \(sampleShape) do not fit the model's input \(shape)")
        }
        var copy = self
        copy.sampleShape = shape
        return copy
    }

    /// The engine's dataset (sparse integer labels).
    public func dataset() throws -> Dataset {
        try Dataset(inputs: Tensor(shape: [count] + sampleShape, scalars: inputs), labels: .classes(labels))
    }

    /// The inputs as one tensor `[count] + sampleShape`.
    public func inputTensor() throws -> Tensor {
        try Tensor(shape: [count] + sampleShape, scalars: inputs)
    }
}

extension LabeledData {
    /// Checks that every label names one of a head's `classes` outputs (0..<classes).
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` naming the data and the first label out of range.
    func checkLabels(forHeadOf classes: Int) throws {
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw ZooKitError.invalidRequest("\(source): label \(bad) is out of range for a head of \(classes) classes")
        }
    }
}
