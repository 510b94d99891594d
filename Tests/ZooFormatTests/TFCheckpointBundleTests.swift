import Foundation
import Testing
@testable import ZooFormat

/// Writes small TensorBundle checkpoints the way TensorFlow lays them out, with
/// knobs TensorFlow itself does not turn (Snappy blocks, big-endian data, broken
/// entries), so each rule of the reader is tested on its own.
struct BundleBuilder {
    struct Variable {
        var name: String
        var dtype = 1
        var shape: [Int]
        var data: [UInt8]
        var shard = 0
        var offset: Int?
        var size: Int?
        var crc: UInt32?
        var unknownRank = false
        /// Serialized TensorSliceProtos: the variable is partitioned, its data in `rawEntries`.
        var slices: [[UInt8]] = []
    }

    /// Entries written as they are (slice entries of partitioned variables).
    var rawEntries: [([UInt8], [UInt8])] = []

    var variables: [Variable] = []
    var shardCount = 1
    var bigEndian = false
    var snappy = false
    var entriesPerBlock = 2
    var restartInterval = 2
    var header = true
    /// Write the entries in key order, as TensorFlow must.
    var sorted = true

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { varint(UInt64(number << 3)) + varint(value) }
    static func field(_ number: Int, bytes: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + varint(UInt64(bytes.count)) + bytes }

    /// A block: entries with shared-prefix keys, restart points every `restartInterval` entries.
    func block(_ entries: [([UInt8], [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = []
        var restarts: [UInt32] = []
        var previous: [UInt8] = []
        for (index, (key, value)) in entries.enumerated() {
            var shared = 0
            if index % restartInterval == 0 {
                restarts.append(UInt32(bytes.count))
            } else {
                while shared < min(key.count, previous.count) && key[shared] == previous[shared] { shared += 1 }
            }
            bytes += Self.varint(UInt64(shared)) + Self.varint(UInt64(key.count - shared)) + Self.varint(UInt64(value.count))
            bytes += key[shared...] + value
            previous = key
        }
        if restarts.isEmpty { restarts = [0] }
        for restart in restarts { bytes += withUnsafeBytes(of: restart.littleEndian, Array.init) }
        bytes += withUnsafeBytes(of: UInt32(restarts.count).littleEndian, Array.init)
        return bytes
    }

    /// Snappy with literals only (valid, if not small).
    static func snappyLiterals(_ bytes: [UInt8]) -> [UInt8] {
        var output = varint(UInt64(bytes.count))
        var at = 0
        while at < bytes.count {
            let count = min(60_000, bytes.count - at)
            if count <= 60 {
                output.append(UInt8(count - 1) << 2)
            } else {
                output += [61 << 2, UInt8((count - 1) & 0xFF), UInt8((count - 1) >> 8)]
            }
            output += bytes[at..<at + count]
            at += count
        }
        return output
    }

    /// Appends a block with its trailer to `file`; returns its handle.
    func appendBlock(_ contents: [UInt8], to file: inout [UInt8]) -> [UInt8] {
        let stored = snappy ? Self.snappyLiterals(contents) : contents
        let type: UInt8 = snappy ? 1 : 0
        let offset = file.count
        file += stored
        let crc = CRC32C.checksum([type], initial: CRC32C.checksum(stored))
        file += [type] + withUnsafeBytes(of: CRC32C.mask(crc).littleEndian, Array.init)
        return Self.varint(UInt64(offset)) + Self.varint(UInt64(stored.count))
    }

    func entryProto(_ variable: Variable, offset: Int) -> [UInt8] {
        var shape: [UInt8] = []
        for extent in variable.shape { shape += Self.field(2, bytes: Self.field(1, varint: UInt64(extent))) }
        if variable.unknownRank { shape += Self.field(3, varint: 1) }
        var proto = Self.field(1, varint: UInt64(variable.dtype)) + Self.field(2, bytes: shape)
        if variable.shard != 0 { proto += Self.field(3, varint: UInt64(variable.shard)) }
        proto += Self.field(4, varint: UInt64(variable.offset ?? offset))
        proto += Self.field(5, varint: UInt64(variable.size ?? variable.data.count))
        let crc = variable.crc ?? CRC32C.mask(CRC32C.checksum(variable.data))
        proto += [0x35] + withUnsafeBytes(of: crc.littleEndian, Array.init)
        for slice in variable.slices { proto += Self.field(7, bytes: slice) }
        return proto
    }

    /// Writes PREFIX.index and PREFIX.data-0000i-of-0000n into `directory`; returns the prefix.
    func write(to directory: URL) throws -> String {
        let prefix = directory.appendingPathComponent("model.ckpt").path
        var shards = [[UInt8]](repeating: [], count: max(shardCount, 1))
        var entries: [([UInt8], [UInt8])] = []
        if header {
            var proto = Self.field(1, varint: UInt64(shardCount))
            if bigEndian { proto += Self.field(2, varint: 1) }
            proto += Self.field(3, bytes: Self.field(1, varint: 1))
            entries.append(([], proto))
        }
        for variable in sorted ? variables.sorted(by: { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }) : variables {
            let shard = min(variable.shard, shards.count - 1)
            let offset = shards[shard].count
            shards[shard] += variable.data
            entries.append((Array(variable.name.utf8), entryProto(variable, offset: offset)))
        }
        entries += rawEntries
        if sorted {
            let header = entries.filter { $0.0.isEmpty }
            entries = header + entries.filter { !$0.0.isEmpty }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
        }
        var file: [UInt8] = []
        var index: [([UInt8], [UInt8])] = []
        var start = 0
        while start < entries.count {
            let chunk = Array(entries[start..<min(entries.count, start + entriesPerBlock)])
            let handle = appendBlock(block(chunk), to: &file)
            index.append((chunk[chunk.count - 1].0, handle))
            start += entriesPerBlock
        }
        let metaindex = appendBlock(block([]), to: &file)
        let indexHandle = appendBlock(block(index), to: &file)
        var footer = metaindex + indexHandle
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += withUnsafeBytes(of: SSTable.magic.littleEndian, Array.init)
        file += footer
        try Data(file).write(to: URL(fileURLWithPath: prefix + ".index"))
        for (number, bytes) in shards.enumerated() {
            try Data(bytes).write(to: URL(fileURLWithPath: TFCheckpointReader.shardPath(prefix, number, max(shardCount, 1))))
        }
        return prefix
    }

    static func floats(_ values: [Float], bigEndian: Bool = false) -> [UInt8] {
        values.flatMap { value in
            withUnsafeBytes(of: bigEndian ? value.bitPattern.bigEndian : value.bitPattern.littleEndian, Array.init)
        }
    }
}

@Suite struct TFCheckpointBundleTests {
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func standard() -> BundleBuilder {
        var builder = BundleBuilder()
        builder.variables = [
            .init(name: "dense/bias", shape: [3], data: BundleBuilder.floats([0.5, -1, 2])),
            .init(name: "dense/kernel", shape: [2, 3], data: BundleBuilder.floats([1, 2, 3, 4, 5, 6])),
            .init(name: "dense/kernel/Momentum", shape: [2, 3], data: BundleBuilder.floats([0, 0, 0, 0, 0, 1])),
            .init(name: "step", dtype: 9, shape: [], data: withUnsafeBytes(of: Int64(7).littleEndian, Array.init)),
            .init(name: "vocabulary", dtype: 7, shape: [2], data: [1, 1, 0x61, 0x62]),
            .init(name: "handle", dtype: 20, shape: [], data: []),
        ]
        return builder
    }

    @Test(arguments: [(false, 2, 16), (true, 2, 1), (true, 100, 3), (false, 1, 1)])
    func readsBlocksCompressedOrNot(snappy: Bool, entriesPerBlock: Int, restartInterval: Int) throws {
        var builder = Self.standard()
        builder.snappy = snappy
        builder.entriesPerBlock = entriesPerBlock
        builder.restartInterval = restartInterval
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = try builder.write(to: directory)
        let archive = try TensorArchive.open(prefix)
        #expect(archive.tensors.map(\.name) == ["dense/bias", "dense/kernel", "dense/kernel/Momentum", "step"])
        #expect(archive.tensors.map(\.name) == archive.tensors.map(\.name).sorted())
        #expect(try archive.tensor(named: "dense/kernel").floats() == [1, 2, 3, 4, 5, 6])
        #expect(try archive.tensor(named: "dense/bias").floats() == [0.5, -1, 2])
        #expect(try archive.tensor(named: "step").doubles() == [7])
        #expect(try archive.tensor(named: "dense/kernel/Momentum").attributes["role"] == "optimizer")
        #expect(archive.metadata["skipped"] == "handle (DT_RESOURCE), vocabulary (DT_STRING)")
    }

    @Test func bigEndianBundles() throws {
        var builder = BundleBuilder()
        builder.bigEndian = true
        builder.variables = [.init(name: "w", shape: [2, 2], data: BundleBuilder.floats([1.5, -2, 3, 4], bigEndian: true))]
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = try TensorArchive.open(try builder.write(to: directory))
        let tensor = try archive.tensor(named: "w")
        #expect(tensor.byteOrder == .big)
        #expect(archive.metadata["endianness"] == "big")
        #expect(try tensor.floats() == [1.5, -2, 3, 4])
        #expect(Array(try tensor.canonicalBytes().copied()) == BundleBuilder.floats([1.5, -2, 3, 4]))
    }

    @Test func shardsAreFoundByNumber() throws {
        var builder = Self.standard()
        builder.shardCount = 3
        builder.variables[1].shard = 2
        builder.variables[2].shard = 1
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = try TensorArchive.open(try builder.write(to: directory))
        #expect(archive.metadata["shards"] == "3")
        #expect(try archive.tensor(named: "dense/kernel").floats() == [1, 2, 3, 4, 5, 6])
        #expect(try archive.tensor(named: "dense/kernel/Momentum").floats() == [0, 0, 0, 0, 0, 1])
    }

    /// A variable of shape [2, 3] saved as row slices `rows` (start, count) whose protos name only
    /// the first dimension (the second is whole); the slice data follows `w` in the shard.
    static func partitionedBuilder(rows: [(Int, Int)] = [(0, 1), (1, 1)], missingSlice: Bool = false) -> BundleBuilder {
        var builder = BundleBuilder()
        builder.variables = [.init(name: "w", shape: [1], data: BundleBuilder.floats([9]), size: 4)]
        builder.variables[0].crc = CRC32C.mask(CRC32C.checksum(BundleBuilder.floats([9])))
        func extent(_ start: Int, _ length: Int) -> [UInt8] {
            BundleBuilder.field(1, bytes: BundleBuilder.field(1, varint: UInt64(start)) + BundleBuilder.field(2, varint: UInt64(length)))
        }
        var partitioned = BundleBuilder.Variable(name: "v", shape: [2, 3], data: [], size: 0)
        partitioned.slices = rows.map { extent($0.0, $0.1) }
        builder.variables.append(partitioned)
        var offset = 4
        for (index, (start, count)) in rows.enumerated() where !(missingSlice && index == rows.count - 1) {
            let values = (0..<count * 3).map { Float(start * 3 + $0 + 1) }
            var slice = BundleBuilder.Variable(name: "", shape: [count, 3], data: BundleBuilder.floats(values))
            slice.offset = offset
            let key = TFPartitionedVariable.key(name: "v", extents: [.init(start: start, length: count)])
            builder.rawEntries.append((key, builder.entryProto(slice, offset: offset)))
            builder.variables[0].data += slice.data
            offset += slice.data.count
        }
        return builder
    }

    @Test func partitionedVariableWithImplicitWholeDimensions() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = try TensorArchive.open(try Self.partitionedBuilder().write(to: directory))
        #expect(archive.tensors.map(\.name) == ["v", "w"])
        let v = try archive.tensor(named: "v")
        #expect(v.attributes["slices"] == "2")
        #expect(try v.floats() == [1, 2, 3, 4, 5, 6])
        #expect(try archive.tensor(named: "w").floats() == [9])
    }

    @Test(arguments: [
        ([(0, 2), (1, 1)], false, "overlap"),
        ([(0, 1), (2, 1)], false, "tile the shape"),
        ([(0, 1)], false, "covering 3 of 6"),
        ([(0, 1), (1, 1)], true, "an entry for its slice"),
    ] as [([(Int, Int)], Bool, String)])
    func partitionedVariablesMustBeWhole(rows: [(Int, Int)], missingSlice: Bool, mention: String) throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = try Self.partitionedBuilder(rows: rows, missingSlice: missingSlice).write(to: directory)
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(prefix) }
        #expect(error.exitCode == 65)
        #expect(error.message.contains(mention), "\(error.message)")
    }

    enum Failure { case malformed(String), truncated(String), checksum(String) }

    static let broken: [(String, @Sendable (inout BundleBuilder) -> Void, Failure, Bool)] = [
        // (name, damage, expected failure, fails only when the bytes are read)
        ("shard_id beyond num_shards", { $0.variables[0].shard = 3 }, .malformed("shard_id"), false),
        ("offset past the shard's end", { $0.variables[1].offset = 1000 }, .truncated("the data of 'dense/kernel'"), false),
        ("size disagreeing with the shape", { $0.variables[1].size = 20 }, .malformed("24 bytes for shape [2, 3]"), false),
        ("data CRC wrong", { $0.variables[1].crc = 12345 }, .checksum("dense/kernel"), true),
        ("unknown dtype", { $0.variables[0].dtype = 99 }, .malformed("a TensorFlow DataType"), false),
        ("unknown rank", { $0.variables[0].unknownRank = true }, .malformed("a known shape"), false),
        ("no header entry", { $0.header = false }, .malformed("BundleHeaderProto"), false),
        ("zero shards", { $0.shardCount = 0 }, .malformed("shards"), false),
        ("shape overflowing", { $0.variables[1].shape = [1 << 40, 1 << 40] }, .malformed("overflows"), false),
        ("shape of 2^58 floats", { $0.variables[1].shape = [1 << 29, 1 << 29] }, .malformed("1152921504606846976 bytes for shape"), false),
        ("keys out of order", { builder in
            builder.sorted = false
            builder.variables.swapAt(0, 1)
        }, .malformed("increasing order"), false),
    ]

    @Test(arguments: 0..<broken.count)
    func brokenBundlesFailWithTypedErrors(_ index: Int) throws {
        let (name, damage, expected, onRead) = Self.broken[index]
        var builder = Self.standard()
        damage(&builder)
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = try builder.write(to: directory)
        let error: FormatError
        if onRead {
            let archive = try TensorArchive.open(prefix)
            error = try #require(throws: FormatError.self, "\(name)") {
                for tensor in archive.tensors { _ = try tensor.floats() }
            }
        } else {
            error = try #require(throws: FormatError.self, "\(name)") { try TensorArchive.open(prefix) }
        }
        #expect(error.exitCode == 65, "\(name)")
        switch (expected, error.reason) {
        case (.malformed(let text), .malformed), (.truncated(let text), .truncated), (.checksum(let text), .checksumMismatch), (.malformed(let text), .shapeOverflow):
            #expect(error.message.contains(text), "\(name): \(error.message)")
        default:
            Issue.record("\(name): unexpected \(error)")
        }
    }

    @Test func corruptBlockTrailerCRC() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prefix = try Self.standard().write(to: directory)
        let url = URL(fileURLWithPath: prefix + ".index")
        var bytes = [UInt8](try Data(contentsOf: url))
        // The first block's trailer follows its contents; its CRC is bytes [n+1, n+5). Corrupt a content byte instead.
        bytes[3] ^= 0x20
        try Data(bytes).write(to: url)
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(prefix) }
        guard case .checksumMismatch = error.reason else {
            Issue.record("expected a checksum mismatch, got \(error)")
            return
        }
    }
}
