#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One layer of a Keras model file: its name, its Keras class (`Conv2D`) and its weights in
/// Keras' order (`kernel`, `bias`; `gamma`, `beta`, `moving_mean`, `moving_variance`), each
/// named `LAYER/WEIGHT` in Keras' layout (HWIO kernels). Layers without weights are listed too:
/// Keras 3 files have a group for each.
public struct KerasLayerWeights: Sendable {
    /// The layer's name, as in the model config.
    public var name: String
    /// The Keras class name (`Conv2D`, `BatchNormalization`, `InputLayer`).
    public var className: String
    /// The weights, in Keras' order, named `name/weight`.
    public var weights: [StoredTensor]

    /// A layer and its weights.
    public init(name: String, className: String, weights: [StoredTensor]) {
        self.name = name
        self.className = className
        self.weights = weights
    }
}

/// Writes whole Keras models (architecture and weights), atomically: a Keras 3 `.keras` zip
/// (`metadata.json`, `config.json`, `model.weights.h5`) for `keras.models.load_model`, and a
/// tf-keras full-model `.h5` (`@model_config` + `/model_weights`) for
/// `tf_keras.models.load_model`. The config comes from the caller; `layers` must be in the
/// order Keras itself gives the model's layers (it matches weights to layers by that order).
public enum KerasModelWriter {
    /// The Keras 3 version the `.keras` files declare in `metadata.json`.
    public static let keras3Version = "3.15.1"

    /// Writes a Keras 3 `.keras` file.
    /// - Parameters:
    ///   - config: the `Functional` model's serialized config (`config.json`).
    ///   - modelName: the model's name (`vars/@name` of the weights).
    ///   - layers: every layer, in Keras' layer order.
    ///   - path: the file to write (atomically: a temporary beside it, then a rename).
    /// - Throws: ``FormatError`` with `.writeFailed` or `.library` when writing fails; nothing is
    ///   left at `path` then.
    public static func writeKeras3(config: JSONValue, modelName: String, layers: [KerasLayerWeights], to path: String) throws {
        let (weightsPath, descriptor) = try AtomicFile.createTemporary(beside: path)
        close(descriptor)
        defer { unlink(weightsPath) }
        try HDF5Writer.write([], to: weightsPath, layout: .keras3Model(name: modelName, layers: layers))
        let weights = try MappedFile(path: weightsPath)
        let metadata = JSONValue.object([("keras_version", .string(keras3Version)), ("date_saved", .string(dateSaved()))])
        let file = try AtomicFile(destination: path)
        let zip = ZipWriter(file: file)
        for (name, text) in [("metadata.json", metadata.compactText), ("config.json", config.compactText)] {
            let bytes = Array(text.utf8)
            try bytes.withUnsafeBytes { try zip.addDeflated(name: name, parts: [$0]) }
        }
        try zip.addStored(name: "model.weights.h5", parts: [weights.bytes])
        try zip.finish()
        try file.commit()
    }

    /// Writes a tf-keras (Keras 2) full-model `.h5` file.
    /// - Parameters:
    ///   - config: the Keras 2 `Functional` config (the `@model_config` attribute).
    ///   - layers: every layer, in Keras' layer order (the weighted ones are listed).
    ///   - path: the file to write, atomically.
    /// - Throws: ``FormatError`` when writing fails; nothing is left at `path` then.
    public static func writeKeras2(config: JSONValue, layers: [KerasLayerWeights], to path: String) throws {
        try HDF5Writer.write([], to: path, layout: .keras2Model(config: config.compactText, layers: layers))
    }

    /// `2026-11-30@12:21:14`, as Keras writes `date_saved` (UTC).
    private static func dateSaved() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))@\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
