/// One record of a TensorBoard event file: TensorFlow's `Event` protocol buffer
/// (`tensorflow/core/util/event.proto`, `tensorflow/core/framework/summary.proto`), the fields
/// TensorBoard's scalars and histograms dashboards read:
///
///     Event           1 wall_time double   2 step int64   3 file_version string
///                     5 summary Summary    7 session_log SessionLog
///     Summary         1 value repeated Value
///     Summary.Value   1 tag string   2 simple_value float   5 histo HistogramProto
///     HistogramProto  1 min  2 max  3 num  4 sum  5 sum_squares (double)
///                     6 bucket_limit  7 bucket (packed repeated double)
///     SessionLog      1 status enum (1 START, 2 STOP, 3 CHECKPOINT)
///
/// Scalars are written as `simple_value` and histograms as `HistogramProto`, as PyTorch's
/// `torch.utils.tensorboard.SummaryWriter` does; TensorBoard reads both natively (its
/// `data_compat` turns them into its tensor summaries).
///
///     from tensorboard.compat.proto import event_pb2, summary_pb2
///     event = event_pb2.Event(wall_time=1.5, step=3, summary=summary_pb2.Summary(
///         value=[summary_pb2.Summary.Value(tag="epoch_loss", simple_value=0.25)]))
public struct TensorBoardEvent: Sendable, Equatable {
    /// Seconds since 1970-01-01 UTC when the event was written.
    public var wallTime: Double
    /// The step the event belongs to (the epoch, for Keras' and Zoo's epoch summaries).
    public var step: Int64
    /// What the event carries.
    public var content: Content

    /// What an event carries.
    public enum Content: Sendable, Equatable {
        /// The first event of every file: `brain.Event:2`.
        case fileVersion(String)
        /// Summary values: scalars and histograms, each under its tag.
        case summary([SummaryValue])
        /// A session marker; `start` at step s tells TensorBoard that a restarted run continues
        /// from s, so anything logged at steps ≥ s before it is stale.
        case sessionLog(SessionStatus)
        /// An event Zoo does not interpret (graphs, run metadata, TF2 tensor summaries).
        case other
    }

    /// `SessionLog.SessionStatus`.
    public enum SessionStatus: Int, Sendable {
        /// No status.
        case unspecified = 0
        /// A (re)start: what was logged at this step or later before it is stale.
        case start = 1
        /// The end of a session.
        case stop = 2
        /// A checkpoint was written.
        case checkpoint = 3
    }

    /// An event.
    /// - Parameters:
    ///   - wallTime: seconds since the Unix epoch.
    ///   - step: the step (epoch) it belongs to.
    ///   - content: what it carries.
    public init(wallTime: Double, step: Int64, content: Content) {
        self.wallTime = wallTime
        self.step = step
        self.content = content
    }

    /// The serialized `Event` protobuf, byte for byte what Python's `SerializeToString()` gives.
    public var serialized: [UInt8] {
        var writer = ProtoWriter()
        writer.double(1, wallTime)
        writer.int64(2, step)
        switch content {
        case .fileVersion(let version):
            writer.string(3, version)
        case .summary(let values):
            writer.message(5) { summary in
                for value in values { summary.message(1) { value.encode(into: &$0) } }
            }
        case .sessionLog(let status):
            writer.message(7) { $0.int64(1, Int64(status.rawValue)) }
        case .other:
            break
        }
        return writer.bytes
    }

    /// Decodes a serialized `Event`.
    /// - Parameters:
    ///   - bytes: the record's data.
    ///   - file: the file, for errors.
    /// - Throws: `FormatError.malformed` for bytes that are not a well-formed protobuf.
    public init(decoding bytes: [UInt8], file: String) throws {
        self.init(wallTime: 0, step: 0, content: .other)
        try bytes.withUnsafeBytes { raw in
            var reader = ProtoReader(raw, file: file, context: "an event")
            while let (number, wireType) = try reader.nextField() {
                switch (number, wireType) {
                case (1, 1): wallTime = Double(bitPattern: try reader.fixed64())
                case (2, 0): step = Int64(bitPattern: try reader.varint())
                case (3, 2): content = .fileVersion(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
                case (5, 2): content = .summary(try Self.summaryValues(try reader.lengthDelimited(), file: file))
                case (7, 2):
                    var log = ProtoReader(try reader.lengthDelimited(), file: file, context: "a session log")
                    var status = SessionStatus.unspecified
                    while let (field, type) = try log.nextField() {
                        if field == 1, type == 0 {
                            status = SessionStatus(rawValue: Int(truncatingIfNeeded: try log.varint())) ?? .unspecified
                        } else {
                            try log.skip(type)
                        }
                    }
                    content = .sessionLog(status)
                default: try reader.skip(wireType)
                }
            }
        }
    }

    static func summaryValues(_ bytes: UnsafeRawBufferPointer, file: String) throws -> [SummaryValue] {
        var reader = ProtoReader(bytes, file: file, context: "a summary")
        var values: [SummaryValue] = []
        while let (number, wireType) = try reader.nextField() {
            guard number == 1, wireType == 2 else {
                try reader.skip(wireType)
                continue
            }
            values.append(try SummaryValue(decoding: try reader.lengthDelimited(), file: file))
        }
        return values
    }
}

/// One tagged value of a summary: a scalar or a histogram.
public struct SummaryValue: Sendable, Equatable {
    /// The chart it belongs to (`epoch_loss`, `hidden1/kernel/histogram`).
    public var tag: String
    /// The value.
    public var value: Value

    /// What a summary value holds.
    public enum Value: Sendable, Equatable {
        /// A scalar (`simple_value`).
        case scalar(Float)
        /// A histogram (`histo`).
        case histogram(Histogram)
        /// Something else (images, audio, TF2 tensors), not interpreted.
        case other
    }

    /// A tagged value.
    public init(tag: String, value: Value) {
        self.tag = tag
        self.value = value
    }

    /// A tagged scalar.
    public static func scalar(_ tag: String, _ value: Float) -> SummaryValue {
        SummaryValue(tag: tag, value: .scalar(value))
    }

    func encode(into writer: inout ProtoWriter) {
        writer.string(1, tag)
        switch value {
        case .scalar(let scalar): writer.float(2, scalar, always: true)
        case .histogram(let histogram): writer.message(5) { histogram.encode(into: &$0) }
        case .other: break
        }
    }

    init(decoding bytes: UnsafeRawBufferPointer, file: String) throws {
        var reader = ProtoReader(bytes, file: file, context: "a summary value")
        tag = ""
        value = .other
        while let (number, wireType) = try reader.nextField() {
            switch (number, wireType) {
            case (1, 2): tag = String(decoding: try reader.lengthDelimited(), as: UTF8.self)
            case (2, 5): value = .scalar(Float(bitPattern: try reader.fixed32()))
            case (5, 2): value = .histogram(try Histogram(decoding: try reader.lengthDelimited(), file: file))
            default: try reader.skip(wireType)
            }
        }
    }
}

/// A histogram of values, as TensorBoard's `HistogramProto`: bucket `i` counts the values in
/// (`bucketLimits[i−1]`, `bucketLimits[i]`] (the first from `minimum`).
public struct Histogram: Sendable, Equatable {
    /// The smallest value (0 for no values).
    public var minimum: Double
    /// The largest value (0 for no values).
    public var maximum: Double
    /// The number of values.
    public var count: Double
    /// Σx.
    public var sum: Double
    /// Σx².
    public var sumOfSquares: Double
    /// The right edge of each bucket.
    public var bucketLimits: [Double]
    /// The number of values in each bucket.
    public var bucketCounts: [Double]

    /// A histogram from its fields.
    public init(minimum: Double, maximum: Double, count: Double, sum: Double, sumOfSquares: Double, bucketLimits: [Double], bucketCounts: [Double]) {
        self.minimum = minimum
        self.maximum = maximum
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
        self.bucketLimits = bucketLimits
        self.bucketCounts = bucketCounts
    }

    /// The histogram of `values` in `bucketCount` equal-width buckets from their minimum to their
    /// maximum, as Keras' `TensorBoard(histogram_freq=1)` makes them (TensorBoard's
    /// `histogram_pb`, 30 buckets by default): width w = (max − min)/k, value x goes to bucket
    /// min(⌊(x − min)/w⌋, k − 1), edges min + i·w with the last one exactly max. When every value
    /// is the same, all edges are that value and the last bucket holds them all; no values give
    /// k empty buckets.
    /// - Parameters:
    ///   - values: the data (a variable's values).
    ///   - bucketCount: the number of buckets, k ≥ 1.
    public init(values: [Float], bucketCount: Int = 30) {
        let k = Swift.max(bucketCount, 1)
        var minimum = Double.infinity, maximum = -Double.infinity, sum = 0.0, squares = 0.0
        for value in values {
            let x = Double(value)
            minimum = Swift.min(minimum, x)
            maximum = Swift.max(maximum, x)
            sum += x
            squares += x * x
        }
        var counts = [Double](repeating: 0, count: k)
        var limits = [Double](repeating: 0, count: k)
        if values.isEmpty {
            minimum = 0
            maximum = 0
        } else if maximum == minimum {
            limits = [Double](repeating: maximum, count: k)
            counts[k - 1] = Double(values.count)
        } else {
            let width = (maximum - minimum) / Double(k)
            for value in values {
                let index = Swift.min(Int(((Double(value) - minimum) / width).rounded(.down)), k - 1)
                counts[index] += 1
            }
            for i in 0..<k { limits[i] = Double(i + 1) * width + minimum }
            limits[k - 1] = maximum
        }
        self.init(minimum: minimum, maximum: maximum, count: Double(values.count), sum: sum, sumOfSquares: squares,
                  bucketLimits: limits, bucketCounts: counts)
    }

    func encode(into writer: inout ProtoWriter) {
        writer.double(1, minimum)
        writer.double(2, maximum)
        writer.double(3, count)
        writer.double(4, sum)
        writer.double(5, sumOfSquares)
        writer.packedDoubles(6, bucketLimits)
        writer.packedDoubles(7, bucketCounts)
    }

    init(decoding bytes: UnsafeRawBufferPointer, file: String) throws {
        var reader = ProtoReader(bytes, file: file, context: "a histogram")
        self.init(minimum: 0, maximum: 0, count: 0, sum: 0, sumOfSquares: 0, bucketLimits: [], bucketCounts: [])
        while let (number, wireType) = try reader.nextField() {
            switch (number, wireType) {
            case (1, 1): minimum = Double(bitPattern: try reader.fixed64())
            case (2, 1): maximum = Double(bitPattern: try reader.fixed64())
            case (3, 1): count = Double(bitPattern: try reader.fixed64())
            case (4, 1): sum = Double(bitPattern: try reader.fixed64())
            case (5, 1): sumOfSquares = Double(bitPattern: try reader.fixed64())
            case (6, 2): bucketLimits += try Self.packedDoubles(reader.lengthDelimited(), reader: reader)
            case (7, 2): bucketCounts += try Self.packedDoubles(reader.lengthDelimited(), reader: reader)
            case (6, 1): bucketLimits.append(Double(bitPattern: try reader.fixed64()))
            case (7, 1): bucketCounts.append(Double(bitPattern: try reader.fixed64()))
            default: try reader.skip(wireType)
            }
        }
    }

    static func packedDoubles(_ bytes: UnsafeRawBufferPointer, reader: ProtoReader) throws -> [Double] {
        guard bytes.count % 8 == 0 else { throw reader.malformed("packed doubles (a multiple of 8 bytes)", "\(bytes.count) bytes") }
        return (0..<bytes.count / 8).map { Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
    }
}
