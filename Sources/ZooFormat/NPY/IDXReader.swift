/// Reads IDX files, the format of MNIST and Fashion-MNIST
/// (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT"):
///
///     offset 0  00 00            two zero bytes
///     offset 2  type code        08 uint8, 09 int8, 0B int16, 0C int32, 0D float32, 0E float64
///     offset 3  rank             number of dimensions
///     offset 4  dimensions       rank × UInt32, big-endian
///     then      the data, big-endian, C order
///
/// One tensor, named after the file (`train-images-idx3-ubyte.gz` → `train-images-idx3-ubyte`).
enum IDXReader {
    /// Whether `bytes` start like an IDX file whose dimensions account for exactly its size.
    static func looksLikeIDX(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, let size = elementSize(bytes[2]), bytes[3] > 0, bytes[3] <= 16 else { return false }
        let rank = Int(bytes[3])
        guard bytes.count >= 4 + 4 * rank else { return false }
        var count = 1
        for axis in 0..<rank {
            let extent = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4 + 4 * axis, as: UInt32.self)))
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else { return false }
            count = product
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: size)
        return !overflow && 4 + 4 * rank + total == bytes.count
    }

    static func elementSize(_ code: UInt8) -> Int? {
        switch code {
        case 0x08, 0x09: 1
        case 0x0B: 2
        case 0x0C, 0x0D: 4
        case 0x0E: 8
        default: nil
        }
    }

    static func open(_ file: MappedFile) throws -> TensorArchive {
        let reader = ByteReader(file.bytes, file: file.path)
        let code = try reader.uint8(2, "the IDX type code")
        let dtype: DType
        switch code {
        case 0x08: dtype = .uint8
        case 0x09: dtype = .int8
        case 0x0B: dtype = .int16
        case 0x0C: dtype = .int32
        case 0x0D: dtype = .float32
        case 0x0E: dtype = .float64
        default: throw reader.malformed(2, expected: "an IDX type code (08, 09, 0B, 0C, 0D, 0E)", found: hex([code]))
        }
        let rank = Int(try reader.uint8(3, "the IDX rank"))
        var shape: [Int] = []
        for axis in 0..<rank {
            try reader.require(4 + 4 * axis, 4, "IDX dimension \(axis)")
            shape.append(Int(UInt32(bigEndian: file.bytes.loadUnaligned(fromByteOffset: 4 + 4 * axis, as: UInt32.self))))
        }
        let start = 4 + 4 * rank
        var name = NPYReader.tensorName(forPath: file.path)
        if name.hasSuffix(".gz") { name.removeLast(3) }
        let tensor = try StoredTensor(
            name: name, dtype: dtype, shape: shape, byteOrder: dtype.byteCount == 1 ? .little : .big,
            source: .mapped(file, offset: start, count: file.count - start), file: file.path)
        return TensorArchive(file: file.path, format: .idx, tensors: [tensor])
    }
}
