import ZooFormat
import ZooNet

/// The Keras model files Zoo writes.
public enum KerasModelFormat: String, Sendable, CaseIterable {
    /// A Keras 3 `.keras` file (zip: `metadata.json`, `config.json`, `model.weights.h5`).
    case keras3 = "keras"
    /// A tf-keras (Keras 2) full-model `.h5` (`@model_config` + `/model_weights`).
    case keras2H5 = "keras2-model-h5"

    /// The format a file name asks for: `.keras` → Keras 3, `.h5` (not `.weights.h5`) → tf-keras.
    public init?(pathExtensionOf path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".keras") { self = .keras3 }
        else if lower.hasSuffix(".h5"), !lower.hasSuffix(".weights.h5") { self = .keras2H5 }
        else { return nil }
    }

    /// The Keras the format is read by.
    public var version: KerasVersion { self == .keras3 ? .keras3 : .keras2 }
}

/// Writes a network of built-in layers, with its variables' current values, as a whole Keras
/// model that `keras.models.load_model` (`.keras`) or `tf_keras.models.load_model` (`.h5`)
/// loads and that computes what the network computes (same inputs, NHWC, and outputs).
///
/// Each node becomes the Keras layers `KerasLayerCatalog.export` gives, under the node's name
/// (Keras accepts dots: `features.0.0`); variables keep Keras' names and layouts, which are the
/// engine's (HWIO kernels, `[kh, kw, c, m]` depthwise kernels, `[in, out]` dense kernels, BN
/// momentum in Keras' convention). A network from `Architecture.build` + `loadStateDict` thus
/// becomes a Keras model that gives the PyTorch module's outputs (NHWC where torch has NCHW).
public enum KerasModelExporter {
    /// Writes `network` to `path` in `format`, atomically (nothing is left at `path` on failure).
    /// - Parameters:
    ///   - network: the network; every layer must be a built-in one.
    ///   - name: the Keras model's name.
    ///   - path: the output file.
    ///   - format: Keras 3 `.keras` or tf-keras `.h5`.
    /// - Returns: the number of Keras layers written (inputs and helper layers included).
    /// - Throws: `ZooKitError.notKerasExpressible` naming every layer the target Keras cannot
    ///   express and why; `ZooNetError.graph` for a custom layer; `FormatError` when the file
    ///   cannot be written.
    @discardableResult
    public static func write(_ network: Network, name: String = "model", to path: String, format: KerasModelFormat) throws -> Int {
        let graph = try KerasExportGraph(network: network, version: format.version)
        let config = KerasModelConfig.make(graph, name: name, version: format.version)
        let layers = graph.order.map { index in
            let layer = graph.layers[index]
            return KerasLayerWeights(name: layer.name, className: layer.className, weights: layer.weights)
        }
        switch format {
        case .keras3: try KerasModelWriter.writeKeras3(config: config, modelName: name, layers: layers, to: path)
        case .keras2H5: try KerasModelWriter.writeKeras2(config: config, layers: layers, to: path)
        }
        return layers.count
    }
}
