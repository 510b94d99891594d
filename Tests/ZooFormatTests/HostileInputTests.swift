import Foundation
import Testing
@testable import ZooFormat

/// Inputs built to exhaust memory or time: each is refused with a typed error before it can.
/// (The same inputs under an address-space limit, through the `zoo` binary: ZooCLITests/HostileInputCLITests.)
@Suite struct HostileInputTests {
    /// `"[" × 100,000` and `{"a": × 100,000`: refused at depth 129, before any recursion gets deep.
    @Test(arguments: ["[", "{\"a\":"])
    func jsonNested100000Deep(_ opener: String) throws {
        let text = String(repeating: opener, count: 100_000)
        let failure = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
        #expect(failure.expected.hasPrefix("nesting no deeper than 128"))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write(safetensorsBytes("{\"a\":" + text, data: []), to: "deep.safetensors")
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(path) }
        #expect(error.exitCode == 65)
        #expect(error.description.contains("nesting no deeper than 128"))
    }

    /// A JSON document of more values than any header needs (`[1,1,1,…]`, 5M of them).
    @Test func jsonWithTooManyValues() throws {
        let text = "[" + String(repeating: "1,", count: 5_000_000) + "1]"
        let failure = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
        #expect(failure.expected == "at most \(JSONParser.defaultMaximumValues) values in the document")
    }

    /// safetensors caps its header at 100 MB (the spec's limit): one byte more is refused from
    /// the 8-byte length alone, and a 100 MB header the file does not hold is refused unread.
    @Test func safetensorsHeaderOf100MB() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let over = try directory.write(safetensorsBytes("{}", data: [], declaredLength: 100_000_001), to: "over.safetensors")
        let error = try #require(throws: FormatError.self) { try TensorArchive.open(over) }
        #expect(error.reason == .malformed(at: .offset(0), expected: "a header size of at most 100000000 bytes", found: "100000001"))
        let claimed = try directory.write(safetensorsBytes(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [], declaredLength: 100_000_000), to: "claimed.safetensors")
        let truncated = try #require(throws: FormatError.self) { try TensorArchive.open(claimed) }
        guard case .truncated(.offset(8), 100_000_000, _, "the JSON header") = truncated.reason else {
            Issue.record("expected a truncated header, got \(truncated)")
            return
        }
    }

    /// A list that contains itself (`l = []; l.append(l)` through the memo): the flattener stops at depth 64.
    @Test func pickleWithARecursiveMemoReference() throws {
        // PROTO 2, EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP
        let pickle: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]
        let error = try #require(throws: FormatError.self) { try Self.flatten(pickle) }
        #expect(error.description.contains("containers nested at most 64 deep"))
        #expect(error.description.contains("a container may contain itself"))
    }

    /// `l0 = [7, 8]; l1 = [l0, l0, []]; … l40`: 2^40 paths through shared lists; the walk stops at 2^20 values.
    @Test func pickleWithExponentiallySharedLists() throws {
        var pickle: [UInt8] = [0x80, 0x02]
        pickle += [0x28, 0x4B, 0x07, 0x4B, 0x08, 0x6C, 0x71, 0x00]  // MARK, 7, 8, LIST, BINPUT 0: scalars, one metadata value
        pickle += [0x28, 0x68, 0x00, 0x68, 0x00, 0x5D, 0x6C, 0x71, 0x01]  // [l0, l0, []] → BINPUT 1
        for level in 2..<41 {
            pickle += [0x28, 0x68, UInt8(level - 1), 0x68, UInt8(level - 1), 0x5D, 0x6C, 0x71, UInt8(level)]
        }
        pickle.append(0x2E)
        let error = try #require(throws: FormatError.self) { try Self.flatten(pickle) }
        #expect(error.description.contains("\(TorchStateFlattener.maximumVisits) values in all"), "\(error)")
    }

    /// A pickle building one huge list by repeated APPENDs is bounded by its own length
    /// (one opcode per item); a list grown past the machine's stack limit is refused.
    @Test func pickleStackIsBounded() throws {
        var pickle: [UInt8] = [0x80, 0x02, 0x28]  // PROTO 2, MARK
        pickle += [UInt8](repeating: 0x4E, count: PickleMachine.maximumStack + 1)  // NONE × (2^20 + 1)
        pickle += [0x6C, 0x2E]
        let error = try #require(throws: FormatError.self) { try Self.flatten(pickle) }
        #expect(error.exitCode == 65)
    }

    static func flatten(_ pickle: [UInt8]) throws {
        try pickle.withUnsafeBytes { buffer in
            let result = try PickleMachine.load(ByteReader(buffer, file: "bomb.pkl"), host: TorchPickleHost(file: "bomb.pkl"))
            var flattener = TorchStateFlattener(file: "bomb.pkl", location: .key("data.pkl"))
            try withExtendedLifetime(result.arena) { try flattener.flatten(result.value) }
        }
    }

    /// Zip members claiming more than deflate can produce from their bytes, or more than this
    /// machine's memory, are refused before anything is allocated.
    @Test func zipBombsAreRefusedBySize() throws {
        let ratio = try #require(throws: FormatError.self) {
            try Deflate.checkSize(2_000_000_000, from: 1000, file: "bomb.npz", member: "w.npy")
        }
        #expect(ratio.reason == .malformed(at: .key("w.npy"), expected: "an uncompressed size deflate can reach from 1000 bytes", found: "2000000000"))
        let memory = try #require(throws: FormatError.self) {
            try Deflate.checkSize(physicalMemory + 1, from: physicalMemory, file: "bomb.npz", member: "w.npy")
        }
        #expect(memory.reason == .malformed(at: .key("w.npy"), expected: "an uncompressed size within this machine's memory (\(physicalMemory) bytes)", found: "\(physicalMemory + 1)"))
        #expect(throws: FormatError.self) { try HeapBuffer(checkedCount: physicalMemory + 1, file: "bomb.npz", what: "inflating 'w.npy'") }
    }

    /// A member whose stream inflates past what its directory entry announces stops at the announced size.
    @Test func zipMemberInflatingPastItsSize() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let stream = try zeros.withUnsafeBytes { try Deflate.deflate($0) }
        let error = try #require(throws: FormatError.self) {
            try stream.withUnsafeBytes { try Deflate.inflate($0, outputCount: 4096, crc: 0, file: "bomb.zip", member: "w.npy") }
        }
        #expect(error.reason == .malformed(at: .key("w.npy"), expected: "4096 inflated bytes", found: "more"))
    }
}
