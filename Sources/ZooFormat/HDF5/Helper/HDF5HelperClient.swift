import CZooHelper
import Foundation

/// This process's side of the libhdf5 helper (see `HDF5Isolation`): starts the helper, sends
/// it requests one at a time with a deadline, and turns its death or silence into
/// `.libraryFailed`. One shared instance; its lock serializes requests.
final class HDF5HelperClient: @unchecked Sendable {
    static let shared = HDF5HelperClient()

    /// A running helper: its pid, its end of the socket, the arena and where the next span goes.
    private struct Helper {
        let pid: pid_t
        let socket: Int32
        let arena: Arena
        let status: ArenaRegion
        var cursor: Int
    }

    /// The arena's size (sparse: pages exist only while written and mapped).
    static let arenaSize = 1 << 40
    private let lock = NSLock()
    private var helper: Helper?
    /// Counts helpers started: a file opened by an earlier one is reopened before a read.
    private var generation = 0

    // MARK: - Requests

    /// Opens `file` in the helper and builds the archive from its description.
    func open(_ file: MappedFile) throws -> TensorArchive {
        let remote = RemoteHDF5File(client: self, file: file)
        let description = try lock.withLock { try remote.openLocked() }
        return try remote.archive(description)
    }

    /// Sends `open` for `remote` (its image copied into the arena first when it has one). Call locked.
    fileprivate func openLocked(_ file: MappedFile, isImage: Bool) throws -> (generation: Int, id: Int, ArchiveDescription) {
        var image: ArenaRegion?
        var span: ArenaSpan?
        if isImage {
            let (region, placed) = try allocate(file.count, path: file.path)
            if let base = file.bytes.baseAddress {
                UnsafeMutableRawPointer(mutating: region.bytes.baseAddress!).copyMemory(from: base, byteCount: file.count)
            }
            image = region
            span = placed
        }
        defer { withExtendedLifetime(image) {} }
        let reply = try exchange(.open(HDF5HelperOpen(path: file.path, image: span)), file: file.path, seconds: HDF5Isolation.timeout)
        switch reply {
        case .opened(let id, let archive): return (generation, id, archive)
        case .failed(let error): throw error
        case .done, .located: throw unexpected(file.path)
        }
    }

    /// Whether `process_vm_readv` from the helper works here (a seccomp filter or Yama may refuse
    /// it); when it does not, bytes come through the shared arena. Guarded by `lock`.
    private var copiesFromHelper = true

    /// Reads tensor `index` of `remote` (`count` bytes) into `destination` when one is given
    /// (and returns nil), else into a new buffer it returns.
    ///
    /// The helper reads into memory of its own and this process copies it over with
    /// `process_vm_readv`: one copy into a private, huge-page-backed destination. (Through the
    /// memfd arena instead, every page of shared memory is allocated and faulted in anew, about
    /// 1 ms per MB on a virtual machine: slower than the copy.) Where that call is refused, the arena.
    fileprivate func read(_ remote: RemoteHDF5File, index: Int, count: Int, name: String, into destination: UnsafeMutableRawBufferPointer?) throws -> TensorBytes? {
        try lock.withLock {
            if remote.generation != generation || helper == nil { _ = try remote.openLocked() }
            let seconds = HDF5Isolation.timeout + Double(count) / 50e6
            let path = remote.file.path
            if copiesFromHelper {
                let reply = try exchange(.readInPlace(id: remote.id, index: index, count: count), file: path, seconds: seconds, location: name)
                guard case .located(let address, let located) = reply, located == count, let running = helper else {
                    if case .failed(let error) = reply { throw error }
                    throw unexpected(path)
                }
                var owner: HeapBuffer?
                var target = destination ?? UnsafeMutableRawBufferPointer(start: nil, count: 0)
                if destination == nil {
                    let buffer = try HeapBuffer(checkedCount: count, file: path, what: "dataset '\(name)'")
                    owner = buffer
                    target = UnsafeMutableRawBufferPointer(start: buffer.pointer, count: count)
                }
                if count == 0 || zoo_copy_from_process(running.pid, address, target.baseAddress, Int64(count)) == Int64(count) {
                    return owner?.bytes
                }
                copiesFromHelper = false
            }
            let (region, span) = try allocate(count, path: path)
            let reply = try exchange(.read(id: remote.id, index: index, offset: span.offset, count: count), file: path, seconds: seconds, location: name)
            switch reply {
            case .done:
                guard let destination else { return region.tensorBytes }
                if let base = destination.baseAddress, let from = region.bytes.baseAddress { base.copyMemory(from: from, byteCount: count) }
                return nil
            case .failed(let error): throw error
            case .opened, .located: throw unexpected(path)
            }
        }
    }

    /// Tells the helper to forget `id` (no reply), if it is the helper that opened it.
    fileprivate func close(id: Int, generation opened: Int) {
        lock.withLock {
            guard let helper, opened == generation else { return }
            try? HelperWire.send(HDF5HelperRequest.close(id: id), to: helper.socket)
        }
    }

    private func unexpected(_ path: String) -> FormatError {
        FormatError(file: path, .libraryFailed(library: "the libhdf5 helper", path: "/", detail: "it answered out of turn"))
    }

    /// One request and its reply; a dead, silent or confused helper is stopped and reported. Call locked.
    private func exchange(_ request: HDF5HelperRequest, file: String, seconds: Double, location: String? = nil) throws -> HDF5HelperReply {
        let running = try started()
        do {
            try HelperWire.send(request, to: running.socket)
            return try HelperWire.receive(HDF5HelperReply.self, from: running.socket, deadline: .now + .milliseconds(Int(seconds * 1000)))
        } catch let failure as HelperWireError {
            let place = statusText(running) ?? location ?? "/"
            let (detail, failed) = stop(running, timedOut: { if case .timedOut = failure { true } else { false } }(), seconds: seconds)
            guard failed else { throw FormatError(file: file, .unreadable(message: detail)) }
            throw FormatError(file: file, .libraryFailed(library: "libhdf5 \(HDF5.versionText)", path: place, detail: detail))
        }
    }

    // MARK: - The helper process

    /// The running helper, started if there is none. Call locked.
    private func started() throws -> Helper {
        if let helper { return helper }
        let started = try spawn()
        helper = started
        generation += 1
        return started
    }

    /// A span of `count` bytes (page-aligned) of the arena, mapped writable here. Call locked.
    private func allocate(_ count: Int, path: String) throws -> (ArenaRegion, ArenaSpan) {
        var running = try started()
        let size = (max(count, 1) + ArenaRegion.pageSize - 1) / ArenaRegion.pageSize * ArenaRegion.pageSize
        if running.cursor + size > Self.arenaSize {
            stop(running, timedOut: false, seconds: 0)
            running = try started()
        }
        let span = ArenaSpan(offset: running.cursor, count: count)
        running.cursor += size
        helper = running
        return (try ArenaRegion(arena: running.arena, span: span, writable: true, freesPages: true), span)
    }

    /// The object the helper was working on (its status page).
    private func statusText(_ running: Helper) -> String? {
        guard let base = running.status.bytes.baseAddress else { return nil }
        let bytes = UnsafeRawBufferPointer(start: base, count: HDF5HelperServer.statusPageSize)
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return end == 0 ? nil : String(decoding: bytes[0..<end], as: UTF8.self)
    }

    /// Stops the helper (killing it if it hangs) and says how it ended, and whether libhdf5
    /// failed (it crashed or hung) rather than the helper not being one. Call locked.
    @discardableResult
    private func stop(_ running: Helper, timedOut: Bool, seconds: Double) -> (detail: String, libraryFailed: Bool) {
        if timedOut { kill(running.pid, SIGKILL) }
        Glibc.close(running.socket)
        var status: Int32 = 0
        var waited = waitpid(running.pid, &status, 0)
        while waited < 0 && errno == EINTR { waited = waitpid(running.pid, &status, 0) }
        helper = nil
        if timedOut { return ("no answer within \(Int(seconds)) s: the helper process was stopped", true) }
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which Swift does not import.
        let signal = status & 0x7F
        if waited == running.pid, signal != 0, signal != 0x7F {
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            return ("the helper process was killed by signal \(signal), \(name)", true)
        }
        // Not a crash: most likely the executable is not a program that links ZooFormat.
        let executable = HDF5Isolation.helperExecutable ?? Self.ownExecutable
        return ("libhdf5's helper process (\(executable)) ended with status \((status >> 8) & 0xFF) without answering: if it is not"
            + " a program linking ZooFormat, set ZOO_HDF5_HELPER_EXECUTABLE to one (zoo), or ZOO_HDF5_IN_PROCESS=1", false)
    }

    /// Starts `helperExecutable` (or this program) as the helper, with the socket at fd 3
    /// and the arena at fd 4 of its own.
    private func spawn() throws -> Helper {
        func failure(_ what: String) -> FormatError {
            FormatError(file: "", .libraryFailed(library: "the libhdf5 helper", path: "/", detail: "cannot start it: \(what): \(systemMessage(errno))"))
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { throw failure("socketpair") }
        let memory = zoo_memfd("zoo-hdf5-arena")
        guard memory >= 0, ftruncate(memory, off_t(Self.arenaSize)) == 0 else {
            Glibc.close(pair[0]); Glibc.close(pair[1])
            if memory >= 0 { Glibc.close(memory) }
            throw failure("memfd")
        }
        let arena = Arena(descriptor: memory, owned: true)
        defer { Glibc.close(pair[1]) }
        // Above 2 (stdio) and away from 3 and 4, so the dup2s below cannot clobber each other.
        let childSocket = fcntl(pair[1], F_DUPFD_CLOEXEC, 10)
        let childArena = fcntl(memory, F_DUPFD_CLOEXEC, 10)
        defer { Glibc.close(childSocket); Glibc.close(childArena) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childSocket, 3)
        posix_spawn_file_actions_adddup2(&actions, childArena, 4)
        // Nothing else of ours: an inherited libhdf5 file would keep its flock lock in the helper.
        _ = zoo_spawn_close_from(&actions, 5)
        // Its crashes are reported here; the Swift runtime's backtrace of one is not for the user.
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let executable = HDF5Isolation.helperExecutable ?? Self.ownExecutable
        var environment = ProcessInfo.processInfo.environment
        environment[HDF5Isolation.helperVariable] = "3,4"
        environment["ZOO_HDF5_IN_PROCESS"] = nil
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let arguments = [executable, "--zoo-hdf5-helper"]
        var pid: pid_t = 0
        let status = withCStrings(arguments) { argv in
            withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawn(&pid, executable, &actions, nil, argv, envp)
            }
        }
        guard status == 0 else {
            errno = status
            throw failure("posix_spawn \(executable)")
        }
        let page = try ArenaRegion(arena: arena, span: ArenaSpan(offset: 0, count: HDF5HelperServer.statusPageSize))
        return Helper(pid: pid, socket: pair[0], arena: arena, status: page, cursor: HDF5HelperServer.statusPageSize)
    }

    /// This program's executable (`/proc/self/exe` resolved).
    static let ownExecutable: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments.first ?? "zoo" }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    deinit {
        if let helper { Glibc.close(helper.socket) }
    }
}

/// `strings` as a NULL-terminated array of C strings, for `body`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// A file opened in the helper: what to reopen it with after the helper was replaced.
final class RemoteHDF5File: @unchecked Sendable {
    let client: HDF5HelperClient
    let file: MappedFile
    /// Guarded by the client's lock.
    fileprivate var generation = 0
    fileprivate var id = 0
    private var tensorCount: Int?

    init(client: HDF5HelperClient, file: MappedFile) {
        self.client = client
        self.file = file
    }

    deinit { if id != 0 { client.close(id: id, generation: generation) } }

    /// Opens (or reopens) the file in the current helper. Call with the client's lock held.
    fileprivate func openLocked() throws -> ArchiveDescription {
        // A real file is opened by path in the helper; bytes held in memory (a decompressed .gz) are copied over.
        let isImage = !FileManager.default.fileExists(atPath: file.path) || file.isInMemory
        let (generation, id, description) = try client.openLocked(file, isImage: isImage)
        if let tensorCount, tensorCount != description.tensors.count {
            throw FormatError(file: file.path, .libraryFailed(library: "the libhdf5 helper", path: "/", detail: "the file changed while it was open"))
        }
        tensorCount = description.tensors.count
        self.generation = generation
        self.id = id
        return description
    }

    /// The archive the description stands for: mapped tensors as views of `file`, the
    /// others read by the helper on request.
    func archive(_ description: ArchiveDescription) throws -> TensorArchive {
        guard let format = TensorFileFormat(rawValue: description.format) else {
            throw FormatError(file: file.path, .libraryFailed(library: "the libhdf5 helper", path: "/", detail: "it described an unknown format \(description.format)"))
        }
        var tensors: [StoredTensor] = []
        for (index, item) in description.tensors.enumerated() {
            guard let dtype = DType.numeric.first(where: { $0.name == item.dtype }), item.byteCount >= 0 else {
                throw FormatError(file: file.path, .libraryFailed(library: "the libhdf5 helper", path: item.path ?? item.name, detail: "it described dtype \(item.dtype), \(item.byteCount) bytes"))
            }
            let source: TensorSource
            if let offset = item.mappedOffset {
                guard offset >= 0, offset <= file.count, item.byteCount <= file.count - offset else {
                    throw FormatError(file: file.path, .truncated(at: .key(item.path ?? item.name), needed: item.byteCount, available: max(0, file.count - offset), what: "dataset storage at offset \(offset)"))
                }
                source = .mapped(file, offset: offset, count: item.byteCount)
            } else {
                let count = item.byteCount
                let name = item.path ?? item.name
                source = .loader(
                    byteCount: count,
                    load: { [self] in try client.read(self, index: index, count: count, name: name, into: nil) ?? .empty },
                    readInto: { [self] destination in
                        _ = try client.read(self, index: index, count: count, name: name, into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<count]))
                    })
            }
            tensors.append(try StoredTensor(
                name: item.name, dtype: dtype, shape: item.shape, strides: item.strides, byteOrder: item.bigEndian ? .big : .little,
                source: source, file: file.path, path: item.path, attributes: item.attributes))
        }
        let config = try description.modelConfig.map { try KerasH5Layout.parseConfig($0, file: file.path, key: "model_config") }
        return TensorArchive(file: file.path, format: format, metadata: description.metadata, tensors: tensors, skipped: description.skipped, modelConfig: config)
    }
}
