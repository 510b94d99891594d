import ZooNet

extension ONNXImportedNetwork {
    /// Runs `network` (built from `description`) on inputs in the ONNX model's layout (NCHW for
    /// torch exports) and returns the outputs in the graph's layout, as ONNX Runtime would.
    /// - Parameters:
    ///   - network: the network of this conversion, weights assigned.
    ///   - inputs: one batch per graph input, `[N] + ` the ONNX per-sample shape.
    ///   - transform: applied to each input once in the engine's layout (preprocessing), if given.
    /// - Throws: `ZooKitError.invalidRequest` for an input of another shape; engine errors.
    public func predict(_ network: Network, onnxInputs inputs: [Tensor], transform: ((Tensor) throws -> Tensor)? = nil) throws -> [Tensor] {
        guard inputs.count == inputOrders.count else {
            throw ZooKitError.invalidRequest("the model takes \(inputOrders.count) inputs, \(inputs.count) given")
        }
        let engineInputs = try zip(inputs, zip(network.inputShapes, inputOrders)).map { x, expected -> Tensor in
            let (shape, order) = expected
            let onnx = order.dropFirst().indices.map { axis in shape[order.firstIndex(of: axis)! - 1] }
            guard x.shape.count == order.count, Array(x.shape.dropFirst()) == onnx else {
                throw ZooKitError.invalidRequest("an input of shape \(x.shape); the model takes [N] + \(onnx) (ONNX layout)")
            }
            let (values, engineShape) = TorchParameterLayout.permuted(x.scalars, shape: x.shape, to: order)
            let engine = try Tensor(shape: engineShape, scalars: values)
            return try transform?(engine) ?? engine
        }
        return try network.predict(engineInputs).enumerated().map { k, output in
            var back = [Int](repeating: 0, count: output.shape.count)
            for (engineAxis, onnxAxis) in outputOrders[k].enumerated() { back[onnxAxis] = engineAxis }
            let (values, shape) = TorchParameterLayout.permuted(output.scalars, shape: output.shape, to: back)
            return try Tensor(shape: shape, scalars: values)
        }
    }
}
