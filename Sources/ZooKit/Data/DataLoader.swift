import Foundation
import ZooFormat

/// Loads labeled data sets:
///
/// - a directory of pictures in the `DIR/<class>/<file>` layout (``ImageFolder``; PNG and JPEG),
///   each through an ``ImagePipeline`` (the model's: `images`);
/// - a directory of IDX files in the MNIST layout (`train-images-idx3-ubyte[.gz]`,
///   `train-labels-idx1-ubyte[.gz]`, `t10k-…`), e.g. `/usr/share/datasets/fashion-mnist`;
///   `split` picks `train` or `t10k`;
/// - an IDX images file, its labels found by name (`…-images-idx3-…` → `…-labels-idx1-…`);
/// - a tensor file (`.npz`, safetensors, HDF5, …) with tensors `x` and `y`;
/// - CSV: one sample per line, the label first, then the features; a header line is skipped.
public enum DataLoader {
    /// Which half of an IDX directory.
    public enum Split: String, Sendable {
        /// `train-*`.
        case train
        /// `t10k-*`.
        case test = "t10k"
    }

    /// Loads the labeled samples at `path` (see the type's documentation for the layouts).
    /// - Parameters:
    ///   - path: a directory, an IDX images file, a tensor file or a CSV.
    ///   - split: which half of an IDX directory.
    ///   - images: what the pictures of an image folder go through (nil: image folders are refused).
    /// - Returns: the samples as read (pixels 0…255; apply ``LabeledData/preprocessed(_:)``).
    /// - Throws: `FormatError` for missing or malformed files (a picture named), ``ZooKitError/invalidRequest(_:)``
    ///   for labels missing, not integers, or not one per sample, or an image folder without `images`.
    public static func load(_ path: String, split: Split = .train, images: ImagePipeline? = nil) throws -> LabeledData {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(file: path, .notFound)
        }
        if isDirectory.boolValue {
            if ImageFolder.looksLikeImageFolder(path) {
                guard let images else {
                    throw ZooKitError.invalidRequest("\(path): a folder of pictures needs a model whose input is a picture ([H, W, C])")
                }
                return try ImageFolder.load(path, pipeline: images)
            }
            return try idxDirectory(path, split: split)
        }
        if path.lowercased().hasSuffix(".csv") { return try csv(path) }
        let archive = try TensorArchive.open(path)
        if archive.format == .idx {
            let labelsPath = path.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
            guard labelsPath != path, FileManager.default.fileExists(atPath: labelsPath) else {
                throw ZooKitError.invalidRequest("\(path): an IDX images file needs its labels beside it (\(labelsPath))")
            }
            return try pair(images: archive.tensors[0], labels: TensorArchive.open(labelsPath).tensors[0], source: path)
        }
        guard let x = archive.tensors.first(where: { $0.name == "x" }), let y = archive.tensors.first(where: { $0.name == "y" }) else {
            throw ZooKitError.invalidRequest("\(path): expected tensors named x and y, found \(archive.tensors.map(\.name).joined(separator: ", "))")
        }
        return try pair(images: x, labels: y, source: path)
    }

    static func idxDirectory(_ directory: String, split: Split) throws -> LabeledData {
        func find(_ stem: String) throws -> String {
            for candidate in [stem, stem + ".gz"] where FileManager.default.fileExists(atPath: directory + "/" + candidate) {
                return directory + "/" + candidate
            }
            throw ZooKitError.invalidRequest("\(directory): no \(stem)[.gz] (expected the MNIST file layout)")
        }
        let images = try TensorArchive.open(try find("\(split.rawValue)-images-idx3-ubyte")).tensors[0]
        let labels = try TensorArchive.open(try find("\(split.rawValue)-labels-idx1-ubyte")).tensors[0]
        return try pair(images: images, labels: labels, source: directory + " (\(split.rawValue))")
    }

    static func pair(images: StoredTensor, labels: StoredTensor, source: String) throws -> LabeledData {
        guard let count = images.shape.first, labels.shape == [count] else {
            throw ZooKitError.invalidRequest("\(source): \(images.shape.first ?? 0) samples but labels of shape \(labels.shape)")
        }
        let classes = try labels.doubles()
        var integerLabels: [Int] = []
        integerLabels.reserveCapacity(classes.count)
        for (index, value) in classes.enumerated() {
            guard value >= 0, value == value.rounded(), value < 1e9 else {
                throw ZooKitError.invalidRequest("\(source): label \(value) of sample \(index) is not a class number")
            }
            integerLabels.append(Int(value))
        }
        return LabeledData(inputs: try images.floats(), sampleShape: Array(images.shape.dropFirst()), labels: integerLabels, source: source)
    }

    static func csv(_ path: String) throws -> LabeledData {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw FormatError(file: path, .unreadable(message: "not UTF-8 text")) }
        var inputs: [Float] = []
        var labels: [Int] = []
        var width: Int?
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let label = Int(fields[0]) else {
                if number == 0 { continue }  // a header
                throw FormatError(file: path, .malformed(at: .key("line \(number + 1)"), expected: "an integer label in the first column", found: "'\(fields[0])'"))
            }
            let features = fields.dropFirst()
            if width == nil { width = features.count }
            guard features.count == width else {
                throw FormatError(file: path, .malformed(at: .key("line \(number + 1)"), expected: "\(width ?? 0) features", found: "\(features.count)"))
            }
            for field in features {
                guard let value = Float(field) else {
                    throw FormatError(file: path, .malformed(at: .key("line \(number + 1)"), expected: "numbers", found: "'\(field)'"))
                }
                inputs.append(value)
            }
            labels.append(label)
        }
        guard let width, width > 0 else { throw FormatError(file: path, .empty) }
        return LabeledData(inputs: inputs, sampleShape: [width], labels: labels, source: path)
    }
}
