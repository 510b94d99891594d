/// Spatial padding of convolutions and pooling.
///
/// - `valid`: no padding, `out = ⌊(in − e)/s⌋ + 1` with e = (k − 1)·d + 1 the dilated window
///   (requires `in ≥ e`).
/// - `same` (TensorFlow): `out = ⌈in/s⌉`, total padding `max((out − 1)·s + e − in, 0)`, of which
///   `⌊total/2⌋` goes before (top/left) and the rest after — the extra row/column of an odd
///   total, e.g. with stride 2, is at the bottom/right.
/// - `explicit`: the given pads per side (PyTorch's `padding=p` is `p` on every side), then
///   `out = ⌊(in + before + after − e)/s⌋ + 1`, or with `ceilMode` (PyTorch pooling)
///   `⌈…⌉ + 1`, dropping a last window that would start in the right/bottom padding.
public enum Padding: Sendable, Equatable {
    case valid
    case same
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// The same pad `p` on every side (PyTorch `padding=p`).
    public static func symmetric(_ p: Int) -> Padding { .explicit(top: p, bottom: p, left: p, right: p) }

    /// (output size, pad before, pad after) for one axis; nil if the window does not fit.
    /// `axis` 0 is the height (top/bottom), 1 the width (left/right).
    func geometry(input: Int, kernel: Int, stride: Int, dilation: Int = 1, axis: Int,
                  ceilMode: Bool = false) -> (output: Int, before: Int, after: Int)? {
        guard input > 0, kernel > 0, stride > 0, dilation > 0 else { return nil }
        let extent = (kernel - 1) * dilation + 1
        switch self {
        case .valid:
            guard input >= extent else { return nil }
            return Padding.explicitGeometry(input: input, extent: extent, stride: stride, before: 0, after: 0, ceilMode: ceilMode)
        case .same:
            let output = (input + stride - 1) / stride
            let total = Swift.max((output - 1) * stride + extent - input, 0)
            return (output, total / 2, total - total / 2)
        case let .explicit(top, bottom, left, right):
            let (before, after) = axis == 0 ? (top, bottom) : (left, right)
            guard before >= 0, after >= 0, input + before + after >= extent else { return nil }
            return Padding.explicitGeometry(input: input, extent: extent, stride: stride, before: before, after: after,
                                            ceilMode: ceilMode)
        }
    }

    /// Output size for explicit pads; with `ceilMode` the right pad grows to cover the last
    /// partial window (oneDNN and the kernels then see a consistent geometry).
    private static func explicitGeometry(input: Int, extent: Int, stride: Int, before: Int, after: Int,
                                         ceilMode: Bool) -> (output: Int, before: Int, after: Int) {
        let span = input + before + after - extent
        var output = span / stride + 1
        if ceilMode && span % stride != 0 {
            output += 1
            // PyTorch: the last window must start inside the input or the left padding.
            if (output - 1) * stride >= input + before { output -= 1 }
        }
        let needed = (output - 1) * stride + extent - input - before
        return (output, before, Swift.max(after, needed))
    }
}

/// Spatial geometry of a 2-D window operation on NHWC data `[h, w, c]`.
struct WindowGeometry {
    var inputHeight = 0, inputWidth = 0, channels = 0
    var kernelHeight = 1, kernelWidth = 1, strideHeight = 1, strideWidth = 1
    var dilationHeight = 1, dilationWidth = 1
    var outputHeight = 0, outputWidth = 0
    var padTop = 0, padBottom = 0, padLeft = 0, padRight = 0

    init() {}

    /// - Throws: `ZooNetError.invalidArgument` for a non-NHWC input or a window that does not fit.
    init(inputShape: [Int], kernel: (Int, Int), strides: (Int, Int), dilation: (Int, Int) = (1, 1),
         padding: Padding, ceilMode: Bool = false, layer: String) throws {
        guard inputShape.count == 3 else {
            throw ZooNetError.invalidArgument("\(layer): expects per-sample NHWC input [h, w, c], got \(inputShape)")
        }
        inputHeight = inputShape[0]; inputWidth = inputShape[1]; channels = inputShape[2]
        kernelHeight = kernel.0; kernelWidth = kernel.1
        strideHeight = strides.0; strideWidth = strides.1
        dilationHeight = dilation.0; dilationWidth = dilation.1
        guard channels > 0,
              let h = padding.geometry(input: inputHeight, kernel: kernelHeight, stride: strideHeight,
                                       dilation: dilationHeight, axis: 0, ceilMode: ceilMode),
              let w = padding.geometry(input: inputWidth, kernel: kernelWidth, stride: strideWidth,
                                       dilation: dilationWidth, axis: 1, ceilMode: ceilMode)
        else {
            throw ZooNetError.invalidArgument(
                "\(layer): window \(kernel) stride \(strides) dilation \(dilation) padding \(padding) does not fit input \(inputShape)")
        }
        outputHeight = h.output; padTop = h.before; padBottom = h.after
        outputWidth = w.output; padLeft = w.before; padRight = w.after
    }

    var inputCount: Int { inputHeight * inputWidth * channels }
    var positions: Int { outputHeight * outputWidth }

    /// The oneDNN convolution shape with this geometry.
    func convolution(outputChannels: Int, groups: Int) -> ConvolutionShape {
        ConvolutionShape(
            transposed: false, inputHeight: inputHeight, inputWidth: inputWidth, inputChannels: channels,
            outputHeight: outputHeight, outputWidth: outputWidth, outputChannels: outputChannels,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideHeight: strideHeight, strideWidth: strideWidth,
            dilationHeight: dilationHeight, dilationWidth: dilationWidth,
            padTop: padTop, padBottom: padBottom, padLeft: padLeft, padRight: padRight, groups: groups)
    }
}
