import Foundation

extension WeightsCache {
    /// One model's folder in the cache, `ROOT/weights/MODEL/`.
    public struct Downloads: Sendable, Equatable {
        /// The model's name (the folder's).
        public let model: String
        /// The downloaded files, relative to the folder, sorted; what is still being
        /// downloaded (`FILE.part`, pip's `.pip/` staging) is counted in `unfinishedBytes` instead.
        public let files: [String]
        /// Bytes of every regular file in the folder, unfinished ones included.
        public let bytes: Int
        /// Bytes of interrupted downloads (`*.part`, `.pip/`), which `zoo fetch` resumes or replaces.
        public let unfinishedBytes: Int
    }

    /// Every model with a folder in the cache, sorted by name (none when the cache does not exist).
    /// Links are counted as themselves, never followed.
    public func downloads() -> [Downloads] {
        modelFolders().map(contents(ofModelFolder:))
    }

    /// Deletes the downloads of `model` (its whole folder, unfinished downloads included).
    /// - Returns: what was deleted, or nil when the cache holds nothing of `model` (also for a
    ///   name that is not a folder of the cache, such as `../x`: nothing outside it is touched).
    /// - Throws: ``ZooKitError/cacheNotWritable(path:reason:)`` when the folder cannot be removed.
    @discardableResult
    public func removeDownloads(of model: String) throws -> Downloads? {
        guard modelFolders().contains(model) else { return nil }
        let found = contents(ofModelFolder: model)
        let path = root + "/weights/" + model
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw ZooKitError.cacheNotWritable(path: path, reason: (error as NSError).localizedDescription)
        }
        return found
    }

    /// The digests remembered (`digests.json`): how many files, and the file's size in bytes.
    public func rememberedDigests() -> (files: Int, bytes: Int) {
        let size = (try? FileManager.default.attributesOfItem(atPath: digestsFile)[.size] as? NSNumber)?.intValue ?? 0
        return (loadDigests().count, size)
    }

    /// Forgets every remembered digest (each file's SHA-256 is computed again when next verified).
    /// - Returns: whether there was a digest file.
    /// - Throws: ``ZooKitError/cacheNotWritable(path:reason:)`` when it cannot be removed.
    @discardableResult
    public func removeRememberedDigests() throws -> Bool {
        guard FileManager.default.fileExists(atPath: digestsFile) else { return false }
        do {
            try FileManager.default.removeItem(atPath: digestsFile)
        } catch {
            throw ZooKitError.cacheNotWritable(path: digestsFile, reason: (error as NSError).localizedDescription)
        }
        return true
    }

    /// The names of the model folders in `ROOT/weights`, sorted (hidden entries and anything
    /// that is not a directory, links included, left out).
    private func modelFolders() -> [String] {
        let folder = root + "/weights"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.sorted().filter { !$0.hasPrefix(".") && Self.isDirectory(folder + "/" + $0) }
    }

    private func contents(ofModelFolder model: String) -> Downloads {
        let folder = URL(fileURLWithPath: root + "/weights/" + model)
        let keys: [URLResourceKey] = [.isRegularFileKey, .fileSizeKey]
        var files: [String] = []
        var bytes = 0
        var unfinished = 0
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys)
        while let item = enumerator?.nextObject() as? URL {
            guard let values = try? item.resourceValues(forKeys: Set(keys)), values.isRegularFile == true else { continue }
            let size = values.fileSize ?? 0
            let relative = String(item.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count + 1))
            bytes += size
            if relative.hasSuffix(".part") || relative.hasPrefix(".pip/") {
                unfinished += size
            } else {
                files.append(relative)
            }
        }
        return Downloads(model: model, files: files.sorted(), bytes: bytes, unfinishedBytes: unfinished)
    }

    private static func isDirectory(_ path: String) -> Bool {
        // Not through a link: a link named like a model is listed by nothing and removed by nothing.
        (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeDirectory
    }
}
