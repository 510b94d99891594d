import Testing
@testable import ZooFormat

/// The symbolic pickle machine and the torch allowlist, on pickles written by
/// CPython's `pickle.dumps` (hex below) and on hand-made hostile ones.
@Suite struct PyTorchPickleTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    static func load(_ pickle: [UInt8]) throws -> PickleMachine.Result {
        try pickle.withUnsafeBytes { buffer in
            try PickleMachine.load(ByteReader(buffer, file: "t.pkl", member: "data.pkl"), host: TorchPickleHost(file: "t.pkl"))
        }
    }

    static func flatten(_ pickle: [UInt8]) throws -> TorchStateFlattener {
        var flattener = TorchStateFlattener(file: "t.pkl", location: .key("data.pkl"))
        let result = try load(pickle)
        try withExtendedLifetime(result.arena) { try flattener.flatten(result.value) }
        return flattener
    }

    /// pickle.dumps({'a': [1, 2.5, None, True], 'b': {'c': 'x', 7: (1, 2)}, 'big': 2**70, 'neg': -5,
    ///               'k': -70000, 'raw': b'hi', 'u': 'é'}, protocol=p)
    static let protocols: [(Int, String)] = [
        (2, "80027d71002858010000006171015d7102284b014740040000000000004e886558010000006271037d710428580100000063710558010000007871064b074b014b0286710775580300000062696771088a0900000000000000004058030000006e656771094afbffffff58010000006b710a4a90eefeff5803000000726177710b635f636f646563730a656e636f64650a710c58020000006869710d58060000006c6174696e31710e86710f52711058010000007571115802000000c3a97112752e"),
        (3, "80037d71002858010000006171015d7102284b014740040000000000004e886558010000006271037d710428580100000063710558010000007871064b074b014b0286710775580300000062696771088a0900000000000000004058030000006e656771094afbffffff58010000006b710a4a90eefeff5803000000726177710b43026869710c580100000075710d5802000000c3a9710e752e"),
        (4, "8004956b000000000000007d94288c0161945d94284b014740040000000000004e88658c0162947d94288c0163948c0178944b074b014b028694758c03626967948a090000000000000000408c036e6567944afbffffff8c016b944a90eefeff8c037261779443026869948c0175948c02c3a994752e"),
        (5, "8005956b000000000000007d94288c0161945d94284b014740040000000000004e88658c0162947d94288c0163948c0178944b074b014b028694758c03626967948a090000000000000000408c036e6567944afbffffff8c016b944a90eefeff8c037261779443026869948c0175948c02c3a994752e"),
    ]

    @Test(arguments: protocols)
    func readsProtocols2To5(version: Int, hex: String) throws {
        let flattened = try Self.flatten(Self.bytes(hex))
        #expect(flattened.tensors.isEmpty)
        #expect(flattened.metadata == [
            "a": "[1, 2.5, None, True]", "b.c": "x", "b.7": "(1, 2)", "big": "<72-bit integer>",
            "neg": "-5", "k": "-70000", "raw": "<2 bytes>", "u": "é",
        ], "protocol \(version)")
    }

    @Test func orderedDictAndSelfReferenceAreBounded() throws {
        // collections.OrderedDict(a=1), protocol 2.
        let ordered = try Self.flatten(Self.bytes("800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006171024b01732e"))
        #expect(ordered.metadata == ["a": "1"])
        // l = []; l.append(l); {'l': l}: a list that contains itself.
        #expect(throws: FormatError.self) { try Self.flatten(Self.bytes("80027d710058010000006c71015d7102680261732e")) }
    }

    static let hostile: [(String, [UInt8], String)] = [
        ("GLOBAL os.system", [0x80, 0x02, 0x63] + Array("os\nsystem\n".utf8) + [0x71, 0x00, 0x58, 0x04, 0, 0, 0] + Array("echo".utf8) + [0x85, 0x52, 0x2E], "os.system"),
        ("GLOBAL posix.system", [0x80, 0x02, 0x63] + Array("posix\nsystem\n".utf8) + [0x29, 0x52, 0x2E], "posix.system"),
        ("STACK_GLOBAL builtins.eval", [0x80, 0x04, 0x8C, 0x08] + Array("builtins".utf8) + [0x8C, 0x04] + Array("eval".utf8) + [0x93, 0x29, 0x52, 0x2E], "builtins.eval"),
        ("GLOBAL builtins.getattr", [0x80, 0x02, 0x63] + Array("builtins\ngetattr\n".utf8) + [0x2E], "builtins.getattr"),
        ("GLOBAL torch.load", [0x80, 0x02, 0x63] + Array("torch\nload\n".utf8) + [0x2E], "torch.load"),
        ("GLOBAL numpy.core.multiarray._reconstruct", [0x80, 0x02, 0x63] + Array("numpy.core.multiarray\n_reconstruct\n".utf8) + [0x2E], "numpy.core.multiarray._reconstruct"),
        ("a whole module", [0x80, 0x02, 0x63] + Array("__main__\nNet\n".utf8) + [0x29, 0x81, 0x2E], "state_dict()"),
        ("unknown opcode 0xFF", [0x80, 0x02, 0xFF], "0xFF"),
        ("text-mode INT", [0x80, 0x02, 0x49, 0x31, 0x0A, 0x2E], "INT"),
        ("INST", [0x80, 0x02, 0x28, 0x69] + Array("os\nsystem\n".utf8) + [0x2E], "INST"),
        ("EXT1", [0x80, 0x02, 0x82, 0x01, 0x2E], "EXT1"),
        ("out-of-band buffer", [0x80, 0x05, 0x97, 0x2E], "NEXT_BUFFER"),
        ("protocol 6", [0x80, 0x06, 0x4E, 0x2E], "protocol 6"),
        ("empty pickle", [], "truncated"),
        ("no STOP", [0x80, 0x02, 0x4E], "truncated"),
        ("STOP on an empty stack", [0x80, 0x02, 0x2E], "empty stack"),
        ("TUPLE2 on one value", [0x80, 0x02, 0x4E, 0x86, 0x2E], "empty stack"),
        ("APPENDS without MARK", [0x80, 0x02, 0x5D, 0x65, 0x2E], "MARK"),
        ("BINGET of nothing memoized", [0x80, 0x02, 0x68, 0x05, 0x2E], "memo"),
        ("SETITEM on a list", [0x80, 0x02, 0x5D, 0x4E, 0x4E, 0x73, 0x2E], "a dict"),
        ("BINUNICODE longer than the pickle", [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x61, 0x2E], "truncated"),
        ("BINUNICODE8 of 2^63", [0x80, 0x04, 0x8D, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x2E], "length"),
        ("REDUCE of a non-callable", [0x80, 0x02, 0x4E, 0x29, 0x52, 0x2E], "allowed global"),
        ("REDUCE with a non-tuple", [0x80, 0x02, 0x63] + Array("collections\nOrderedDict\n".utf8) + [0x4E, 0x52, 0x2E], "argument tuple"),
        ("persistent id that is not a storage", [0x80, 0x02, 0x4E, 0x51, 0x2E], "persistent id"),
        ("storage of a refused type", [0x80, 0x02, 0x28, 0x58, 0x07, 0, 0, 0] + Array("storage".utf8) + [0x63] + Array("torch\nQInt8Storage\n".utf8) + [0x2E], "torch.QInt8Storage"),
    ]

    @Test(arguments: 0..<hostile.count)
    func refusesHostileAndBrokenPickles(_ index: Int) throws {
        let (name, pickle, mention) = Self.hostile[index]
        let error = try #require(throws: FormatError.self, "\(name)") { _ = try Self.flatten(pickle) }
        #expect(error.exitCode == 65, "\(name)")
        #expect(error.message.contains(mention), "\(name): \(error.message)")
        if case .malformed(let at, _, _) = error.reason {
            guard case .offsetIn("data.pkl", _) = at else {
                Issue.record("\(name): location \(at)")
                return
            }
        }
    }

    @Test func unknownOpcodeNamesItsOffset() throws {
        let error = try #require(throws: FormatError.self) { _ = try Self.load([0x80, 0x02, 0x4E, 0x30, 0xFE]) }
        #expect(error.reason == .malformed(
            at: .offsetIn("data.pkl", 4), expected: "a pickle opcode Zoo reads (protocols 2–5, binary opcodes)", found: "opcode 0xFE"))
    }

    @Test func stackIsBounded() throws {
        // MARK opens are bounded like the stack; a million NONEs are too.
        var pickle: [UInt8] = [0x80, 0x02]
        pickle += [UInt8](repeating: 0x4E, count: PickleMachine.maximumStack + 1)
        pickle.append(0x2E)
        let error = try #require(throws: FormatError.self) { _ = try Self.load(pickle) }
        #expect(error.message.contains("at most \(PickleMachine.maximumStack) values"))
    }

    @Test func deepTupleNestingIsRefused() throws {
        // NONE, then TUPLE1 300 times: (((None,),),…)
        let pickle: [UInt8] = [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 300) + [0x2E]
        let error = try #require(throws: FormatError.self) { _ = try Self.load(pickle) }
        #expect(error.message.contains("nested at most"))
    }

    @Test func longListChainsAreReleasedWithoutRecursion() throws {
        // 200,000 lists, each appended into the next while still empty, then read back:
        // a chain far deeper than any call stack, built by mutating memoized lists.
        let count = 200_000
        var pickle: [UInt8] = [0x80, 0x02]
        for index in 0..<count { pickle += [0x5D, 0x72] + withUnsafeBytes(of: UInt32(index).littleEndian, Array.init) + [0x30] }
        for index in stride(from: count - 1, to: 0, by: -1) {
            // LONG_BINGET index, LONG_BINGET index-1, APPEND, POP
            pickle += [0x6A] + withUnsafeBytes(of: UInt32(index).littleEndian, Array.init)
            pickle += [0x6A] + withUnsafeBytes(of: UInt32(index - 1).littleEndian, Array.init) + [0x61, 0x30]
        }
        pickle += [0x6A] + withUnsafeBytes(of: UInt32(count - 1).littleEndian, Array.init) + [0x2E]
        let result = try Self.load(pickle)
        guard case .list(let top) = result.value else {
            Issue.record("not a list")
            return
        }
        #expect(top.items.count == 1)
        // Flattening stops at its depth bound; releasing the result must not crash.
        var flattener = TorchStateFlattener(file: "t.pkl", location: .key("data.pkl"))
        #expect(throws: FormatError.self) { try withExtendedLifetime(result.arena) { try flattener.flatten(result.value) } }
    }

    @Test func rebuildTensorIsSymbolic() throws {
        // _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', 6), 1, (2, 2), (3, 1), False, OrderedDict())
        var pickle: [UInt8] = [0x80, 0x02, 0x63] + Array("torch._utils\n_rebuild_tensor_v2\n".utf8)
        pickle += [0x28, 0x28, 0x58, 0x07, 0, 0, 0] + Array("storage".utf8) + [0x63] + Array("torch\nFloatStorage\n".utf8)
        pickle += [0x58, 0x01, 0, 0, 0, 0x30, 0x58, 0x03, 0, 0, 0] + Array("cpu".utf8) + [0x4B, 0x06, 0x74, 0x51]
        pickle += [0x4B, 0x01, 0x4B, 0x02, 0x4B, 0x02, 0x86, 0x4B, 0x03, 0x4B, 0x01, 0x86, 0x89]
        pickle += [0x63] + Array("collections\nOrderedDict\n".utf8) + [0x29, 0x52]
        pickle += [0x74, 0x52, 0x2E]
        guard case .tensor(let tensor) = try Self.load(pickle).value else {
            Issue.record("not a tensor")
            return
        }
        #expect(tensor.storage.dtype == .float32)
        #expect(tensor.storage.key == "0")
        #expect(tensor.storage.elementCount == 6)
        #expect(tensor.storageOffset == 1)
        #expect(tensor.shape == [2, 2])
        #expect(tensor.strides == [3, 1])
    }
}
