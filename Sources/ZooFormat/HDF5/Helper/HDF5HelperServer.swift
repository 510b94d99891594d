import CZooHelper
import Foundation

/// The helper process's side: a process re-executed with `ZOO_HDF5_HELPER=SOCKET,ARENA` in
/// its environment (see `CZooHelper`'s load-time constructor) serves `HDF5HelperRequest`s with
/// the in-process HDF5 readers until its parent closes the socket.
///
/// Before serving it limits itself: no core files, its address space to this machine's
/// memory plus 8 GiB (a header claiming terabytes fails to allocate here, not in the parent),
/// and it exits when its parent is gone. It writes the object libhdf5 is working on into the
/// arena's first page (`noteLocation`), so a crash can be reported with the object's path.
enum HDF5HelperServer {
    /// The arena's first page, where the current object's path is written; nil outside the helper.
    nonisolated(unsafe) static var statusPage: UnsafeMutableRawPointer?
    static let statusPageSize = 4096

    /// Records the HDF5 object being read (a path in the file) for the parent's crash report.
    static func noteLocation(_ location: FileLocation) {
        guard let page = statusPage else { return }
        let text: String
        switch location {
        case .key(let key): text = key
        case .offset(let offset): text = "offset \(offset)"
        case .offsetIn(let key, let offset): text = "\(key) at offset \(offset)"
        }
        let bytes = Array(text.utf8.prefix(statusPageSize - 1))
        bytes.withUnsafeBytes { page.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        page.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
    }

    /// Serves requests on `socket`, with the shared arena `arena`; returns when the parent is gone.
    static func serve(socket: Int32, arena descriptor: Int32) {
        let arena = Arena(descriptor: descriptor, owned: false)
        HDF5Isolation.runsInProcess = true
        // A helper whose parent is gone exits: at the socket's end-of-file when it waits for a
        // request, and from this watchdog when libhdf5 hangs. (Not PR_SET_PDEATHSIG: that fires
        // when the parent *thread* that started the helper ends, which a thread pool does.)
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { sleep(1) }
            _exit(0)
        }
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        if ProcessInfo.processInfo.environment["ZOO_HDF5_HELPER_UNLIMITED"] == nil {
            // AddressSanitizer (the fuzz builds) reserves terabytes of shadow: it sets this variable.
            let limit = rlim_t(physicalMemory) + (8 << 30)
            var memory = rlimit(rlim_cur: limit, rlim_max: limit)
            _ = setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &memory)
        }
        if let page = mmap(nil, statusPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), page != MAP_FAILED {
            statusPage = page
        }
        var open: [Int: TensorArchive] = [:]
        var nextID = 1
        /// The bytes of the last `readInPlace`, kept alive until the parent has copied them.
        var pending: HeapBuffer?
        defer { withExtendedLifetime(pending) {} }
        while true {
            let request: HDF5HelperRequest
            do {
                request = try HelperWire.receive(HDF5HelperRequest.self, from: socket, deadline: nil)
            } catch {
                return  // the parent closed the socket (or sent garbage): nothing more to do
            }
            pending = nil
            let reply: HDF5HelperReply
            switch request {
            case .close(let id):
                open[id] = nil
                continue
            case .open(let request):
                do {
                    let archive = try openLocally(request, arena: arena)
                    open[nextID] = archive
                    reply = .opened(id: nextID, archive: ArchiveDescription(archive))
                    nextID += 1
                } catch {
                    reply = .failed(formatError(error, file: request.path))
                }
            case .readInPlace(let id, let index, let count):
                do {
                    guard let archive = open[id], index >= 0, index < archive.tensors.count else {
                        throw FormatError(file: "", .malformed(at: .offset(0), expected: "an open file and tensor", found: "file \(id), tensor \(index)"))
                    }
                    let tensor = archive.tensors[index]
                    let buffer = try HeapBuffer(checkedCount: count, file: tensor.file, what: "dataset '\(tensor.path ?? tensor.name)'")
                    try read(tensor, into: UnsafeMutableRawBufferPointer(start: buffer.pointer, count: count))
                    pending = buffer
                    reply = .located(address: UInt64(UInt(bitPattern: buffer.pointer)), count: count)
                } catch {
                    reply = .failed(formatError(error, file: open[id]?.file ?? ""))
                }
            case .read(let id, let index, let offset, let count):
                do {
                    guard let archive = open[id], index >= 0, index < archive.tensors.count else {
                        throw FormatError(file: "", .malformed(at: .offset(0), expected: "an open file and tensor", found: "file \(id), tensor \(index)"))
                    }
                    try read(archive.tensors[index], into: arena, offset: offset, count: count)
                    reply = .done
                } catch {
                    reply = .failed(formatError(error, file: open[id]?.file ?? ""))
                }
            }
            do { try HelperWire.send(reply, to: socket) } catch { return }
        }
    }

    /// Opens the file as `TensorArchive.open` would, with libhdf5 in this process.
    static func openLocally(_ request: HDF5HelperOpen, arena: Arena) throws -> TensorArchive {
        var file: MappedFile
        if let image = request.image {
            let region = try ArenaRegion(arena: arena, span: image)
            let buffer = HeapBuffer(count: image.count)
            buffer.pointer.copyMemory(from: region.bytes.baseAddress!, byteCount: image.count)
            file = MappedFile(path: request.path, buffer: buffer)
        } else {
            file = try MappedFile(path: request.path)
        }
        return try TensorArchive.open(mapped: file)
    }

    /// Reads the whole source of `tensor` into the arena at `offset`.
    static func read(_ tensor: StoredTensor, into arena: Arena, offset: Int, count: Int) throws {
        guard count > 0 else { return try read(tensor, into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
        let region = try ArenaRegion(arena: arena, span: ArenaSpan(offset: offset, count: count), writable: true)
        try read(tensor, into: UnsafeMutableRawBufferPointer(mutating: region.bytes))
    }

    /// Reads the whole source of `tensor` into `destination` (exactly its size).
    static func read(_ tensor: StoredTensor, into destination: UnsafeMutableRawBufferPointer) throws {
        let count = destination.count
        guard count == tensor.source.byteCount else {
            throw FormatError(file: tensor.file, .malformed(at: .key(tensor.path ?? tensor.name), expected: "\(tensor.source.byteCount) bytes", found: "a request for \(count)"))
        }
        guard count > 0 else { return }
        switch tensor.source {
        case .loader(_, _, let readInto?):
            try readInto(destination)
        default:
            let bytes = try tensor.storedBytes()
            bytes.withUnsafeBytes { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
        }
    }

    static func formatError(_ error: Error, file: String) -> FormatError {
        if let error = error as? FormatError { return error }
        return FormatError(file: file, .library(at: .offset(0), message: "\(error)"))
    }
}

/// The helper's entry point, called by `CZooHelper`'s constructor before `main`.
@_cdecl("zoo_hdf5_helper_main")
public func zooHDF5HelperMain() {
    let parts = (ProcessInfo.processInfo.environment[HDF5Isolation.helperVariable] ?? "").split(separator: ",").compactMap { Int32($0) }
    guard parts.count == 2 else { exit(70) }
    HDF5HelperServer.serve(socket: parts[0], arena: parts[1])
    exit(0)
}
