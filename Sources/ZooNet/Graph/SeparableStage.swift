/// One of the two stages of a `SeparableConv2D` seen as a single convolution, so that a plan
/// can fuse it like a `Conv2D` or `DepthwiseConv2D` and run the pair as a `DepthFirstBlock`:
/// the depthwise stage (`<name>/depthwise_kernel` `[kh, kw, c, m]`, no bias, linear) and the
/// pointwise stage (`<name>/pointwise_kernel` `[1, 1, c·m, filters]`, the layer's bias and
/// activation, and whatever the plan fuses after the layer: batch norm, activation, residual add).
final class SeparableStage: SingleConvolution {
    unowned let layer: SeparableConv2D
    let isDepthwise: Bool

    private init(_ layer: SeparableConv2D, depthwise: Bool) {
        self.layer = layer
        self.isDepthwise = depthwise
    }

    /// The depthwise and the pointwise stage of `layer`.
    static func stages(of layer: SeparableConv2D) -> (depthwise: SeparableStage, pointwise: SeparableStage) {
        (SeparableStage(layer, depthwise: true), SeparableStage(layer, depthwise: false))
    }

    var convolutionShape: ConvolutionShape? { isDepthwise ? layer.depthwise?.shape : layer.pointwise?.shape }
    var kernelVariable: Variable? { isDepthwise ? layer.depthwiseKernel : layer.pointwiseKernel }
    var biasVariable: Variable? { isDepthwise ? nil : layer.bias }
    var activation: Activation { isDepthwise ? .linear : layer.activation }
}
