/// TFRecord framing, the container of TensorFlow event files (`tensorflow/core/lib/io/record_writer.cc`;
/// TensorBoard's `tensorboard/summary/writer/record_writer.py`):
///
///     uint64  length            little-endian
///     uint32  masked CRC-32C of the 8 length bytes
///     byte    data[length]      one serialized Event
///     uint32  masked CRC-32C of data
///
/// The masked CRC is `CRC32C.mask` (rotate right by 15, add 0xa282ead8).
///
///     from tensorboard.summary.writer.record_writer import RecordWriter
///     RecordWriter(open("events.out.tfevents.x", "wb")).write(event.SerializeToString())
public enum TFRecord {
    /// Bytes of framing around each record: 8 + 4 before the data, 4 after.
    public static let overhead = 16

    /// The framed record of `data`.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = UInt64(data.count).littleEndianBytes
        var record = length
        record.reserveCapacity(data.count + overhead)
        record += CRC32C.mask(CRC32C.checksum(length)).littleEndianBytes
        record += data
        record += CRC32C.mask(CRC32C.checksum(data)).littleEndianBytes
        return record
    }

    /// One record found in a file: where it starts and ends, and its data.
    public struct Record: Sendable, Equatable {
        /// Offset of the record's first framing byte.
        public let offset: Int
        /// Offset just past its last byte (where the next record starts).
        public let end: Int
        /// The payload (a serialized Event).
        public let data: [UInt8]
    }

    /// The complete records at the start of `bytes`, each CRC checked, and where they stop.
    ///
    /// A writer killed mid-record leaves a torn tail: scanning stops there, as TensorBoard's
    /// reader does, and `validLength` says where the last complete record ends.
    /// - Parameters:
    ///   - bytes: the file's content.
    ///   - file: the file's path, for errors.
    ///   - stopAtDamage: treat a bad CRC or length like a torn tail (stop there) instead of
    ///     throwing; for recovering a log after a crash, which may leave garbage at its end.
    /// - Returns: the records and the length of the valid prefix.
    /// - Throws: `FormatError` with `.checksumMismatch` for a complete record whose CRC does not
    ///   match (corruption, not a torn write) and `.malformed` for an impossible length, unless `stopAtDamage`.
    public static func records(in bytes: UnsafeRawBufferPointer, file: String, stopAtDamage: Bool = false) throws -> (records: [Record], validLength: Int) {
        var records: [Record] = []
        var offset = 0
        while bytes.count - offset >= 12 {
            let record: Record?
            do {
                record = try self.record(in: bytes, at: offset, file: file)
            } catch where stopAtDamage {
                break
            }
            guard let record else { break }  // torn: the data or its CRC is not all there
            records.append(record)
            offset = record.end
        }
        return (records, offset)
    }

    /// The record at `offset`, nil if it is cut short by the end of `bytes`.
    static func record(in bytes: UnsafeRawBufferPointer, at offset: Int, file: String) throws -> Record? {
        let length = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let lengthCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        let computedLengthCRC = CRC32C.mask(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 8])))
        guard lengthCRC == computedLengthCRC else {
            throw FormatError(file: file, .checksumMismatch(at: .offset(offset + 8), expected: CRC32C.text(lengthCRC), found: CRC32C.text(computedLengthCRC)))
        }
        guard length <= UInt64(bytes.count) else {
            throw FormatError(file: file, .malformed(at: .offset(offset), expected: "a record length within the file (\(bytes.count) bytes)", found: "\(length)"))
        }
        let dataEnd = offset + 12 + Int(length)  // no overflow: both terms are at most the file's size
        guard dataEnd <= bytes.count - 4 else { return nil }
        let data = UnsafeRawBufferPointer(rebasing: bytes[(offset + 12)..<dataEnd])
        let dataCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: dataEnd, as: UInt32.self))
        let computed = CRC32C.mask(CRC32C.checksum(data))
        guard dataCRC == computed else {
            throw FormatError(file: file, .checksumMismatch(at: .offset(dataEnd), expected: CRC32C.text(dataCRC), found: CRC32C.text(computed)))
        }
        return Record(offset: offset, end: dataEnd + 4, data: Array(data))
    }
}
