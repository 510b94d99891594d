import ZooNet

/// MTCNN's three networks exactly as the PyPI package `facenet-pytorch` 2.6.0 defines them
/// (`facenet_pytorch/models/mtcnn.py`), NHWC input, names equal to its module paths (`conv1`,
/// `prelu1`, …, `dense5_1`). Every `nn.PReLU(c)` has one slope per channel; every
/// `MaxPool2d` has `ceil_mode=True` (output ⌈(h − k)/s⌉ + 1); the softmax is over channels
/// (PyTorch `dim=1`, ZooNet's last axis). Outputs in the order `forward` returns them.
enum MTCNN {
    /// `PNet`, fully convolutional: `[s, s, 3]` (s ≥ 12) → box regression `conv4_2`
    /// `[m, m, 4]` and face probability `softmax(conv4_1)` `[m, m, 2]`, m = ⌈(s − 2)/2⌉ − 4.
    static func pnet(inputSize: Int) throws -> Network {
        let x = Input(shape: [inputSize, inputSize, 3], name: "input")
        var y = convPReLU(x, 1, filters: 10, kernel: 3)
        y = MaxPooling2D(poolSize: (2, 2), strides: (2, 2), ceilMode: true, name: "pool1")(y)
        y = convPReLU(y, 2, filters: 16, kernel: 3)
        y = convPReLU(y, 3, filters: 32, kernel: 3)
        let a = TorchBuilder.activation(TorchBuilder.conv(y, "conv4_1", filters: 2, kernel: 1, bias: true), .softmax, "softmax4_1")
        let b = TorchBuilder.conv(y, "conv4_2", filters: 4, kernel: 1, bias: true)
        return try Network(inputs: [x], outputs: [b, a])
    }

    /// `RNet`: `[24, 24, 3]` → box regression `dense5_2` `[4]` and face probability
    /// `softmax(dense5_1)` `[2]`.
    static func rnet() throws -> Network {
        let x = Input(shape: [24, 24, 3], name: "input")
        var y = convPReLU(x, 1, filters: 28, kernel: 3)
        y = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), ceilMode: true, name: "pool1")(y)
        y = convPReLU(y, 2, filters: 48, kernel: 3)
        y = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), ceilMode: true, name: "pool2")(y)
        y = convPReLU(y, 3, filters: 64, kernel: 2)
        y = TorchBuilder.prelu(Dense(outputCount: 128, name: "dense4")(flattenTransposed(y)), "prelu4", rank: 1)
        let a = TorchBuilder.activation(Dense(outputCount: 2, name: "dense5_1")(y), .softmax, "softmax5_1")
        let b = Dense(outputCount: 4, name: "dense5_2")(y)
        return try Network(inputs: [x], outputs: [b, a])
    }

    /// `ONet`: `[48, 48, 3]` → box regression `dense6_2` `[4]`, facial landmarks `dense6_3`
    /// `[10]` and face probability `softmax(dense6_1)` `[2]`.
    static func onet() throws -> Network {
        let x = Input(shape: [48, 48, 3], name: "input")
        var y = convPReLU(x, 1, filters: 32, kernel: 3)
        y = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), ceilMode: true, name: "pool1")(y)
        y = convPReLU(y, 2, filters: 64, kernel: 3)
        y = MaxPooling2D(poolSize: (3, 3), strides: (2, 2), ceilMode: true, name: "pool2")(y)
        y = convPReLU(y, 3, filters: 64, kernel: 3)
        y = MaxPooling2D(poolSize: (2, 2), strides: (2, 2), ceilMode: true, name: "pool3")(y)
        y = convPReLU(y, 4, filters: 128, kernel: 2)
        y = TorchBuilder.prelu(Dense(outputCount: 256, name: "dense5")(flattenTransposed(y)), "prelu5", rank: 1)
        let a = TorchBuilder.activation(Dense(outputCount: 2, name: "dense6_1")(y), .softmax, "softmax6_1")
        let b = Dense(outputCount: 4, name: "dense6_2")(y)
        let c = Dense(outputCount: 10, name: "dense6_3")(y)
        return try Network(inputs: [x], outputs: [b, c, a])
    }

    /// `conv{n}` (valid padding, bias) then `prelu{n}` (one slope per channel).
    private static func convPReLU(_ x: SymbolicTensor, _ n: Int, filters: Int, kernel: Int) -> SymbolicTensor {
        TorchBuilder.prelu(TorchBuilder.conv(x, "conv\(n)", filters: filters, kernel: kernel, bias: true), "prelu\(n)", rank: 3)
    }

    /// facenet-pytorch's `x.permute(0, 3, 2, 1).contiguous().view(n, -1)` on an NCHW map is
    /// the flatten of `[w, h, c]`: from NHWC `[h, w, c]`, swap the two spatial axes
    /// (`Permute([2, 1, 3])`), then flatten. Index of (h, w, c): (w·H + h)·C + c.
    private static func flattenTransposed(_ x: SymbolicTensor) -> SymbolicTensor {
        Flatten(name: "flatten")(Permute([2, 1, 3], name: "permute")(x))
    }
}
