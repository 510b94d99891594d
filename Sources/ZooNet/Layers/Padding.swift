/// Spatial padding mode of `Conv2D` and `MaxPooling2D` (TensorFlow semantics).
///
/// - `valid`: no padding, `out = ⌊(in − k)/s⌋ + 1` (requires `in ≥ k`).
/// - `same`: `out = ⌈in/s⌉`, total padding `max((out − 1)·s + k − in, 0)`, of which
///   `⌊total/2⌋` goes before (top/left) and the rest after.
public enum Padding: Sendable, Equatable {
    case valid
    case same

    /// Returns (output size, padding before) for one spatial axis, or nil if empty.
    func geometry(input: Int, kernel: Int, stride: Int) -> (output: Int, before: Int)? {
        guard input > 0, kernel > 0, stride > 0 else { return nil }
        switch self {
        case .valid:
            guard input >= kernel else { return nil }
            return ((input - kernel) / stride + 1, 0)
        case .same:
            let output = (input + stride - 1) / stride
            let total = Swift.max((output - 1) * stride + kernel - input, 0)
            return (output, total / 2)
        }
    }
}

/// Spatial geometry of a 2-D window operation on NHWC data.
struct WindowGeometry {
    var inputHeight = 0, inputWidth = 0, channels = 0
    var kernelHeight = 0, kernelWidth = 0, strideHeight = 1, strideWidth = 1
    var outputHeight = 0, outputWidth = 0, padTop = 0, padLeft = 0

    init() {}

    init(inputShape: [Int], kernel: (Int, Int), strides: (Int, Int), padding: Padding, layer: String) throws {
        guard inputShape.count == 3 else {
            throw ZooNetError.invalidArgument("\(layer): expects per-sample NHWC input [h, w, c], got \(inputShape)")
        }
        inputHeight = inputShape[0]; inputWidth = inputShape[1]; channels = inputShape[2]
        kernelHeight = kernel.0; kernelWidth = kernel.1
        strideHeight = strides.0; strideWidth = strides.1
        guard channels > 0,
              let h = padding.geometry(input: inputHeight, kernel: kernelHeight, stride: strideHeight),
              let w = padding.geometry(input: inputWidth, kernel: kernelWidth, stride: strideWidth)
        else {
            throw ZooNetError.invalidArgument(
                "\(layer): window \(kernel) stride \(strides) does not fit input \(inputShape)")
        }
        outputHeight = h.output; padTop = h.before
        outputWidth = w.output; padLeft = w.before
    }

    var inputCount: Int { inputHeight * inputWidth * channels }
    var positions: Int { outputHeight * outputWidth }
}
