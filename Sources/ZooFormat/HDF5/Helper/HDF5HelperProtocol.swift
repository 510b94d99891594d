import Foundation

/// The messages between Zoo and its libhdf5 helper process (see `HDF5Helper`): each is a
/// 4-byte little-endian length and that many bytes of JSON (`JSONEncoder`), over a Unix
/// socket. Requests run one at a time; `close` has no reply.
enum HDF5HelperRequest: Codable {
    /// Open a file (or an image of one held in the arena) and describe it.
    case open(HDF5HelperOpen)
    /// Read the bytes of tensor `index` of open file `id` into the arena at `offset`.
    case read(id: Int, index: Int, offset: Int, count: Int)
    /// Read them into the helper's own memory and say where (`located`): the parent copies
    /// them with `process_vm_readv`, one copy into memory of its own. Freed at the next request.
    case readInPlace(id: Int, index: Int, count: Int)
    /// Forget open file `id`.
    case close(id: Int)
}

struct HDF5HelperOpen: Codable {
    /// The path as the user gave it: what messages name.
    let path: String
    /// Where the file's bytes are, when not at `path` (a decompressed `.gz`): in the arena.
    let image: ArenaSpan?
}

/// Bytes in the shared arena.
struct ArenaSpan: Codable {
    let offset: Int
    let count: Int
}

enum HDF5HelperReply: Codable {
    case opened(id: Int, archive: ArchiveDescription)
    case done
    /// The bytes of a `readInPlace`, at `address` in the helper.
    case located(address: UInt64, count: Int)
    case failed(FormatError)
}

/// A `TensorArchive` read by the helper, as data: tensors in mapped storage by their offset
/// in the file (the parent maps them itself), the others by index (read on request).
struct ArchiveDescription: Codable {
    struct TensorDescription: Codable {
        let name: String
        let dtype: String
        let shape: [Int]
        let strides: [Int]
        let bigEndian: Bool
        let path: String?
        let attributes: [String: String]
        /// Bytes of the source.
        let byteCount: Int
        /// Offset of the bytes in the file, when they are stored there as they are.
        let mappedOffset: Int?
    }

    let format: String
    let metadata: [String: String]
    let tensors: [TensorDescription]
    let skipped: [SkippedEntry]
    /// The model config as compact JSON text.
    let modelConfig: String?

    init(_ archive: TensorArchive) {
        format = archive.format.rawValue
        metadata = archive.metadata
        skipped = archive.skipped
        modelConfig = archive.modelConfig?.compactText
        tensors = archive.tensors.map { tensor in
            var offset: Int?
            if case .mapped(_, let start, _) = tensor.source { offset = start }
            return TensorDescription(
                name: tensor.name, dtype: tensor.dtype.name, shape: tensor.shape, strides: tensor.strides,
                bigEndian: tensor.byteOrder == .big, path: tensor.path, attributes: tensor.attributes,
                byteCount: tensor.source.byteCount, mappedOffset: offset)
        }
    }
}

/// Length-prefixed JSON messages on a socket, with a deadline for reads.
enum HelperWire {
    /// The largest message accepted (a description of a file with very many datasets).
    static let maximumMessage = 256 << 20

    static func send<T: Encodable>(_ value: T, to socket: Int32) throws {
        let body = try JSONEncoder().encode(value)
        var message = Data(UInt32(body.count).littleEndianBytes)
        message.append(body)
        try message.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let sent = Glibc.send(socket, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else { throw HelperWireError.closed }
                done += sent
            }
        }
    }

    /// The next message, waiting at most until `deadline` (nil: forever).
    static func receive<T: Decodable>(_ type: T.Type, from socket: Int32, deadline: ContinuousClock.Instant?) throws -> T {
        let header = try read(4, from: socket, deadline: deadline)
        let length = Int(header.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        guard length <= maximumMessage else { throw HelperWireError.malformed("a \(length)-byte message") }
        let body = try read(length, from: socket, deadline: deadline)
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch {
            throw HelperWireError.malformed("\(error)")
        }
    }

    private static func read(_ count: Int, from socket: Int32, deadline: ContinuousClock.Instant?) throws -> Data {
        var data = Data(count: count)
        var done = 0
        while done < count {
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { throw HelperWireError.timedOut }
                var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
                let ready = poll(&poller, 1, milliseconds)
                if ready < 0 && errno == EINTR { continue }
                guard ready >= 0 else { throw HelperWireError.closed }
                if ready == 0 { continue }
            }
            let got = data.withUnsafeMutableBytes { recv(socket, $0.baseAddress! + done, count - done, 0) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw HelperWireError.closed }
            done += got
        }
        return data
    }
}

enum HelperWireError: Error {
    case closed
    case timedOut
    case malformed(String)
}
