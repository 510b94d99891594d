import Foundation
import Testing
@testable import ZooFormat

/// TensorBoard event files: byte-identical to TensorBoard's own writer, read as TensorBoard's
/// EventAccumulator reads them (Tests/Fixtures/tensorboard/make_fixtures.py, peer_read.txt and
/// zoo_run_read.txt), damaged files refused with exact errors, stale tails cut.
@Suite struct TensorBoardTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tensorboard").path

    /// The events make_fixtures.py writes with TensorBoard's protos and RecordWriter.
    static var peerEvents: [TensorBoardEvent] {
        let dyadic = (0..<50).map { Float(($0 * 37) % 101 - 50) / 8 }
        return [
            TensorBoardEvent(wallTime: 1_700_000_000, step: 0, content: .fileVersion("brain.Event:2")),
            TensorBoardEvent(wallTime: 1_700_000_001.25, step: 0, content: .summary([
                .scalar("epoch_loss", 0.6931472), .scalar("epoch_accuracy", 0.5),
                .scalar("epoch_learning_rate", 0.001), .scalar("epoch_phase", 1),
                SummaryValue(tag: "dense/kernel/histogram", value: .histogram(Histogram(values: [-1.5, -0.25, 0, 0.25, 2, 0.75], bucketCount: 4))),
            ])),
            TensorBoardEvent(wallTime: 1_700_000_002.5, step: 1, content: .summary([
                .scalar("epoch_loss", 0.25), .scalar("epoch_accuracy", 0),
                SummaryValue(tag: "wide/histogram", value: .histogram(Histogram(values: dyadic, bucketCount: 30))),
            ])),
            TensorBoardEvent(wallTime: 1_700_000_003, step: 2, content: .sessionLog(.start)),
            TensorBoardEvent(wallTime: 1_700_000_004, step: 300, content: .summary([
                SummaryValue(tag: "constant/histogram", value: .histogram(Histogram(values: [0.5, 0.5, 0.5], bucketCount: 4))),
                SummaryValue(tag: "empty/histogram", value: .histogram(Histogram(values: [], bucketCount: 3))),
            ])),
        ]
    }

    static var peerFile: String { directory + "/peer/events.out.tfevents.peer" }

    @Test func bytesEqualTensorBoardsOwnWriter() throws {
        let written = Self.peerEvents.flatMap { TFRecord.frame($0.serialized) }
        let peer = try #require(FileManager.default.contents(atPath: Self.peerFile))
        #expect(written.count == 1198)
        #expect(written == Array(peer))
    }

    @Test func readsWhatTensorBoardWrote() throws {
        #expect(try EventFileReader.events(at: Self.peerFile) == Self.peerEvents)
    }

    /// Histograms bucketed as TensorBoard's `histogram_pb` does (values from peer_read.txt).
    @Test func histogramBucketsMatchTensorBoard() {
        let small = Histogram(values: [-1.5, -0.25, 0, 0.25, 2, 0.75], bucketCount: 4)
        #expect(small.bucketLimits == [-0.625, 0.25, 1.125, 2.0])
        #expect(small.bucketCounts == [1, 2, 2, 1])
        #expect(small.minimum == -1.5 && small.maximum == 2 && small.count == 6 && small.sum == 1.25)
        let wide = Histogram(values: (0..<50).map { Float(($0 * 37) % 101 - 50) / 8 })
        #expect(Array(wide.bucketLimits.prefix(4)) == [-5.833333333333333, -5.416666666666667, -5.0, -4.583333333333333])
        #expect(wide.bucketLimits[15] == 0.41666666666666696 && wide.bucketLimits[29] == 6.25)
        #expect(wide.bucketCounts == [3, 1, 1, 3, 1, 1, 3, 1, 1, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 1, 2, 2, 1, 2, 2, 1, 2, 2, 2])
        let constant = Histogram(values: [0.5, 0.5, 0.5], bucketCount: 4)
        #expect(constant.bucketLimits == [0.5, 0.5, 0.5, 0.5] && constant.bucketCounts == [0, 0, 0, 3])
        let empty = Histogram(values: [], bucketCount: 3)
        #expect(empty.bucketLimits == [0, 0, 0] && empty.bucketCounts == [0, 0, 0] && empty.count == 0)
    }

    /// The zoo run killed after its checkpoint of epoch 1 and resumed: every tag at every epoch
    /// once, with the values TensorBoard's EventAccumulator read (zoo_run_read.txt).
    @Test func killedAndResumedRunReadsAsTensorBoardReadIt() throws {
        var scalars: [String: [(Int64, Float)]] = [:]
        var histograms: [String: [(Int64, Histogram)]] = [:]
        var restarts: [Int64] = []
        for split in ["train", "validation"] {
            let files = EventFileReader.eventFiles(in: Self.directory + "/zoo_run/" + split)
            #expect(files.count == 2)
            for file in files {
                for event in try EventFileReader.events(at: file) {
                    switch event.content {
                    case .summary(let values):
                        for value in values {
                            switch value.value {
                            case .scalar(let scalar): scalars[split + " " + value.tag, default: []].append((event.step, scalar))
                            case .histogram(let histogram): histograms[value.tag, default: []].append((event.step, histogram))
                            case .other: Issue.record("unexpected value \(value.tag)")
                            }
                        }
                    case .sessionLog(.start): restarts.append(event.step)
                    default: break
                    }
                }
            }
        }
        #expect(restarts == [2, 2])  // train and validation: the resumed run starts at epoch 2
        let expected: [String: [Double]] = [
            "train epoch_accuracy": [0.7549999952316284, 0.8125, 0.7983333468437195, 0.800000011920929, 0.8083333373069763, 0.8041666746139526, 0.8191666603088379, 0.8141666650772095],
            "train epoch_learning_rate": [0.0010000000474974513, 0.0010000000474974513, 0.0010000000474974513, 0.0010000000474974513, 0.0010000000474974513, 0.0010000000474974513, 0.0010000000474974513, 0.0010000000474974513],
            "train epoch_loss": [0.6122812032699585, 0.48404717445373535, 0.48736947774887085, 0.49813565611839294, 0.49208226799964905, 0.4826508164405823, 0.4400782287120819, 0.4589253067970276],
            "train epoch_phase": [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0],
            "validation epoch_accuracy": [0.9166666865348816, 0.9200000166893005, 0.9266666769981384, 0.9066666960716248, 0.9166666865348816, 0.9266666769981384, 0.903333306312561, 0.8899999856948853],
            "validation epoch_loss": [0.24300633370876312, 0.2034745216369629, 0.2174805849790573, 0.24549399316310883, 0.25099167227745056, 0.2248901128768921, 0.24048125743865967, 0.23119337856769562],
        ]
        #expect(Set(scalars.keys) == Set(expected.keys))
        for (tag, values) in expected {
            #expect(scalars[tag]?.map(\.0) == Array(0..<8), "\(tag)")
            #expect(scalars[tag]?.map { Double($0.1) } == values, "\(tag)")
        }
        let last: [String: (num: Double, min: Double, max: Double)] = [
            "bn1/beta/histogram": (300, -0.26425227522850037, 0.324203222990036),
            "bn1/gamma/histogram": (300, 0.7008582949638367, 1.37332022190094),
            "bn1/moving_mean/histogram": (300, -1.2737956047058105, 0.9836208820343018),
            "bn1/moving_variance/histogram": (300, 0.4658238887786865, 4.9391279220581055),
            "bn2/beta/histogram": (100, -0.3390401005744934, 0.20645149052143097),
            "bn2/gamma/histogram": (100, 0.6534641981124878, 1.2588059902191162),
            "bn2/moving_mean/histogram": (100, -0.5087950825691223, 0.7843117713928223),
            "bn2/moving_variance/histogram": (100, 3.636622190475464, 10.29015827178955),
            "hidden1/bias/histogram": (300, -0.26194441318511963, 0.2652406692504883),
            "hidden1/kernel/histogram": (6000, -1.192787528038025, 1.1828155517578125),
            "hidden2/bias/histogram": (100, -0.2504202723503113, 0.2023186981678009),
            "hidden2/kernel/histogram": (30000, -0.3694859743118286, 0.3797306716442108),
            "new_outputs/bias/histogram": (3, -0.010051997378468513, 0.0030665891245007515),
            "new_outputs/kernel/histogram": (300, -0.25512924790382385, 0.2129858136177063),
        ]
        #expect(Set(histograms.keys) == Set(last.keys))
        for (tag, figures) in last {
            #expect(histograms[tag]?.map(\.0) == Array(0..<8), "\(tag)")
            let final = try #require(histograms[tag]?.last?.1)
            #expect(final.count == figures.num && final.minimum == figures.min && final.maximum == figures.max, "\(tag)")
            #expect(final.bucketCounts.reduce(0, +) == figures.num && final.bucketLimits.count == 30, "\(tag)")
        }
    }

    struct Damage: Sendable, CustomStringConvertible {
        let description: String
        let change: @Sendable ([UInt8]) -> [UInt8]
        let error: FormatError.Reason
    }

    /// The first record of the peer file is the file-version event: 8 length bytes, 4 length-CRC
    /// bytes, 24 data bytes, 4 data-CRC bytes. The CRCs are those TensorBoard's `masked_crc32c`
    /// gives for the damaged bytes (stored, then computed).
    static let damages: [Damage] = [
        Damage(description: "length CRC flipped", change: { var b = $0; b[8] ^= 1; return b },
               error: .checksumMismatch(at: .offset(8), expected: "0x224b7fa2", found: "0x224b7fa3")),
        Damage(description: "a data byte flipped", change: { var b = $0; b[20] ^= 0x40; return b },
               error: .checksumMismatch(at: .offset(36), expected: "0x9d8fedec", found: "0x61789cfd")),
        Damage(description: "a length past the end", change: { bytes in
            var b = bytes
            let length = UInt64(1) << 40
            b.replaceSubrange(0..<12, with: length.littleEndianBytes + CRC32C.mask(CRC32C.checksum(length.littleEndianBytes)).littleEndianBytes)
            return b
        }, error: .malformed(at: .offset(0), expected: "a record length within the file (1198 bytes)", found: "1099511627776")),
    ]

    @Test(arguments: damages) func damagedRecordsAreRefused(_ damage: Damage) throws {
        let bytes = damage.change(Array(try #require(FileManager.default.contents(atPath: Self.peerFile))))
        let error = try #require(throws: FormatError.self) {
            _ = try bytes.withUnsafeBytes { try TFRecord.records(in: $0, file: "x.tfevents") }
        }
        #expect(error == FormatError(file: "x.tfevents", damage.error))
        // Recovering a log after a crash stops there instead.
        let recovered = try bytes.withUnsafeBytes { try TFRecord.records(in: $0, file: "x.tfevents", stopAtDamage: true) }
        #expect(recovered.records.isEmpty && recovered.validLength == 0)
    }

    @Test func tornTailsStopReadingAndAreCutOnResume() throws {
        let peer = Array(try #require(FileManager.default.contents(atPath: Self.peerFile)))
        let frames = Self.peerEvents.map { TFRecord.frame($0.serialized) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-tb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/events.out.tfevents.1.test"
        // A writer killed in the middle of a record: half of a sixth record.
        let torn = frames[2]
        try Data(peer + torn.prefix(torn.count / 2)).write(to: URL(fileURLWithPath: path))
        #expect(try EventFileReader.events(at: path) == Self.peerEvents)
        // A run continuing after its checkpoint of step 1 keeps steps 0 and 1, and nothing later.
        let removed = try EventFileReader.truncate(path, afterStep: 1)
        let kept = frames[0].count + frames[1].count + frames[2].count
        #expect(removed == peer.count + torn.count / 2 - kept)
        #expect(try EventFileReader.events(at: path) == Array(Self.peerEvents.prefix(3)))
        #expect(try EventFileReader.truncate(path, afterStep: 1) == 0)
        // A writer killed before its first record leaves an empty file: nothing to read or cut.
        let empty = folder + "/events.out.tfevents.2.test"
        try Data().write(to: URL(fileURLWithPath: empty))
        #expect(try EventFileReader.events(at: empty).isEmpty)
        #expect(try EventFileReader.truncate(empty, afterStep: 0) == 0)
    }

    @Test func writerAppendsFramedEventsAfterItsVersion() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-tb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try EventFileWriter(directory: folder + "/run/train", wallTime: 1_700_000_000)
        try writer.append(Self.peerEvents[1])
        try writer.sync()
        #expect(writer.path.hasPrefix(folder + "/run/train/events.out.tfevents.1700000000."))
        #expect(EventFileReader.eventFiles(in: folder + "/run/train") == [writer.path])
        #expect(try EventFileReader.events(at: writer.path) == Array(Self.peerEvents.prefix(2)))
        // Files created later sort later, whatever the clock says (readers take them in name order).
        let second = try EventFileWriter(directory: folder + "/run/train", wallTime: 1_700_000_000)
        let third = try EventFileWriter(directory: folder + "/run/train", wallTime: 1_600_000_000)
        #expect(EventFileReader.eventFiles(in: folder + "/run/train") == [writer.path, second.path, third.path])
        #expect(second.path.hasPrefix(folder + "/run/train/events.out.tfevents.1700000001."))
        let error = try #require(throws: FormatError.self) { try EventFileWriter(directory: "/proc/zoo-no", wallTime: 0) }
        #expect(error.exitCode == 73)
    }
}
