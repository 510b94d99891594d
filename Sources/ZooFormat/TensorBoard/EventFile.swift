import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An append-only TensorBoard event file: TFRecord-framed ``TensorBoardEvent``s, starting with
/// the file-version event `brain.Event:2`, named as TensorBoard's own writer names them:
/// `events.out.tfevents.<seconds, 10 digits>.<host>.<pid>.<n>` — the seconds raised past those of
/// the folder's existing files if needed, so that name order (the order readers take files in)
/// is creation order.
///
/// Every event is appended with one `write` of its whole record, and ``sync()`` makes what was
/// appended durable (`fsync`), so a killed writer leaves complete records, at worst followed by
/// one torn record that readers stop at (and ``EventFileReader/truncate(_:afterStep:)`` removes).
/// An event log is appended to, not replaced, so it is the one file Zoo does not write through
/// ``AtomicWrite``.
public final class EventFileWriter {
    /// The event file's path.
    public let path: String
    private var descriptor: Int32

    private static let counter = Atomic<Int>(0)

    /// Creates `directory` (with its parents) and a new event file in it, and writes the
    /// file-version event.
    /// - Parameters:
    ///   - directory: where the file goes (a run's `train` or `validation` folder).
    ///   - wallTime: seconds since the Unix epoch, for the file's first event and name.
    /// - Throws: ``FormatError`` with `.writeFailed` when the folder or file cannot be created or written.
    public init(directory: String, wallTime: Double) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FormatError(file: directory, .writeFailed(message: "cannot create the folder: \((error as NSError).localizedDescription)"))
        }
        var host = [CChar](repeating: 0, count: 256)
        let hostName = gethostname(&host, host.count - 1) == 0
            ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        let number = Self.counter.add(1, ordering: .relaxed).newValue
        // Readers take a folder's files in name order: the new file must sort after the ones
        // already there (a run resumed within the same second, or after a clock step back).
        let latest = EventFileReader.eventFiles(in: directory).compactMap { path in
            path.split(separator: "/").last.flatMap { $0.split(separator: ".").dropFirst(3).first }.flatMap { Int($0) }
        }.max()
        let seconds = String(Swift.max(Int(wallTime), (latest ?? -1) + 1))
        let name = "events.out.tfevents.\(String(repeating: "0", count: max(0, 10 - seconds.count)) + seconds).\(hostName).\(getpid()).\(number)"
        path = directory + "/" + name
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FormatError(file: path, .writeFailed(message: "open: \(systemMessage(errno))"))
        }
        try append(TensorBoardEvent(wallTime: wallTime, step: 0, content: .fileVersion("brain.Event:2")))
        try sync()
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends one event (a single `write` of its framed record).
    /// - Throws: ``FormatError`` with `.writeFailed` naming the system's error.
    public func append(_ event: TensorBoardEvent) throws {
        let record = TFRecord.frame(event.serialized)
        var offset = 0
        while offset < record.count {
            let written = record.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw FormatError(file: path, .writeFailed(message: "write: \(systemMessage(errno))"))
            }
            offset += written
        }
    }

    /// Makes everything appended so far durable (`fsync`).
    /// - Throws: ``FormatError`` with `.writeFailed`.
    public func sync() throws {
        guard fsync(descriptor) == 0 else { throw FormatError(file: path, .writeFailed(message: "fsync: \(systemMessage(errno))")) }
    }
}

/// Reads TensorBoard event files back (for tests, and to continue a run's logs after a restart).
public enum EventFileReader {
    /// The event files of a folder (names containing `tfevents`), in name order, which is the
    /// order TensorBoard reads them in (their names start with the creation time).
    /// - Parameter directory: a run's `train` or `validation` folder; a missing folder has none.
    public static func eventFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.contains("tfevents") }.sorted().map { directory + "/" + $0 }
    }

    /// Every complete event of a file, in order.
    /// - Parameters:
    ///   - path: the event file.
    ///   - stopAtDamage: stop at a damaged record instead of throwing (see ``TFRecord/records(in:file:stopAtDamage:)``).
    /// - Throws: ``FormatError``: `.notFound`, `.checksumMismatch`, `.malformed`.
    public static func events(at path: String, stopAtDamage: Bool = false) throws -> [TensorBoardEvent] {
        let file = try MappedFile(path: path)
        let records = try TFRecord.records(in: file.bytes, file: path, stopAtDamage: stopAtDamage).records
        return try records.map { try TensorBoardEvent(decoding: $0.data, file: path) }
    }

    /// Cuts an event file back to its events of steps ≤ `step`: everything from the first
    /// later event on is removed, with any torn or damaged record at the end. This is how a
    /// run that continues from a checkpoint of epoch `step` drops what was logged after that
    /// checkpoint, so no step is logged twice.
    /// - Parameters:
    ///   - path: the event file (events in step order, as writers append them).
    ///   - step: the last step to keep.
    /// - Returns: the number of bytes removed.
    /// - Throws: ``FormatError`` when the file cannot be read or cut (`.writeFailed`).
    @discardableResult
    public static func truncate(_ path: String, afterStep step: Int64) throws -> Int {
        let file = try MappedFile(path: path)
        let size = file.count
        let (records, validLength) = try TFRecord.records(in: file.bytes, file: path, stopAtDamage: true)
        var keep = validLength
        for record in records {
            let event = try? TensorBoardEvent(decoding: record.data, file: path)
            if let event, event.step > step, event.content != .fileVersion("brain.Event:2") {
                keep = record.offset
                break
            }
            if event == nil {  // not an event at all: nothing after it can be trusted
                keep = record.offset
                break
            }
        }
        guard keep < size else { return 0 }
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FormatError(file: path, .writeFailed(message: "open: \(systemMessage(errno))")) }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(keep)) == 0, fsync(descriptor) == 0 else {
            throw FormatError(file: path, .writeFailed(message: "ftruncate: \(systemMessage(errno))"))
        }
        return size - keep
    }
}
