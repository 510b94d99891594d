import Foundation
import Testing
import ZooFormat
@testable import ZooKit

/// `DIR/<class>/<picture>` folders (Keras `image_dataset_from_directory`, torchvision `ImageFolder`).
@Suite struct ImageFolderTests {
    static func folder(_ layout: [String: [(String, String)]]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-folder-\(UUID().uuidString)")
        for (name, files) in layout {
            let directory = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (file, fixture) in files {
                try FileManager.default.copyItem(atPath: ImagePipelineTests.path(fixture), toPath: directory.appendingPathComponent(file).path)
            }
        }
        return root
    }

    @Test func classesAndFilesInSortedOrder() throws {
        let root = try Self.folder([
            "dog": [("b.png", "rgb.png"), ("a.jpg", "baseline.jpg")],
            "cat": [("x.jpeg", "orientation6.jpg")],
            "bird": [("1.png", "gray.png"), ("2.png", "palette.png"), (".DS_Store", "rgb16.png")],
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("a file beside the classes is ignored".utf8).write(to: root.appendingPathComponent("README.txt"))
        let pipeline = ImagePipeline(colors: .rgb, resize: .size(height: 8, width: 8))
        let data = try DataLoader.load(root.path, images: pipeline)
        #expect(data.classNames == ["bird", "cat", "dog"])
        #expect(data.labels == [0, 0, 1, 2, 2])
        #expect(data.sampleShape == [8, 8, 3])
        // Sample 3 is dog/a.jpg.
        let a = pipeline.floats(try ImageReader.read(root.appendingPathComponent("dog/a.jpg").path))
        #expect(Array(data.inputs[3 * 192..<4 * 192]) == a)
        // Without a pipeline (a model that does not take pictures) the folder is refused.
        #expect(throws: ZooKitError.self) { try DataLoader.load(root.path) }
    }

    @Test func unreadablePictureIsNamed() throws {
        let root = try Self.folder(["cat": [("good.png", "rgb.png")], "dog": [("notes.txt", "make_fixtures.py")]])
        defer { try? FileManager.default.removeItem(at: root) }
        let bad = root.appendingPathComponent("dog/notes.txt").path
        do {
            _ = try DataLoader.load(root.path, images: ImagePipeline(colors: .rgb, resize: .size(height: 8, width: 8)))
            Issue.record("loaded a folder with a text file")
        } catch let error as FormatError {
            #expect(error.file == bad)
            #expect(error.exitCode == 65)
            #expect(error.message.hasPrefix("unsupported image type: not PNG or JPEG"))
        }
        // A truncated picture, too.
        try FileManager.default.removeItem(atPath: bad)
        let png = try Data(contentsOf: URL(fileURLWithPath: ImagePipelineTests.path("rgb.png")))
        let cut = root.appendingPathComponent("dog/cut.png").path
        try png.prefix(300).write(to: URL(fileURLWithPath: cut))
        #expect(throws: FormatError.self) { try DataLoader.load(root.path, images: ImagePipeline(colors: .rgb, resize: .size(height: 8, width: 8))) }
        do {
            _ = try DataLoader.load(root.path, images: ImagePipeline(colors: .rgb, resize: .size(height: 8, width: 8)))
        } catch let error as FormatError {
            #expect(error.description.hasPrefix("\(cut): truncated PNG image"))
        }
    }
}
