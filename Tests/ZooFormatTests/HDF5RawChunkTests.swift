import CHDF5
import Foundation
import Testing
@testable import ZooFormat

/// Chunked datasets filtered by `[shuffle,] deflate` are read as raw chunks and
/// decoded by Zoo (libdeflate + unshuffle); everything else by `H5Dread`. Both
/// must give the same elements, including edge chunks and chunks that do not
/// span whole rows.
@Suite struct HDF5RawChunkTests {
    enum Filters: Sendable { case none, deflate, shuffleDeflate, shuffleDeflateFletcher }

    struct Spec: Sendable {
        let name: String
        let type: @Sendable () -> hid_t
        let elementSize: Int
        let shape: [Int]
        let chunk: [Int]
        let filters: Filters
        /// The raw-chunk path applies.
        let raw: Bool
        /// Never written: no chunk is allocated, every element reads as the fill value 0.
        var unwritten = false
    }

    static let specs: [Spec] = [
        Spec(name: "rows_shuffle_deflate", type: zoo_h5t_ieee_f32le, elementSize: 4, shape: [10, 7], chunk: [4, 7], filters: .shuffleDeflate, raw: true),
        Spec(name: "rows_deflate", type: zoo_h5t_ieee_f32le, elementSize: 4, shape: [10, 7], chunk: [4, 7], filters: .deflate, raw: true),
        Spec(name: "rows_deflate_whole", type: zoo_h5t_ieee_f32le, elementSize: 4, shape: [8, 7], chunk: [4, 7], filters: .deflate, raw: true),
        Spec(name: "blocks_f64", type: zoo_h5t_ieee_f64le, elementSize: 8, shape: [5, 10], chunk: [2, 3], filters: .shuffleDeflate, raw: true),
        Spec(name: "blocks_i16", type: zoo_h5t_std_i16le, elementSize: 2, shape: [3, 5, 7], chunk: [2, 2, 3], filters: .shuffleDeflate, raw: true),
        Spec(name: "vector_u8", type: zoo_h5t_std_u8le, elementSize: 1, shape: [1000], chunk: [300], filters: .shuffleDeflate, raw: true),
        Spec(name: "fletcher", type: zoo_h5t_ieee_f64le, elementSize: 8, shape: [5, 10], chunk: [2, 3], filters: .shuffleDeflateFletcher, raw: false),
        Spec(name: "unfiltered", type: zoo_h5t_ieee_f32le, elementSize: 4, shape: [9, 5], chunk: [4, 5], filters: .none, raw: false),
        Spec(name: "unwritten", type: zoo_h5t_ieee_f32le, elementSize: 4, shape: [10, 7], chunk: [4, 7], filters: .shuffleDeflate, raw: true, unwritten: true),
        Spec(name: "big_endian", type: bigEndianFloat, elementSize: 4, shape: [10, 7], chunk: [4, 7], filters: .shuffleDeflate, raw: false),
    ]

    /// A big-endian float32 (a new type id, leaked: tests only).
    @Sendable static func bigEndianFloat() -> hid_t {
        let type = H5Tcopy(zoo_h5t_ieee_f32le())
        H5Tset_order(type, H5T_ORDER_BE)
        return type
    }

    /// Element `i` of every dataset: i·0.25 - 3 in its type (exact in all of them but u8, which takes i % 251).
    static func value(_ index: Int, _ spec: Spec) -> Double {
        spec.unwritten ? 0 : spec.elementSize == 1 ? Double(index % 251) : Double(index) * (spec.elementSize == 2 ? 1 : 0.25) - 3
    }

    /// Writes every spec as a root dataset of a new file, with libhdf5 directly.
    static func writeFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-raw-chunks-\(UUID().uuidString).h5").path
        try HDF5.locked {
            let file = try HDF5Handle.open("H5Fcreate") { H5Fcreate(path, zoo_h5f_acc_trunc(), zoo_h5p_default(), zoo_h5p_default()) }
            for spec in specs {
                let dims = spec.shape.map { hsize_t($0) }
                let space = try HDF5Handle.open("H5Screate_simple") { H5Screate_simple(Int32(dims.count), dims, nil) }
                let properties = try HDF5Handle.open("H5Pcreate") { H5Pcreate(zoo_h5p_dataset_create()) }
                try HDF5.check("H5Pset_chunk", H5Pset_chunk(properties.id, Int32(dims.count), spec.chunk.map { hsize_t($0) }))
                switch spec.filters {
                case .none: break
                case .deflate: try HDF5.check("H5Pset_deflate", H5Pset_deflate(properties.id, 4))
                case .shuffleDeflate, .shuffleDeflateFletcher:
                    try HDF5.check("H5Pset_shuffle", H5Pset_shuffle(properties.id))
                    try HDF5.check("H5Pset_deflate", H5Pset_deflate(properties.id, 4))
                    if case .shuffleDeflateFletcher = spec.filters { try HDF5.check("H5Pset_fletcher32", H5Pset_fletcher32(properties.id)) }
                }
                let dataset = try HDF5Handle.open("H5Dcreate2") {
                    H5Dcreate2(file.id, spec.name, spec.type(), space.id, zoo_h5p_default(), properties.id, zoo_h5p_default())
                }
                if spec.unwritten { continue }
                // Written from doubles: libhdf5 converts to the dataset's type.
                let count = spec.shape.reduce(1, *)
                let values = (0..<count).map { value($0, spec) }
                try HDF5.check("H5Dwrite", H5Dwrite(dataset.id, zoo_h5t_ieee_f64le(), zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), values))
            }
        }
        return path
    }

    @Test func rawChunksReadTheSameElementsAsH5Dread() throws {
        let path = try Self.writeFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let archive = try TensorArchive.open(path)
        for spec in Self.specs {
            let tensor = try archive.tensor(named: spec.name)
            #expect(tensor.shape == spec.shape, "\(spec.name)")
            let expected = (0..<tensor.elementCount).map { Self.value($0, spec) }
            // floats() (straight into the array for float32), doubles(), and the stored bytes.
            #expect(try tensor.doubles() == expected, "\(spec.name)")
            #expect(try tensor.floats() == expected.map(Float.init), "\(spec.name)")
            #expect(try tensor.canonicalBytes().count == tensor.byteCount, "\(spec.name)")
            #expect(try StoredTensor(name: "copy", dtype: tensor.dtype, shape: tensor.shape, source: .loader(byteCount: tensor.byteCount) { try tensor.storedBytes() }, file: path).doubles() == expected, "\(spec.name)")
        }
    }

    @Test func onlyShuffleDeflateTakesTheRawPath() throws {
        let path = try Self.writeFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try MappedFile(path: path)
        let file = try HDF5File(path: path, mapped: mapped)
        for spec in Self.specs {
            let plan = try HDF5.locked { () throws -> RawChunkPlan? in
                let dataset = try HDF5Handle.open("H5Dopen2") { H5Dopen2(file.handle.id, spec.name, zoo_h5p_default()) }
                let fileType = try HDF5Handle.open("H5Dget_type") { H5Dget_type(dataset.id) }
                let memoryType = try HDF5Handle.open("H5Tcopy") { H5Tcopy(fileType.id) }
                if H5Tget_size(fileType.id) > 1 { try HDF5.check("H5Tset_order", H5Tset_order(memoryType.id, H5T_ORDER_LE)) }
                let space = try HDF5Handle.open("H5Dget_space") { H5Dget_space(dataset.id) }
                let properties = try HDF5Handle.open("H5Dget_create_plist") { H5Dget_create_plist(dataset.id) }
                guard H5Pget_nfilters(properties.id) > 0 else { return nil }
                return try HDF5File.rawChunkPlan(dataset, properties: properties.id, fileType: fileType.id, memoryType: memoryType.id, space: space.id)
            }
            #expect((plan != nil) == spec.raw, "\(spec.name)")
            if let plan, spec.unwritten {
                // Missing chunks: the raw path declines, H5Dread fills.
                let buffer = HeapBuffer(count: spec.shape.reduce(1, *) * spec.elementSize)
                #expect(try !plan.read(into: buffer.pointer), "\(spec.name)")
            } else if let plan {
                // The raw path alone (no fallback) reproduces the values.
                let buffer = HeapBuffer(count: spec.shape.reduce(1, *) * spec.elementSize)
                #expect(try plan.read(into: buffer.pointer), "\(spec.name)")
                let viaH5Dread = HeapBuffer(count: buffer.count)
                try HDF5.locked {
                    _ = try HDF5.check("H5Dread", H5Dread(plan.dataset.id, plan.memoryType.id, zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), viaH5Dread.pointer))
                }
                #expect(memcmp(buffer.pointer, viaH5Dread.pointer, buffer.count) == 0, "\(spec.name)")
            }
        }
    }

    @Test func unshuffleUndoesHDF5Shuffle() {
        for size in [1, 2, 3, 4, 8] {
            let elements = 13
            let plain = (0..<elements * size).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            var shuffled = [UInt8](repeating: 0, count: plain.count)
            for i in 0..<elements { for j in 0..<size { shuffled[j * elements + i] = plain[i * size + j] } }
            var output = [UInt8](repeating: 0, count: plain.count)
            shuffled.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { unshuffle(input.baseAddress!, into: $0.baseAddress!, stride: elements, count: elements - 3, size: size) }
            }
            #expect(Array(output[0..<(elements - 3) * size]) == Array(plain[0..<(elements - 3) * size]), "size \(size)")
        }
    }
}
