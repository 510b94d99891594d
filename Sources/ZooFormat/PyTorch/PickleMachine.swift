/// What a pickle's references to the outside mean. The machine itself knows no
/// globals: the host decides which it allows (and what calling them yields) and
/// refuses the rest, so unpickling never runs code.
protocol PickleHost {
    /// `GLOBAL`/`STACK_GLOBAL`: the value standing for `module.name`, or a refusal.
    func global(module: String, name: String, at location: FileLocation) throws -> PickleValue
    /// `REDUCE`/`NEWOBJ`: the result of calling an allowed global, evaluated symbolically.
    func call(_ callable: PickleValue, _ arguments: [PickleValue], at location: FileLocation) throws -> PickleValue
    /// `BINPERSID`: the object a persistent id stands for.
    func persistentLoad(_ id: PickleValue, at location: FileLocation) throws -> PickleValue
}

/// A pickle virtual machine written for reading weights, not for Python objects
/// (https://github.com/python/cpython/blob/main/Lib/pickletools.py documents every opcode).
///
///     pickle.dumps({"w": [1, 2.5]}, protocol=2)
///     80 02 7D 71 00 58 01 00 00 00 77 71 01 5D 71 02 28 4B 01 47 40 04 00 … 65 73 2E
///     PROTO 2, EMPTY_DICT, BINPUT 0, BINUNICODE 'w', BINPUT 1, EMPTY_LIST, BINPUT 2,
///     MARK, BININT1 1, BINFLOAT 2.5, APPENDS, SETITEM, STOP
///
/// It evaluates symbolically: `GLOBAL` asks the host, which allows a short list
/// (torch's tensor rebuilders, its storage types, `collections.OrderedDict`) and
/// refuses every other name with an error naming it; `REDUCE` hands the call to
/// the host, which computes what it means (a tensor description) without running
/// anything. Protocols 0–5 are read as far as their binary opcodes go; text-mode
/// opcodes of protocol 0 (`INT`, `PUT`, `INST`, …), extension registries and
/// out-of-band buffers are refused as unknown, with their offset. The stack, the
/// mark stack and the memo are bounded.
///
/// Nesting is bounded so that releasing a hostile value cannot overflow the call
/// stack: tuples may nest at most `maximumTupleDepth` deep, and every list and
/// dict is also held by the `PickleArena` returned with the value, which empties
/// them one by one when it goes (so chains and cycles of lists are released
/// iteratively). Keep the arena alive while using the value.
struct PickleMachine {
    static let maximumStack = 1 << 20
    static let maximumMemo = 1 << 20
    static let maximumTupleDepth = 200
    static let highestProtocol = 5

    /// What a run produces: the value, where the pickle ended, and the arena owning its containers.
    struct Result {
        let value: PickleValue
        /// The offset just past `STOP`, where a next pickle may start.
        let end: Int
        let arena: PickleArena
    }

    let reader: ByteReader
    let host: any PickleHost
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private let arena = PickleArena()
    private var position: Int
    /// Offset of the opcode being executed, for messages.
    private var opcodeOffset: Int

    /// Runs the pickle starting at `start` up to its `STOP`.
    static func load(_ reader: ByteReader, from start: Int = 0, host: any PickleHost) throws -> Result {
        var machine = PickleMachine(reader: reader, host: host, position: start, opcodeOffset: start)
        let value = try machine.run()
        return Result(value: value, end: machine.position, arena: machine.arena)
    }

    private init(reader: ByteReader, host: any PickleHost, position: Int, opcodeOffset: Int) {
        self.reader = reader
        self.host = host
        self.position = position
        self.opcodeOffset = opcodeOffset
    }

    private func malformed(_ expected: String, _ found: String) -> FormatError {
        reader.malformed(opcodeOffset, expected: expected, found: found)
    }

    private var location: FileLocation { reader.location(opcodeOffset) }

    // MARK: Reading arguments

    private mutating func byte() throws -> UInt8 {
        defer { position += 1 }
        return try reader.uint8(position, "a pickle opcode argument")
    }

    private mutating func uint16() throws -> Int {
        defer { position += 2 }
        return Int(try reader.uint16(position, "a 2-byte pickle argument"))
    }

    private mutating func uint32() throws -> Int {
        defer { position += 4 }
        return Int(try reader.uint32(position, "a 4-byte pickle argument"))
    }

    /// An 8-byte length, which must fit in the bytes left.
    private mutating func length8() throws -> Int {
        let value = try reader.uint64(position, "an 8-byte pickle length")
        guard value <= UInt64(reader.count) else { throw malformed("a length within the \(reader.count)-byte pickle", "\(value)") }
        position += 8
        return Int(value)
    }

    private mutating func take(_ count: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        let slice = try reader.slice(position, count, what)
        position += count
        return slice
    }

    /// A newline-terminated line (for `GLOBAL`), at most 256 bytes.
    private mutating func line() throws -> String {
        var end = position
        while true {
            let byte = try reader.uint8(end, "a newline-terminated name")
            if byte == 0x0A { break }
            end += 1
            guard end - position <= 256 else { throw malformed("a module or attribute name of at most 256 bytes", "a longer line") }
        }
        let text = String(decoding: try reader.slice(position, end - position, "a name"), as: UTF8.self)
        position = end + 1
        return text
    }

    // MARK: Stack

    private mutating func push(_ value: PickleValue) throws {
        guard stack.count < PickleMachine.maximumStack else {
            throw malformed("at most \(PickleMachine.maximumStack) values on the pickle stack", "more")
        }
        switch value {
        case .list(let list): arena.lists.append(list)
        case .dict(let dict): arena.dicts.append(dict)
        case .tuple:
            guard Self.tupleDepth(value, limit: Self.maximumTupleDepth) <= Self.maximumTupleDepth else {
                throw malformed("tuples nested at most \(Self.maximumTupleDepth) deep", "deeper nesting")
            }
        default: break
        }
        stack.append(value)
    }

    /// How deeply tuples nest in `value` (lists and dicts, owned by the arena, count as leaves); stops past `limit`.
    static func tupleDepth(_ value: PickleValue, limit: Int) -> Int {
        guard case .tuple(let items) = value else { return 0 }
        guard limit >= 0 else { return 1 }
        var deepest = 0
        for item in items {
            deepest = max(deepest, tupleDepth(item, limit: limit - 1))
            if deepest > limit { break }
        }
        return deepest + 1
    }

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw malformed("a value on the pickle stack", "an empty stack") }
        return value
    }

    private func top() throws -> PickleValue {
        guard let value = stack.last else { throw malformed("a value on the pickle stack", "an empty stack") }
        return value
    }

    /// The values pushed since the last `MARK`, removed from the stack.
    private mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("a MARK before this opcode", "none") }
        guard mark <= stack.count else { throw malformed("a MARK within the stack", "a MARK above its top") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func memoize(_ index: Int, _ value: PickleValue) throws {
        guard memo.count < PickleMachine.maximumMemo || memo[index] != nil else {
            throw malformed("at most \(PickleMachine.maximumMemo) memo entries", "more")
        }
        memo[index] = value
    }

    private func recall(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw malformed("a memo entry \(index) stored before", "none") }
        return value
    }

    private func string(_ bytes: UnsafeRawBufferPointer) -> PickleValue { .string(String(decoding: bytes, as: UTF8.self)) }

    /// Little-endian two's complement of any width.
    private func integer(_ bytes: UnsafeRawBufferPointer) -> PickleValue {
        guard !bytes.isEmpty else { return .int(0) }
        guard bytes.count <= 8 else {
            // Wider than 64 bits unless it is a sign extension.
            let signByte: UInt8 = bytes[7] & 0x80 != 0 ? 0xFF : 0
            guard bytes[8...].allSatisfy({ $0 == signByte }) else { return .bigInt(Array(bytes)) }
            return integer(UnsafeRawBufferPointer(rebasing: bytes[0..<8]))
        }
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        if bytes.count < 8, bytes[bytes.count - 1] & 0x80 != 0 {
            value |= ~0 << (8 * UInt64(bytes.count))
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    // MARK: Execution

    private mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = position
            let opcode = try byte()
            switch opcode {
            case 0x80:  // PROTO
                let version = try byte()
                guard Int(version) <= PickleMachine.highestProtocol else {
                    throw malformed("pickle protocol 0 to \(PickleMachine.highestProtocol)", "protocol \(version)")
                }
            case 0x95:  // FRAME: a length hint; the frame's opcodes follow inline.
                _ = try length8()
            case 0x2E:  // STOP
                return try pop()
            case 0x28:  // MARK
                guard marks.count < PickleMachine.maximumStack else { throw malformed("fewer nested MARKs", "more than \(PickleMachine.maximumStack)") }
                marks.append(stack.count)
            case 0x30:  // POP
                _ = try pop()
            case 0x31:  // POP_MARK
                _ = try popToMark()
            case 0x32:  // DUP
                try push(try top())
            case 0x4E: try push(.none)  // NONE
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case 0x4A:  // BININT
                try push(.int(Int(Int32(bitPattern: UInt32(try uint32())))))
            case 0x4B: try push(.int(Int(try byte())))  // BININT1
            case 0x4D: try push(.int(try uint16()))  // BININT2
            case 0x8A:  // LONG1
                let count = Int(try byte())
                try push(integer(try take(count, "a LONG1 integer")))
            case 0x8B:  // LONG4
                let count = try uint32()
                try push(integer(try take(count, "a LONG4 integer")))
            case 0x47:  // BINFLOAT: big-endian
                let bits = try reader.uint64(position, "a BINFLOAT")
                position += 8
                try push(.float(Double(bitPattern: UInt64(bigEndian: bits))))
            case 0x58: try push(string(try take(try uint32(), "a BINUNICODE string")))  // BINUNICODE
            case 0x8C: try push(string(try take(Int(try byte()), "a SHORT_BINUNICODE string")))  // SHORT_BINUNICODE
            case 0x8D: try push(string(try take(try length8(), "a BINUNICODE8 string")))  // BINUNICODE8
            case 0x55: try push(string(try take(Int(try byte()), "a SHORT_BINSTRING")))  // SHORT_BINSTRING
            case 0x54:  // BINSTRING: signed 4-byte length
                let count = try uint32()
                guard count <= Int(Int32.max) else { throw malformed("a non-negative BINSTRING length", "\(Int32(truncatingIfNeeded: count))") }
                try push(string(try take(count, "a BINSTRING")))
            case 0x43: try push(.bytes(Array(try take(Int(try byte()), "SHORT_BINBYTES"))))  // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try take(try uint32(), "BINBYTES"))))  // BINBYTES
            case 0x8E, 0x96: try push(.bytes(Array(try take(try length8(), "BINBYTES8"))))  // BINBYTES8, BYTEARRAY8
            case 0x29: try push(.tuple([]))  // EMPTY_TUPLE
            case 0x74: try push(.tuple(try popToMark()))  // TUPLE
            case 0x85: try push(.tuple([try pop()]))  // TUPLE1
            case 0x86:  // TUPLE2
                let second = try pop()
                try push(.tuple([try pop(), second]))
            case 0x87:  // TUPLE3
                let third = try pop()
                let second = try pop()
                try push(.tuple([try pop(), second, third]))
            case 0x5D: try push(.list(PickleList()))  // EMPTY_LIST
            case 0x6C: try push(.list(PickleList(try popToMark())))  // LIST
            case 0x61:  // APPEND
                let item = try pop()
                try appendItems([item])
            case 0x65:  // APPENDS
                let items = try popToMark()
                try appendItems(items)
            case 0x8F: try push(.list(PickleList()))  // EMPTY_SET (a set is listed like a list)
            case 0x90:  // ADDITEMS
                let items = try popToMark()
                try appendItems(items)
            case 0x91: try push(.list(PickleList(try popToMark())))  // FROZENSET
            case 0x7D: try push(.dict(PickleDict()))  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popToMark()
                let dict = PickleDict()
                try setItems(items, into: dict)
                try push(.dict(dict))
            case 0x73:  // SETITEM
                let value = try pop()
                let key = try pop()
                try setItems([key, value], into: try topDict())
            case 0x75:  // SETITEMS
                let items = try popToMark()
                try setItems(items, into: try topDict())
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line()
                let name = try line()
                try push(try host.global(module: module, name: name, at: location))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let moduleName) = module, case .string(let attribute) = name else {
                    throw malformed("two strings (module, name) for STACK_GLOBAL", "\(module.pythonDescription), \(name.pythonDescription)")
                }
                try push(try host.global(module: moduleName, name: attribute, at: location))
            case 0x52:  // REDUCE
                let arguments = try pop()
                let callable = try pop()
                guard case .tuple(let items) = arguments else {
                    throw malformed("an argument tuple for REDUCE", arguments.pythonDescription)
                }
                try push(try host.call(callable, items, at: location))
            case 0x81:  // NEWOBJ: cls.__new__(cls, *args)
                let arguments = try pop()
                let callable = try pop()
                guard case .tuple(let items) = arguments else {
                    throw malformed("an argument tuple for NEWOBJ", arguments.pythonDescription)
                }
                try push(try host.call(callable, items, at: location))
            case 0x92:  // NEWOBJ_EX: keyword arguments are not expected by any allowed global.
                let keywords = try pop()
                let arguments = try pop()
                let callable = try pop()
                guard case .tuple(let items) = arguments, case .dict(let dict) = keywords, dict.items.isEmpty else {
                    throw malformed("an argument tuple and no keywords for NEWOBJ_EX", "\(arguments.pythonDescription), \(keywords.pythonDescription)")
                }
                try push(try host.call(callable, items, at: location))
            case 0x62:  // BUILD: the state of allowlisted objects (an OrderedDict's _metadata) is not needed.
                _ = try pop()
                _ = try top()
            case 0x51:  // BINPERSID
                let id = try pop()
                try push(try host.persistentLoad(id, at: location))
            case 0x71: try memoize(Int(try byte()), try top())  // BINPUT
            case 0x72: try memoize(try uint32(), try top())  // LONG_BINPUT
            case 0x94: try memoize(memo.count, try top())  // MEMOIZE
            case 0x68: try push(try recall(Int(try byte())))  // BINGET
            case 0x6A: try push(try recall(try uint32()))  // LONG_BINGET
            default:
                throw malformed("a pickle opcode Zoo reads (protocols 2–5, binary opcodes)", "opcode 0x\(hex([opcode]))\(Self.opcodeNames[opcode].map { " (\($0))" } ?? "")")
            }
        }
    }

    /// Names of opcodes that exist but are refused, for messages.
    static let opcodeNames: [UInt8: String] = [
        0x49: "INT", 0x4C: "LONG", 0x46: "FLOAT", 0x53: "STRING", 0x56: "UNICODE", 0x70: "PUT", 0x67: "GET",
        0x69: "INST", 0x6F: "OBJ", 0x50: "PERSID", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
        0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    private func topDict() throws -> PickleDict {
        let target = try top()
        guard case .dict(let dict) = target else { throw malformed("a dict to set items in", target.pythonDescription) }
        return dict
    }

    private mutating func appendItems(_ items: [PickleValue]) throws {
        let target = try top()
        guard case .list(let list) = target else { throw malformed("a list to append to", target.pythonDescription) }
        guard list.items.count + items.count <= PickleMachine.maximumStack else {
            throw malformed("at most \(PickleMachine.maximumStack) items in a list", "more")
        }
        list.items.append(contentsOf: items)
    }

    private func setItems(_ items: [PickleValue], into dict: PickleDict) throws {
        guard items.count % 2 == 0 else { throw malformed("key/value pairs", "\(items.count) values") }
        guard dict.items.count + items.count / 2 <= PickleMachine.maximumStack else {
            throw malformed("at most \(PickleMachine.maximumStack) items in a dict", "more")
        }
        for index in stride(from: 0, to: items.count, by: 2) {
            dict.items.append((items[index], items[index + 1]))
        }
    }
}

/// Owns every list and dict a pickle created; empties them one by one when it
/// goes, so that no release recurses through a long chain (or leaks a cycle).
final class PickleArena {
    var lists: [PickleList] = []
    var dicts: [PickleDict] = []

    deinit {
        for list in lists { list.items.removeAll() }
        for dict in dicts { dict.items.removeAll() }
    }
}
