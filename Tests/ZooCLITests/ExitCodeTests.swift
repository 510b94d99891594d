import Foundation
import Testing

/// Scripts rely on the exit codes: 64 bad arguments, 65 malformed input, 66 missing input.
@Suite struct ExitCodeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let arguments: @Sendable (TemporaryDirectory) throws -> [String]
        let status: Int32
        let message: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "missing file", arguments: { ["inspect", $0.path("absent.npy")] }, status: 66, message: "absent.npy: no such file"),
        Case(label: "empty file", arguments: { ["inspect", try $0.write("empty.npy", [])] }, status: 65, message: "empty.npy: the file is empty"),
        Case(label: "unknown magic", arguments: { ["inspect", try $0.write("x.npy", Array("hello, world".utf8))] }, status: 65,
             message: "x.npy: not a tensor file Zoo reads: found 68 65 6C 6C 6F 2C 20 77 at offset 0"),
        Case(label: "truncated npy", arguments: { ["inspect", try $0.write("t.npy", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])] }, status: 65,
             message: "t.npy: truncated at offset 0"),
        Case(label: "bad dtype option", arguments: { ["convert", CLIFixture.path("seed_small.npz"), $0.path("o.npz"), "--dtype", "int7"] }, status: 64,
             message: "--dtype must be"),
        Case(label: "unknown output extension", arguments: { ["convert", CLIFixture.path("seed_small.npz"), $0.path("o.bin")] }, status: 64,
             message: "cannot tell the output format"),
        Case(label: "bad rename rule", arguments: { ["convert", CLIFixture.path("seed_small.npz"), $0.path("o.npz"), "--rename", "noequals"] }, status: 64,
             message: "has no '='"),
        Case(label: "bad regex", arguments: { ["convert", CLIFixture.path("seed_small.npz"), $0.path("o.npz"), "--only", "(["] }, status: 64,
             message: "not a valid regular expression"),
    ]

    @Test(arguments: cases)
    func exitCodeAndMessage(_ testCase: Case) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let result = try ZooBinary.run(try testCase.arguments(directory))
        #expect(result.status == testCase.status, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(testCase.message), "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
