import Foundation
import ZooFormat

/// A directory of pictures in the `DIR/<class>/<file>` layout (Keras
/// `image_dataset_from_directory`, torchvision `ImageFolder`): each subdirectory is a class,
/// classes numbered 0…N−1 in the sorted order of their names, each class's files (subfolders
/// included) in sorted order of their paths. Every regular file that does not start with `.` is a
/// picture, its format known by its magic bytes (PNG or JPEG); any other file is an error naming it.
public enum ImageFolder {
    /// The most bytes the loaded floats may take (`pictures × H × W × C × 4 ≤ 2^31`, 2 GiB),
    /// checked when the first picture gives the sample size, before any other is decoded;
    /// pictures are decoded one at a time.
    public static let maximumBytes = 1 << 31

    /// Whether `directory` has the layout: at least one subdirectory (not starting with `.`) and
    /// no IDX files (`*-idx?-ubyte*`, the MNIST layout); files beside the classes are ignored.
    public static func looksLikeImageFolder(_ directory: String) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        var classes = 0
        for entry in entries where !entry.hasPrefix(".") {
            if entry.contains("-idx") && entry.contains("-ubyte") { return false }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + entry, isDirectory: &isDirectory), isDirectory.boolValue { classes += 1 }
        }
        return classes > 0
    }

    /// The class names (sorted) and, per class, its picture files (sorted by path).
    /// - Throws: ``ZooKitError/invalidRequest(_:)`` for a directory without classes or pictures.
    public static func list(_ directory: String) throws -> [(name: String, files: [String])] {
        let manager = FileManager.default
        let root = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let names = try manager.contentsOfDirectory(atPath: root).filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && manager.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted(by: pythonOrder)
        guard !names.isEmpty else { throw ZooKitError.invalidRequest("\(directory): no class subdirectories (expected DIR/<class>/<picture>)") }
        return try names.map { name in
            let classDirectory = root + "/" + name
            guard let walker = manager.enumerator(atPath: classDirectory) else {
                throw FormatError(file: classDirectory, .unreadable(message: "cannot list the directory"))
            }
            var files: [String] = []
            while let relative = walker.nextObject() as? String {
                let last = (relative as NSString).lastPathComponent
                if last.hasPrefix(".") {
                    if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory { walker.skipDescendants() }
                    continue
                }
                if walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory { continue }
                files.append(relative)
            }
            guard !files.isEmpty else { throw ZooKitError.invalidRequest("\(classDirectory): class '\(name)' holds no pictures") }
            return (name, files.sorted(by: pythonOrder).map { classDirectory + "/" + $0 })
        }
    }

    /// Every picture of the folder through `pipeline`, labeled by its class.
    /// - Parameters:
    ///   - directory: the `DIR` of `DIR/<class>/<file>`.
    ///   - pipeline: what each picture goes through; it must give one size for every picture (a crop or a fixed resize).
    /// - Returns: `pictures × H × W × C` floats 0…255, `sampleShape` `[H, W, C]`, the class names.
    /// - Throws: `FormatError` naming the picture that cannot be decoded; ``ZooKitError/invalidRequest(_:)``
    ///   for the layout, a data set over ``ImageFolder/maximumBytes``, or pictures of different sizes.
    public static func load(_ directory: String, pipeline: ImagePipeline) throws -> LabeledData {
        let classes = try list(directory)
        let count = classes.reduce(0) { $0 + $1.files.count }
        var inputs: [Float] = []
        var labels: [Int] = []
        var shape: [Int]?
        for (label, entry) in classes.enumerated() {
            for file in entry.files {
                let picture = try pipeline.load(file)
                let sample = [picture.height, picture.width, pipeline.colors.channels]
                if shape == nil {
                    shape = sample
                    let bytes = count.multipliedReportingOverflow(by: sample.reduce(4, *))
                    guard !bytes.overflow, bytes.partialValue <= maximumBytes else {
                        throw ZooKitError.invalidRequest("\(directory): \(count) pictures of \(sample) floats need more than \(maximumBytes) bytes; use fewer or smaller pictures")
                    }
                    inputs.reserveCapacity(bytes.partialValue / 4)
                }
                guard sample == shape else {
                    throw ZooKitError.invalidRequest("\(file): becomes \(sample), the first picture \(shape ?? []): give the model's input a crop or a fixed resize")
                }
                inputs += picture.values
                labels.append(label)
            }
        }
        var data = LabeledData(inputs: inputs, sampleShape: shape ?? [], labels: labels, source: directory)
        data.classNames = classes.map(\.name)
        return data
    }

    /// Python's `sorted` order on names: by Unicode scalar values.
    static func pythonOrder(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }
}
