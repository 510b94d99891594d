/// A protobuf message built as a list of byte runs and tensors, for messages that embed
/// gigabytes of tensor bytes: nesting one in another copies only its small headers, never the
/// tensors, whose bytes are read once, when the message is written out.
///
///     var tensor = ProtoSegments()
///     tensor.append { $0.int64(2, 1) }          // small fields through ProtoWriter
///     tensor.tensorBytes(9, weights)            // raw_data: key, length, then the tensor's bytes
///     graph.message(5, tensor)                  // key, length, then the parts
struct ProtoSegments {
    /// One run of the encoding.
    enum Part {
        /// Encoded bytes.
        case bytes([UInt8])
        /// A tensor's canonical bytes (C order, little-endian).
        case tensor(StoredTensor)
    }

    private(set) var parts: [Part] = []
    /// The encoding's length in bytes.
    private(set) var count = 0
    private var pending = ProtoWriter()

    /// Appends fields written by `body` (small ones: they are copied).
    mutating func append(_ body: (inout ProtoWriter) -> Void) {
        let before = pending.bytes.count
        body(&pending)
        count += pending.bytes.count - before
    }

    /// A length-delimited field `number` holding `tensor`'s bytes.
    mutating func tensorBytes(_ number: Int, _ tensor: StoredTensor) {
        append {
            $0.key(number, wireType: 2)
            $0.varint(UInt64(tensor.byteCount))
        }
        flush()
        parts.append(.tensor(tensor))
        count += tensor.byteCount
    }

    /// An embedded message field `number`.
    mutating func message(_ number: Int, _ inner: ProtoSegments) {
        let inner = inner.finished()
        append {
            $0.key(number, wireType: 2)
            $0.varint(UInt64(inner.count))
        }
        flush()
        parts += inner.parts
        count += inner.count
    }

    /// The message with its pending bytes made a part.
    func finished() -> ProtoSegments {
        var copy = self
        copy.flush()
        return copy
    }

    private mutating func flush() {
        guard !pending.bytes.isEmpty else { return }
        parts.append(.bytes(pending.bytes))
        pending = ProtoWriter()
    }

    /// Writes every part in order to `file`.
    func write(to file: AtomicFile) throws {
        for part in finished().parts {
            switch part {
            case .bytes(let bytes): try file.write(bytes)
            case .tensor(let tensor): try tensor.canonicalBytes().withUnsafeBytes { try file.write($0) }
            }
        }
    }

    /// The whole encoding in one array (for tests and small models).
    func encoded() throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        for part in finished().parts {
            switch part {
            case .bytes(let bytes): result += bytes
            case .tensor(let tensor): try tensor.canonicalBytes().withUnsafeBytes { result += $0 }
            }
        }
        return result
    }
}
