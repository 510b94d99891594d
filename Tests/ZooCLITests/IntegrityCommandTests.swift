import Foundation
import Testing

/// `zoo verify`, `inspect` on damaged HDF5, a libhdf5 hang, and hostile inputs under a memory limit.
@Suite struct IntegrityCommandTests {
    static func integrityFixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/integrity/\(name)").path
    }

    /// Runs `zoo ARGUMENTS` through `/bin/sh` with `ulimit -v KB` (the address-space limit,
    /// inherited by the libhdf5 helper) and extra environment variables.
    static func run(_ arguments: [String], addressSpaceKB: Int? = nil, environment: [String: String] = [:]) throws -> ZooBinary.Result {
        let quoted = ([ZooBinary.url.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", (addressSpaceKB.map { "ulimit -v \($0); " } ?? "") + "exec " + quoted]
        process.environment = ZooBinary.environment(environment)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ZooBinary.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    @Test func verifyIntactAndDamagedArchives() throws {
        let intact = try ZooBinary.run(["verify", CLIFixture.path("seed_small.npz")])
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stdout.contains("(npz): intact"))
        #expect(intact.stdout.contains("checked: zip CRC-32 of 5 stored members (5 intact)"))

        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: CLIFixture.path("seed_small.npz"))))
        // The last byte of the first member's data (hidden1/kernel.npy: 30 + 18-byte name + 128 + 192 bytes).
        bytes[30 + 18 + 128 + 191] ^= 0x01
        let damaged = try directory.write("damaged.npz", bytes)
        let result = try ZooBinary.run(["verify", damaged])
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stdout.contains("(npz): DAMAGED"))
        #expect(result.stdout.contains("failed: checksum mismatch at 'hidden1/kernel.npy': expected 0x"))
        #expect(result.stderr.contains("damaged.npz: 1 problem found"))
        // inspect --checksums refuses the damaged member too (numpy: BadZipFile: Bad CRC-32).
        let inspect = try ZooBinary.run(["inspect", "--checksums", damaged])
        #expect(inspect.status == 65)
        #expect(inspect.stderr.contains("checksum mismatch at 'hidden1/kernel.npy'"))
    }

    @Test func verifyRegisteredModelChecksTheManifestDigest() throws {
        let result = try ZooBinary.run(["verify", "fashion-0to4-dnn"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("checked: SHA-256 of the whole file matches the manifest (91c78ed83f2a7cd24aa7b46eb3d8975fb849429c889e7532e35930f10c6f951c)"))
        #expect(result.stdout.contains("checked: read 12 of 12 tensors in full"))
    }

    @Test func verifyAndInspectAPartlyDamagedHDF5File() throws {
        let path = Self.integrityFixture("partial.h5")
        let verify = try ZooBinary.run(["verify", path])
        #expect(verify.status == 65)
        #expect(verify.stdout.contains("failed: cannot read at '/bad_fletcher': H5Dread failed (H5Z__filter_fletcher32: data error detected by Fletcher32 checksum"))
        #expect(verify.stdout.contains("failed: tensor 'huge_extent' at '/huge_extent' cannot be read: storage smaller than the extent"))

        let inspect = try ZooBinary.run(["inspect", "--checksums", path])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("2 tensors, 524 parameters"))
        #expect(inspect.stdout.contains("skipped /bad_deflate: cannot read at '/bad_deflate'"))
        #expect(inspect.stderr.contains("zoo: warning: \(path): 4 datasets cannot be read (listed as skipped): /missing_filter, /huge_extent, /bad_fletcher, /bad_deflate"))
    }

    /// libhdf5 never returns on this file: the helper is stopped after the timeout.
    @Test func libhdf5HangBecomesATypedError() throws {
        let path = Self.integrityFixture("hdf5_crash_hang.h5")
        let result = try Self.run(["inspect", path], environment: ["ZOO_HDF5_TIMEOUT": "3"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(path): libhdf5 "), "\(result.stderr)")
        #expect(result.stderr.contains(" failed on malformed input while reading '/"))
        #expect(result.stderr.contains("(no answer within 3 s: the helper process was stopped)"))
    }

    /// The helper can be another program linking ZooFormat, or left out; one that is not a
    /// helper at all is reported with what to do.
    @Test func helperExecutableChoices() throws {
        let path = Self.integrityFixture("filters_lzf.h5")
        let viaHelper = try Self.run(["inspect", "--checksums", path])
        #expect(viaHelper.status == 0)
        let inProcess = try Self.run(["inspect", "--checksums", path], environment: ["ZOO_HDF5_IN_PROCESS": "1"])
        #expect(inProcess.stdout == viaHelper.stdout)
        let explicit = try Self.run(["inspect", "--checksums", path], environment: ["ZOO_HDF5_HELPER_EXECUTABLE": ZooBinary.url.path])
        #expect(explicit.stdout == viaHelper.stdout)
        let wrong = try Self.run(["inspect", path], environment: ["ZOO_HDF5_HELPER_EXECUTABLE": "/bin/true"])
        #expect(wrong.status == 66)
        #expect(wrong.stderr.contains("cannot read: libhdf5's helper process (/bin/true) ended with status 0 without answering: if it is not a program linking ZooFormat, set ZOO_HDF5_HELPER_EXECUTABLE to one (zoo), or ZOO_HDF5_IN_PROCESS=1"), "\(wrong.stderr)")
    }

    /// Hostile files under a 600 MB address-space limit: refused with a typed error, never killed.
    @Test func hostileFilesUnderAMemoryLimit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        // A deflated .npz member announcing 2 GB of float32 (ratio 1000:1 from its 2 MB): the
        // header inflates, the data cannot be allocated under the limit.
        let count = 500_000_000
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (\(count),), }".utf8)
        while (header.count + 11) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        let npyHeader: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        // A deflate stream: one stored, non-final block holding the header, then filler.
        var stream: [UInt8] = [0x00, UInt8(npyHeader.count & 0xFF), UInt8(npyHeader.count >> 8), UInt8(~npyHeader.count & 0xFF), UInt8((~npyHeader.count >> 8) & 0xFF)] + npyHeader
        stream += [UInt8](repeating: 0xFF, count: 2_000_000)
        let bomb = try directory.write("bomb.npz", zipArchive(name: "w.npy", stored: stream, method: 8, size: UInt32(npyHeader.count + count * 4)))
        let inflated = try Self.run(["inspect", "--checksums", bomb], addressSpaceKB: 600_000)
        #expect(inflated.status == 65, "\(inflated.stderr)")
        #expect(inflated.stderr.contains("bomb.npz: cannot allocate 2000000") || inflated.stderr.contains("bomb.npz: malformed at 'w.npy'"), "\(inflated.stderr)")

        // JSON nested 100,000 deep in a safetensors header.
        let deep = Array(("{\"a\":" + String(repeating: "[", count: 100_000)).utf8)
        let json = try directory.write("deep.safetensors", withUnsafeBytes(of: UInt64(deep.count).littleEndian) { Array($0) } + deep)
        let nested = try Self.run(["inspect", json], addressSpaceKB: 600_000)
        #expect(nested.status == 65)
        #expect(nested.stderr.contains("nesting no deeper than 128"))

        // A 100 MB header of `[1,1,1,…]`: refused at 4M values, not built into a 1.6 GB tree.
        let values = Array(("{\"a\":[" + String(repeating: "1,", count: 49_999_990) + "1]}").utf8)
        let wide = try directory.write("wide.safetensors", withUnsafeBytes(of: UInt64(values.count).littleEndian) { Array($0) } + values)
        let refused = try Self.run(["inspect", wide], addressSpaceKB: 600_000)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("values in the document"), "\(refused.stderr)")
    }

    /// A one-member zip (no data descriptor, no ZIP64).
    func zipArchive(name: String, stored: [UInt8], method: UInt16, size: UInt32) -> [UInt8] {
        func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        let nameBytes = Array(name.utf8)
        var bytes = le32(0x0403_4B50) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0x21)
        bytes += le32(0) + le32(UInt32(stored.count)) + le32(size) + le16(UInt16(nameBytes.count)) + le16(0) + nameBytes + stored
        let directory = bytes.count
        bytes += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0x21)
        bytes += le32(0) + le32(UInt32(stored.count)) + le32(size) + le16(UInt16(nameBytes.count)) + le16(0) + le16(0)
        bytes += le16(0) + le16(0) + le32(0) + le32(0) + nameBytes
        bytes += le32(0x0605_4B50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(UInt32(46 + nameBytes.count)) + le32(UInt32(directory)) + le16(0)
        return bytes
    }
}
