import Foundation
import Testing
@_spi(Fuzzing) import ZooFormat

/// Every committed fuzz seed (Fuzz/Seeds/TARGET, from Fuzz/make_seeds.py) through its fuzz
/// entry point, in the normal test run: the entry points stay working, and an input a fuzzer
/// found (a crash, a hang, a large allocation), once added to the seeds with its fix, is a
/// regression test from then on.
@Suite struct FuzzSeedTests {
    static let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Seeds")

    @Test(arguments: FuzzEntryPoints.Parser.allCases.map(\.rawValue))
    func seedsRunClean(_ target: String) throws {
        let parser = try #require(FuzzEntryPoints.Parser(rawValue: target))
        let directory = Self.seeds.appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!names.isEmpty, "no seeds for \(target)")
        for name in names {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
            bytes.withUnsafeBytes { FuzzEntryPoints.run(parser, $0) }
        }
    }
}
