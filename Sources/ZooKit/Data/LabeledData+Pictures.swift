import ZooFormat

extension LabeledData {
    /// Whether the samples look like pictures an ``ImagePipeline`` can take: `[H, W]`,
    /// `[H, W, 1]` (gray) or `[H, W, 3]` (RGB), as IDX files and image arrays store them.
    public var samplesArePictures: Bool {
        switch sampleShape.count {
        case 2: sampleShape.allSatisfy { $0 > 0 }
        case 3: sampleShape[0] > 0 && sampleShape[1] > 0 && (sampleShape[2] == 1 || sampleShape[2] == 3)
        default: false
        }
    }

    /// Every sample, an 8-bit picture stored as an array (Fashion-MNIST's `28 × 28`, a tensor
    /// file's `x` of `[N, H, W, 3]`), through `pipeline` as a picture file would go: gray replicated to
    /// RGB (PIL's `convert("RGB")`) or RGB to luminance for a gray model, resized with PIL's
    /// antialiased bilinear filter (``BilinearResampler``), center-cropped; floats 0…255 out,
    /// `sampleShape` `[h, w, C]`. Only the samples given are converted: select first
    /// (``DataSelection/apply(to:)``, ``firstPerClass(_:)``), then convert.
    /// - Parameter pipeline: the model's picture steps (``ImagePipeline/init(input:)``).
    /// - Returns: the pictures, the same labels and class names.
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` for samples that are not pictures, a value that
    ///   is not an integer in 0…255 (naming the sample and the value), a result over
    ///   ``ImageFolder/maximumBytes``, or pictures smaller than the crop.
    public func pictures(through pipeline: ImagePipeline) throws -> LabeledData {
        guard samplesArePictures else {
            throw ZooKitError.invalidRequest("\(source): samples of shape \(sampleShape) are not pictures ([H, W], [H, W, 1] or [H, W, 3])")
        }
        let (height, width) = (sampleShape[0], sampleShape[1])
        let channels = sampleShape.count == 3 ? sampleShape[2] : 1
        let out = pipeline.outputSize(width: width, height: height)
        let outSize = out.height * out.width * pipeline.colors.channels
        let bytes = count.multipliedReportingOverflow(by: outSize * 4)
        guard !bytes.overflow, bytes.partialValue <= ImageFolder.maximumBytes else {
            throw ZooKitError.invalidRequest("\(source): \(count) pictures of \(out.height)×\(out.width)×\(pipeline.colors.channels) floats need more than \(ImageFolder.maximumBytes) bytes; select fewer samples")
        }
        let size = sampleSize
        var values = [Float]()
        values.reserveCapacity(count * outSize)
        var pixels = [UInt8](repeating: 0, count: size)
        for sample in 0..<count {
            for index in 0..<size {
                let value = inputs[sample * size + index]
                guard value >= 0, value <= 255, value == value.rounded() else {
                    throw ZooKitError.invalidRequest("\(source): sample \(sample) has the value \(value) at element \(index); pictures take integers 0…255")
                }
                pixels[index] = UInt8(value)
            }
            let image = DecodedImage(width: width, height: height, layout: channels == 3 ? .rgb : .gray, pixels: pixels)
            let result = pipeline.pixels(image)
            guard result.height == out.height, result.width == out.width else {
                throw ZooKitError.invalidRequest("\(source): a \(width)×\(height) picture is smaller than the crop \(out.width)×\(out.height)")
            }
            values += result.samples.map(Float.init)
        }
        var converted = LabeledData(inputs: values, sampleShape: [out.height, out.width, pipeline.colors.channels], labels: labels, source: source)
        converted.classNames = classNames
        return converted
    }

    /// The samples as a picture model of input `inputShape` `[H, W, C]` takes them: picture
    /// arrays of another size or channel count (Fashion-MNIST's `28 × 28` for a `[224, 224, 3]`
    /// model) go through ``pictures(through:)`` with a straight resize to `H × W` (no crop: the
    /// arrays are framed already) and `C`'s colors; anything else is returned as it is.
    /// - Throws: what ``pictures(through:)`` throws.
    public func fittedAsPictures(to inputShape: [Int]) throws -> LabeledData {
        guard inputShape.count == 3, inputShape[2] == 1 || inputShape[2] == 3, samplesArePictures else { return self }
        let shape = sampleShape.count == 2 ? sampleShape + [1] : sampleShape
        guard shape != inputShape else { return self }
        let pipeline = ImagePipeline(colors: inputShape[2] == 3 ? .rgb : .gray, resize: .size(height: inputShape[0], width: inputShape[1]))
        return try pictures(through: pipeline)
    }

    /// The first `n` samples of each class, in the data's order (a fixed test subset, the same
    /// for every seed: the peers take the same samples).
    /// - Parameter n: samples per class (≥ 1).
    /// - Returns: those samples, in their original order.
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` for `n < 1` or a class with fewer than `n` samples.
    public func firstPerClass(_ n: Int) throws -> LabeledData {
        guard n >= 1 else { throw ZooKitError.invalidRequest("samples per class must be at least 1, not \(n)") }
        var taken: [Int: Int] = [:]
        var indices: [Int] = []
        for (index, label) in labels.enumerated() where taken[label, default: 0] < n {
            taken[label, default: 0] += 1
            indices.append(index)
        }
        if let (label, found) = taken.sorted(by: { $0.key < $1.key }).first(where: { $0.value < n }) {
            throw ZooKitError.invalidRequest("\(source): class \(label) has only \(found) samples, \(n) asked for")
        }
        return subset(indices)
    }
}
