import Foundation
import ZooFormat
import ZooNet

/// One picture's best labels.
public struct PicturePrediction: Codable, Sendable, Equatable {
    /// A label and the model's output for it.
    public struct Entry: Codable, Sendable, Equatable {
        /// The output's index.
        public var index: Int
        /// The manifest's label for it (the index when the manifest has no label there).
        public var label: String
        /// The output's value: the softmax probability for a classifier (a logit with `--logits`).
        public var probability: Double
    }

    /// The picture's path, as given.
    public var file: String
    /// The best `k` outputs, highest first (ties: lower index first).
    public var top: [Entry]
}

/// Runs a model on picture files: each through the model's ``ImagePipeline`` and
/// ``Preprocessing``, a batch of at most ``PictureClassifier/batchSize`` pictures held at a time.
public enum PictureClassifier {
    /// Pictures decoded and run together.
    public static let batchSize = 32

    /// The files of `paths`: a file as given, a directory as its regular files not starting with
    /// `.` in sorted order (one level).
    /// - Throws: `FormatError` `.notFound` for a path that does not exist, `.unreadable` for a directory that cannot be listed.
    public static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FormatError(file: path, .notFound) }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                throw FormatError(file: path, .unreadable(message: "cannot list the directory"))
            }
            let base = path.hasSuffix("/") ? String(path.dropLast()) : path
            for name in names.sorted(by: ImageFolder.pythonOrder) where !name.hasPrefix(".") {
                var nested: ObjCBool = false
                if FileManager.default.fileExists(atPath: base + "/" + name, isDirectory: &nested), !nested.boolValue { files.append(base + "/" + name) }
            }
        }
        return files
    }

    /// The `top` best outputs of `network` (the model's, or its logits variant) for each picture.
    /// - Parameters:
    ///   - files: picture files (PNG, JPEG).
    ///   - model: gives the input settings, the preprocessing and the labels.
    ///   - network: what runs (`model.network`, or its logits network).
    ///   - top: how many outputs per picture (at most the output count).
    /// - Throws: `FormatError` naming a picture that cannot be read; ``ZooKitError/invalidRequest(_:)``
    ///   for a model whose input is not a picture.
    public static func predict(files: [String], model: PretrainedModel, network: Network, top: Int) throws -> [PicturePrediction] {
        let pipeline = try ImagePipeline(input: model.manifest.input)
        var results: [PicturePrediction] = []
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let batch = Array(files[start..<min(start + batchSize, files.count)])
            var inputs: [Float] = []
            var shape: [Int] = []
            for file in batch {
                let picture = try pipeline.load(file)
                shape = [picture.height, picture.width, pipeline.colors.channels]
                inputs += picture.values
            }
            let data = try LabeledData(inputs: inputs, sampleShape: shape, labels: [Int](repeating: 0, count: batch.count), source: batch[0])
                .preprocessed(model.manifest.input.preprocessing)
                .reshaped(to: network.inputShape)
            let output = try network.predictFirstOutput(try data.inputTensor())
            let classes = output.shape.dropFirst().reduce(1, *)
            let values = output.scalars
            for (row, file) in batch.enumerated() {
                let scores = values[row * classes..<(row + 1) * classes]
                let ranked = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(top)
                let entries = ranked.map { index -> PicturePrediction.Entry in
                    let k = index - row * classes
                    let label = k < model.manifest.labels.count ? model.manifest.labels[k] : String(k)
                    return .init(index: k, label: label, probability: Double(scores[index]))
                }
                results.append(PicturePrediction(file: file, top: entries))
            }
        }
        return results
    }
}
