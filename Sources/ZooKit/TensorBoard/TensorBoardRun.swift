import Foundation
import ZooFormat

/// Where and what ``FineTuner`` logs for TensorBoard.
public struct TensorBoardOptions: Sendable, Equatable {
    /// The log folder (`tensorboard --logdir DIRECTORY`); each run gets a folder in it.
    public var directory: String
    /// The run's folder name; nil: `<model>-<yyyyMMdd-HHmmss>` (local time), or, when a run
    /// continues from a checkpoint, the name that run used.
    public var runName: String?
    /// Also log a histogram of every variable after each epoch (Keras' `histogram_freq=1`).
    public var histograms = false

    /// Logging into `directory`.
    /// - Parameters:
    ///   - directory: the log folder.
    ///   - runName: the run's folder name (default: the model's name and the start time).
    ///   - histograms: log a histogram of every variable after each epoch.
    public init(directory: String, runName: String? = nil, histograms: Bool = false) {
        self.directory = directory
        self.runName = runName
        self.histograms = histograms
    }

    /// The default run name: `<model>-<yyyyMMdd-HHmmss>`, as Keras' tutorials name runs.
    /// - Parameters:
    ///   - model: the model's name.
    ///   - date: the run's start.
    public static func runName(model: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return model + "-" + formatter.string(from: date)
    }
}

/// One run's TensorBoard logs, laid out as Keras' `TensorBoard` callback lays them out:
/// `RUN/train/events.out.tfevents.…` for the training metrics (and histograms), and
/// `RUN/validation/events.out.tfevents.…` for the validation metrics, under the same tags,
/// so TensorBoard draws both on one chart.
///
///     tensorboard --logdir DIR        # DIR/RUN/train, DIR/RUN/validation
public final class TensorBoardRun {
    /// The run's folder.
    public let directory: String
    /// The training writer (`RUN/train`).
    public let train: EventFileWriter
    private var validationWriter: EventFileWriter?
    private let clock: @Sendable () -> Double

    /// Opens a run folder for writing: a new event file in `train` (and, when first needed, in
    /// `validation`).
    ///
    /// To continue a run from a checkpoint of step (epoch) `k`, pass `resumingAfter: k`: what the
    /// earlier process logged after step `k` (it may have logged an epoch the checkpoint did not
    /// keep, and a kill can leave a torn record) is cut off its event files, and the new files
    /// start with a `SessionLog.START` at step `k + 1`, TensorBoard's marker of a restart. Every
    /// step then appears once.
    /// - Parameters:
    ///   - directory: the run's folder (created if needed).
    ///   - step: the last step to keep from earlier files; nil for a new run.
    ///   - clock: seconds since the Unix epoch, for wall times (tests pass a fixed one).
    /// - Throws: `FormatError` when the folders or files cannot be created, read or cut.
    public init(directory: String, resumingAfter step: Int? = nil, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.directory = directory
        self.clock = clock
        if let step {
            for folder in [directory + "/train", directory + "/validation"] {
                for file in EventFileReader.eventFiles(in: folder) { try EventFileReader.truncate(file, afterStep: Int64(step)) }
            }
        }
        train = try EventFileWriter(directory: directory + "/train", wallTime: clock())
        if let step {
            try train.append(TensorBoardEvent(wallTime: clock(), step: Int64(step + 1), content: .sessionLog(.start)))
            if !EventFileReader.eventFiles(in: directory + "/validation").isEmpty {
                try validation().append(TensorBoardEvent(wallTime: clock(), step: Int64(step + 1), content: .sessionLog(.start)))
            }
        }
    }

    /// The validation writer (`RUN/validation`), created on first use.
    func validation() throws -> EventFileWriter {
        if let validationWriter { return validationWriter }
        let writer = try EventFileWriter(directory: directory + "/validation", wallTime: clock())
        validationWriter = writer
        return writer
    }

    /// Logs scalars (and histograms) at `step` in the training file.
    /// - Throws: `FormatError` with `.writeFailed`.
    public func logTraining(_ values: [SummaryValue], step: Int) throws {
        guard !values.isEmpty else { return }
        try train.append(TensorBoardEvent(wallTime: clock(), step: Int64(step), content: .summary(values)))
    }

    /// Logs scalars at `step` in the validation file.
    /// - Throws: `FormatError` with `.writeFailed`.
    public func logValidation(_ values: [SummaryValue], step: Int) throws {
        guard !values.isEmpty else { return }
        try validation().append(TensorBoardEvent(wallTime: clock(), step: Int64(step), content: .summary(values)))
    }

    /// Makes everything logged so far durable (`fsync` of both files).
    /// - Throws: `FormatError` with `.writeFailed`.
    public func sync() throws {
        try train.sync()
        try validationWriter?.sync()
    }
}
