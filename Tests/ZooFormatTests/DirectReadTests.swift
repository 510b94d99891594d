import Foundation
import Testing
@testable import ZooFormat

/// `floats()` / `doubles()` of large mapped tensors stored in the output type are
/// `pread` into the destination; every other case converts from the mapping.
@Suite struct DirectReadTests {
    static func values(_ count: Int) -> [Float] { (0..<count).map { Float($0 % 1009) * 0.125 - 40 } }

    static func littleEndianBytes<T: FixedWidthInteger>(_ words: [T]) -> [UInt8] {
        words.flatMap { word in withUnsafeBytes(of: word.littleEndian) { Array($0) } }
    }

    @Test("large float32 and float64 .npy tensors read the same through pread as through the mapping")
    func largeNPY() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let count = 70_001  // > directReadThreshold bytes, not a multiple of a page
        let floats = Self.values(count)
        let f4 = try directory.write(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (\(count),), }", data: Self.littleEndianBytes(floats.map(\.bitPattern))), to: "f4.npy")
        let f8 = try directory.write(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (\(count),), }", data: Self.littleEndianBytes(floats.map { Double($0).bitPattern })), to: "f8.npy")
        let fortran = try directory.write(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (7, \(count / 7)), }", data: Self.littleEndianBytes(floats.prefix(count / 7 * 7).map(\.bitPattern))), to: "fortran.npy")
        let single = try TensorArchive.open(f4).tensor(named: "f4")
        guard case .mapped = single.source else { Issue.record("f4.npy should be mapped"); return }
        #expect(single.byteCount >= StoredTensor.directReadThreshold)
        #expect(try single.floats() == floats)
        #expect(try single.doubles() == floats.map(Double.init))
        var into = [Float](repeating: .nan, count: count)
        try into.withUnsafeMutableBufferPointer { try single.readFloats(into: $0) }
        #expect(into == floats)
        let double = try TensorArchive.open(f8).tensor(named: "f8")
        #expect(try double.doubles() == floats.map(Double.init))
        #expect(try double.floats() == floats)
        // Fortran order is not contiguous: converted from the mapping, transposed.
        let transposed = try TensorArchive.open(fortran).tensor(named: "fortran")
        let columns = count / 7
        let expected = (0..<7).flatMap { row in (0..<columns).map { column in floats[column * 7 + row] } }
        #expect(try transposed.floats() == expected)
    }

    @Test func mappedFileReadsAtOffsets() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let path = try directory.write(bytes, to: "bytes")
        let file = try MappedFile(path: path)
        var output = [UInt8](repeating: 0, count: 100_000)
        #expect(output.withUnsafeMutableBytes { file.read(into: $0, offset: 12_345) })
        #expect(output == Array(bytes[12_345..<112_345]))
        #expect(!output.withUnsafeMutableBytes { file.read(into: $0, offset: 150_000) })  // past the end
    }
}
