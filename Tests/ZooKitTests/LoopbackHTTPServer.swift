import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 file server on 127.0.0.1 for the fetch tests: serves one
/// body at any path, honours `Range: bytes=N-` with 206, records the ranges
/// asked for, and can cut a response short to simulate a dropped connection.
final class LoopbackHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let socket: Int32
    private let body: [UInt8]
    private let lock = NSLock()
    private var _ranges: [Int?] = []
    /// Close the connection after this many body bytes of the next response (once).
    var cutAfter: Int?

    var ranges: [Int?] { lock.withLock { _ranges } }

    init(body: [UInt8]) throws {
        self.body = body
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(socket, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        self.socket = socket
        Thread.detachNewThread { [self] in self.serve() }
    }

    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private func serve() {
        while true {
            let client = accept(socket, nil, nil)
            guard client >= 0 else { return }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: Array("\r\n\r\n".utf8)) {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { return }
            request += buffer[0..<count]
            if request.count > 65536 { return }
        }
        let text = String(decoding: request, as: UTF8.self)
        var start: Int?
        for line in text.split(separator: "\r\n") where line.lowercased().hasPrefix("range: bytes=") {
            start = Int(line.dropFirst("range: bytes=".count).split(separator: "-").first ?? "")
        }
        lock.withLock { _ranges.append(start) }
        let from = min(start ?? 0, body.count)
        var slice = Array(body[from...])
        let status = start == nil ? "200 OK" : "206 Partial Content"
        var header = "HTTP/1.1 \(status)\r\nContent-Length: \(slice.count)\r\nConnection: close\r\n"
        if start != nil { header += "Content-Range: bytes \(from)-\(body.count - 1)/\(body.count)\r\n" }
        header += "\r\n"
        if let cut = cutAfter {
            cutAfter = nil
            slice = Array(slice.prefix(cut))
        }
        writeAll(client, Array(header.utf8) + slice)
    }

    private func writeAll(_ client: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            guard written > 0 else { return }
            offset += written
        }
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
