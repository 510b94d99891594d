import ZooNet

/// The explicit pads of the engine's window operations, for ONNX's `pads` attribute
/// (`[top, left, bottom, right]`): the engine's own geometry (`Padding` in ZooNet), so the
/// written model computes the same output size and the same windows.
enum ONNXWindowPads {
    /// (pad before, pad after) along one axis of a convolution or pooling window.
    /// - `valid`: (0, 0), and with `ceilMode` the after pad that covers PyTorch's last partial window;
    /// - `same` (TensorFlow): output ⌈in/s⌉, total = max((out − 1)·s + e − in, 0), before = ⌊total/2⌋;
    /// - explicit: as given, the after pad grown to the last window `ceilMode` adds (whose start
    ///   must lie inside the input or the before pad, PyTorch's rule).
    /// e = (k − 1)·d + 1 is the dilated window. Returns nil where the window does not fit.
    static func axis(_ padding: Padding, input: Int, kernel: Int, stride: Int, dilation: Int = 1, axis: Int,
                     ceilMode: Bool = false) -> (before: Int, after: Int)? {
        guard input > 0, kernel > 0, stride > 0, dilation > 0 else { return nil }
        let extent = (kernel - 1) * dilation + 1
        let before: Int, after: Int
        switch padding {
        case .valid: (before, after) = (0, 0)
        case .same:
            let output = (input + stride - 1) / stride
            let total = max((output - 1) * stride + extent - input, 0)
            return (total / 2, total - total / 2)
        case let .explicit(top, bottom, left, right):
            (before, after) = axis == 0 ? (top, bottom) : (left, right)
        }
        guard before >= 0, after >= 0, input + before + after >= extent else { return nil }
        let span = input + before + after - extent
        var output = span / stride + 1
        if ceilMode && span % stride != 0 {
            output += 1
            if (output - 1) * stride >= input + before { output -= 1 }
        }
        return (before, max(after, (output - 1) * stride + extent - input - before))
    }

    /// The pads without `ceilMode`'s extension: what the model itself asked for (PyTorch's
    /// `count_include_pad` divisor counts these cells, never the extension).
    static func declared(_ padding: Padding, input: Int, kernel: Int, stride: Int, axis: Int) -> (before: Int, after: Int)? {
        self.axis(padding, input: input, kernel: kernel, stride: stride, axis: axis, ceilMode: false)
    }

    /// (pad before, pad after) of a transposed convolution along one axis (the engine's
    /// `Conv2DTranspose`, Keras' `deconv_output_length`): ONNX `ConvTranspose` then computes
    /// `(in − 1)·s + e − before − after`, the engine's output size.
    static func transposed(_ padding: Padding, input: Int, kernel: Int, stride: Int, dilation: Int, outputPadding: Int?,
                           axis: Int) -> (before: Int, after: Int)? {
        let extent = (kernel - 1) * dilation + 1
        let output: Int, before: Int
        switch padding {
        case .valid:
            before = 0
            output = outputPadding.map { (input - 1) * stride + extent + $0 } ?? input * stride + max(extent - stride, 0)
        case .same:
            output = outputPadding.map { (input - 1) * stride + extent - 2 * (kernel / 2) + $0 } ?? input * stride
            before = max((input - 1) * stride + extent - output, 0) / 2
        case let .explicit(top, bottom, left, right):
            let (b, a) = axis == 0 ? (top, bottom) : (left, right)
            before = b
            output = (input - 1) * stride + extent - b - a + (outputPadding ?? 0)
        }
        let after = (input - 1) * stride + extent - before - output
        guard output > 0, before >= 0, after >= 0 else { return nil }
        return (before, after)
    }
}
