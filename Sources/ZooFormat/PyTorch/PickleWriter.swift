/// The pickle opcodes (protocol 2) a PyTorch state dict needs, written as PyTorch writes them:
/// globals, strings, integers, tuples, booleans, persistent ids, `REDUCE` and `SETITEMS`.
/// Nothing here is read back by Python as code: the globals are the ones `torch.load`'s
/// `weights_only` unpickler allows.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 2]  // PROTO 2

    /// `GLOBAL 'module name'`.
    mutating func global(_ module: String, _ name: String) {
        bytes.append(UInt8(ascii: "c"))
        bytes += Array(module.utf8) + [0x0A] + Array(name.utf8) + [0x0A]
    }

    /// `BINUNICODE`: a UTF-8 string.
    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(UInt8(ascii: "X"))
        bytes += UInt32(utf8.count).littleEndianBytes + utf8
    }

    /// `BININT1`, `BININT` or `LONG1`: the shortest form of `value`.
    mutating func int(_ value: Int) {
        if value >= 0 && value < 256 {
            bytes += [UInt8(ascii: "K"), UInt8(value)]
        } else if value >= Int(Int32.min) && value <= Int(Int32.max) {
            bytes.append(UInt8(ascii: "J"))
            bytes += UInt32(bitPattern: Int32(value)).littleEndianBytes
        } else {
            bytes += [0x8A, 8] + UInt64(bitPattern: Int64(value)).littleEndianBytes  // LONG1, 8 bytes two's complement
        }
    }

    /// `NEWTRUE` / `NEWFALSE`.
    mutating func bool(_ value: Bool) { bytes.append(value ? 0x88 : 0x89) }

    /// `MARK`.
    mutating func mark() { bytes.append(UInt8(ascii: "(")) }

    /// `TUPLE` of everything since the last mark.
    mutating func tupleFromMark() { bytes.append(UInt8(ascii: "t")) }

    /// A tuple of integers (`EMPTY_TUPLE`, `TUPLE1`…`TUPLE3`, or `MARK … TUPLE`).
    mutating func intTuple(_ values: [Int]) {
        switch values.count {
        case 0: bytes.append(UInt8(ascii: ")"))
        case 1...3:
            for value in values { int(value) }
            bytes.append([0x85, 0x86, 0x87][values.count - 1])
        default:
            mark()
            for value in values { int(value) }
            tupleFromMark()
        }
    }

    /// `EMPTY_TUPLE`.
    mutating func emptyTuple() { bytes.append(UInt8(ascii: ")")) }

    /// `REDUCE`: call the callable below the argument tuple on top.
    mutating func reduce() { bytes.append(UInt8(ascii: "R")) }

    /// `BINPERSID`: the object on top is a persistent id.
    mutating func persistentID() { bytes.append(UInt8(ascii: "Q")) }

    /// `SETITEMS`: key/value pairs since the last mark into the dict below it.
    mutating func setItemsFromMark() { bytes.append(UInt8(ascii: "u")) }

    /// `STOP`.
    mutating func stop() { bytes.append(UInt8(ascii: ".")) }
}
