import ZooNet

extension ModelManifest {
    /// The largest side ``withImageSize(_:)`` accepts (a bound on what one picture may allocate).
    public static let maximumImageSize = 4096

    /// The same model taking `size × size` pictures instead of its input's `H × W`: the input
    /// shape `[H, W, C]` (of the manifest and of the architecture's input) becomes
    /// `[size, size, C]`, and the picture settings follow: a `resize R` + `crop c` (torchvision's
    /// `Resize(256)` + `CenterCrop(224)`) becomes `resize round(size · R / c)` + `crop size`, a
    /// resize without a crop becomes `[size, size]`. Only a network that does not depend on the
    /// spatial size (convolutions, pooling, global pooling: EfficientNet, MobileNet, ResNet, …)
    /// builds at another size; one with a flatten or a reshape fails when the network is built.
    /// - Parameter size: the new height and width, 1…``maximumImageSize``.
    /// - Returns: the manifest with the new input size.
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` for a size out of range, an input that is not a
    ///   picture `[H, W, C]`, or an architecture with more than one input.
    public func withImageSize(_ size: Int) throws -> ModelManifest {
        guard size >= 1 && size <= Self.maximumImageSize else {
            throw ZooKitError.invalidRequest("image size must be in 1…\(Self.maximumImageSize), not \(size)")
        }
        guard input.shape.count == 3, architecture.inputs.count == 1, architecture.inputs[0].shape == input.shape else {
            throw ZooKitError.invalidRequest("\(name): only a model with one picture input [H, W, C] takes another image size; its input is \(input.shape)"
                + (architecture.inputs.count == 1 ? "" : " (\(architecture.inputs.count) inputs)"))
        }
        var copy = self
        let shape = [size, size, input.shape[2]]
        copy.input.shape = shape
        copy.architecture.inputs[0].shape = shape
        if var image = input.image {
            if let crop = image.crop, crop.count == 2, case .shorterSide(let side)? = image.resize {
                image.resize = .shorterSide(max(size, Int((Double(size * side) / Double(crop[0])).rounded())))
                image.crop = [size, size]
            } else if let crop = image.crop, crop.count == 2, case .size(let h, let w)? = image.resize {
                image.resize = .size(height: max(size, Int((Double(size * h) / Double(crop[0])).rounded())),
                                     width: max(size, Int((Double(size * w) / Double(crop[1])).rounded())))
                image.crop = [size, size]
            } else {
                image.resize = .size(height: size, width: size)
                image.crop = nil
            }
            copy.input.image = image
        }
        return copy
    }
}
