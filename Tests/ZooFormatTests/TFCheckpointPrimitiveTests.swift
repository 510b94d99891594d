import Testing
@testable import ZooFormat

/// CRC-32C, Snappy and the protobuf wire reader under TensorFlow checkpoints.
@Suite struct TFCheckpointPrimitiveTests {
    // MARK: CRC-32C

    @Test(arguments: [
        ("", UInt32(0)),
        ("a", 0xC1D0_4330),
        ("123456789", 0xE306_9283),
        ("The quick brown fox jumps over the lazy dog", 0x2262_0404),
    ])
    func crc32cKnownValues(text: String, expected: UInt32) {
        #expect(CRC32C.checksum(Array(text.utf8)) == expected)
    }

    @Test func crc32cOf32ZerosAndOnes() {
        // RFC 3720 (iSCSI), appendix B.4.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func crc32cContinuesAcrossPieces() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = CRC32C.checksum(Array(bytes[..<split]))
            #expect(CRC32C.checksum(Array(bytes[split...]), initial: first) == whole, "split at \(split)")
        }
    }

    @Test func maskRoundTrips() {
        for value: UInt32 in [0, 1, 0xE306_9283, 0xFFFF_FFFF, 0x8000_0000] {
            #expect(CRC32C.unmask(CRC32C.mask(value)) == value)
        }
        // leveldb/util/crc32c_test.cc: Mask(crc) != crc, Mask(Mask(crc)) != crc.
        let crc = CRC32C.checksum(Array("foo".utf8))
        #expect(CRC32C.mask(crc) != crc)
        #expect(CRC32C.mask(CRC32C.mask(crc)) != crc)
    }

    // MARK: Snappy

    static func snappy(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try Snappy.decompress($0, file: "t", what: "block") }
    }

    @Test(arguments: [
        // length 5, literal "hello"
        ([0x05, 0x10] + Array("hello".utf8), Array("hello".utf8)),
        // length 8: literal "ab", then copy-1 (length 6, offset 2) → "abababab"
        ([0x08, 0x04, 0x61, 0x62, 0b0000_1001, 0x02], Array("abababab".utf8)),
        // length 7: literal "abc", copy-2 of length 4 at offset 3 → "abcabca"
        ([0x07, 0x08, 0x61, 0x62, 0x63, 0b0000_1110, 0x03, 0x00], Array("abcabca".utf8)),
        // length 4: literal "xy", copy-4 of length 2 at offset 2
        ([0x04, 0x04, 0x78, 0x79, 0b0000_0111, 0x02, 0x00, 0x00, 0x00], Array("xyxy".utf8)),
        // length 0
        ([0x00], []),
    ] as [([UInt8], [UInt8])])
    func snappyDecodes(block: [UInt8], expected: [UInt8]) throws {
        #expect(try Self.snappy(block) == expected)
    }

    @Test func snappyLongLiteral() throws {
        // A 100-byte literal uses tag 60 << 2 and one length byte (99).
        let payload = (0..<100).map { UInt8($0) }
        #expect(try Self.snappy([100, 60 << 2, 99] + payload) == payload)
    }

    @Test(arguments: [
        ("empty input", [] as [UInt8]),
        ("copy before any output", [0x04, 0b0000_1001, 0x01]),
        ("copy offset 0", [0x08, 0x04, 0x61, 0x62, 0b0000_1001, 0x00]),
        ("copy offset past output", [0x08, 0x04, 0x61, 0x62, 0b0000_1001, 0x03]),
        ("literal past the end", [0x05, 0x10, 0x61]),
        ("shorter than declared", [0x06, 0x04, 0x61, 0x62]),
        ("longer than declared", [0x01, 0x04, 0x61, 0x62]),
        ("declared length no input can reach", [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]),
        ("unterminated varint", [0xFF, 0xFF]),
        ("truncated copy-4", [0x04, 0x04, 0x78, 0x79, 0b0000_0111, 0x02]),
    ] as [(String, [UInt8])])
    func snappyRejects(_ name: String, block: [UInt8]) {
        #expect(throws: FormatError.self, "\(name)") { try Self.snappy(block) }
    }

    // MARK: Protobuf

    @Test func protoReadsFields() throws {
        // field 1 varint 300; field 2 bytes "hi"; field 6 fixed32; field 9 (unknown) varint, skipped.
        let message: [UInt8] = [0x08, 0xAC, 0x02, 0x12, 0x02, 0x68, 0x69, 0x35, 0x78, 0x56, 0x34, 0x12, 0x48, 0x01]
        try message.withUnsafeBytes { bytes in
            var reader = ProtoReader(bytes, file: "t", context: "m")
            var seen: [Int] = []
            while let (number, wireType) = try reader.nextField() {
                seen.append(number)
                switch number {
                case 1: #expect(try reader.varint() == 300)
                case 2: #expect(Array(try reader.lengthDelimited()) == [0x68, 0x69])
                case 6: #expect(try reader.fixed32() == 0x1234_5678)
                default: try reader.skip(wireType)
                }
            }
            #expect(seen == [1, 2, 6, 9])
        }
    }

    @Test(arguments: [
        ("length past the end", [0x12, 0x05, 0x68] as [UInt8]),
        ("unterminated varint", [0x08, 0xFF, 0xFF]),
        ("eleven-byte varint", [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]),
        ("group wire type", [0x0B]),
        ("truncated fixed32", [0x35, 0x01, 0x02]),
        ("field number 0", [0x00, 0x01]),
    ])
    func protoRejects(_ name: String, message: [UInt8]) {
        #expect(throws: FormatError.self, "\(name)") {
            try message.withUnsafeBytes { bytes in
                var reader = ProtoReader(bytes, file: "t", context: "m")
                while let (_, wireType) = try reader.nextField() { try reader.skip(wireType) }
            }
        }
    }

    @Test func bundleEntryDecodes() throws {
        // dtype 1, shape [8, 6], shard 0, offset 16, size 192, crc 0xdeadbeef, one slice.
        let shape: [UInt8] = [0x12, 0x02, 0x08, 0x08, 0x12, 0x02, 0x08, 0x06]
        let message: [UInt8] = [0x08, 0x01, 0x12, UInt8(shape.count)] + shape
            + [0x18, 0x00, 0x20, 0x10, 0x28, 0xC0, 0x01, 0x35, 0xEF, 0xBE, 0xAD, 0xDE, 0x3A, 0x00]
        let entry = try message.withUnsafeBytes { try TFBundleEntry($0, file: "t", key: "k") }
        #expect(entry.dtypeCode == 1)
        #expect(entry.shape == [8, 6])
        #expect(entry.offset == 16)
        #expect(entry.size == 192)
        #expect(entry.maskedCRC == 0xDEAD_BEEF)
        #expect(entry.sliceCount == 1)
    }

    @Test(arguments: [
        ("hidden1/kernel", nil), ("hidden1/kernel/Adam", "optimizer"), ("hidden1/kernel/Adam_1", "optimizer"),
        ("beta1_power", "optimizer"), ("beta2_power_1", "optimizer"), ("global_step", "optimizer"),
        ("dense/bias/Momentum", "optimizer"), ("dense/bias/RMSProp_1", "optimizer"), ("Adam", nil),
        ("model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", nil),
        ("optimizer/_variables/1/.ATTRIBUTES/VARIABLE_VALUE", "optimizer"),
        ("save_counter/.ATTRIBUTES/VARIABLE_VALUE", "optimizer"),
        ("model/dense/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE", "optimizer"),
        ("batch_norm/moving_mean", nil),
    ] as [(String, String?)])
    func optimizerRoles(name: String, role: String?) {
        #expect(TFVariableRole.role(of: name) == role)
    }

    @Test func shardNames() {
        #expect(TFCheckpointReader.shardPath("a/model.ckpt", 1, 2) == "a/model.ckpt.data-00001-of-00002")
    }
}
