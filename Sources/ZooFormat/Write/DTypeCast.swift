extension StoredTensor {
    /// A tensor with the same name and shape whose elements are converted to
    /// `target` (C order, little-endian) when read. No work is done until then.
    ///
    /// Converting to float16/bfloat16 rounds to nearest even, as NumPy and PyTorch do,
    /// from float64 sources too (through a round-to-odd `Float`, which avoids double rounding).
    /// - Throws: `.unsupportedDType` if either type is not a floating-point type Zoo converts.
    public func cast(to target: DType) throws -> StoredTensor {
        if target == dtype { return self }
        guard dtype.isNumeric else { throw FormatError(file: file, .unsupportedDType(tensor: name, dtype: dtype.name)) }
        guard target.isFloatingPoint else {
            throw FormatError(file: file, .cannotRepresent(what: "'\(name)' as \(target.name)", why: "only casts to float16, bfloat16, float32 and float64 are supported"))
        }
        let original = self
        let count = elementCount
        let source = TensorSource.loader(byteCount: count * target.byteCount) {
            let output = HeapBuffer(count: count * target.byteCount)
            switch target {
            case .float64:
                let values = try original.doubles()
                values.withUnsafeBytes { output.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            default:
                let values = original.dtype == .float64 ? try original.doubles().map(floatRoundedToOdd) : try original.floats()
                let float16 = target == .float16
                switch target {
                case .float32:
                    values.withUnsafeBytes { output.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                default:
                    let bits = output.pointer.bindMemory(to: UInt16.self, capacity: count)
                    for index in 0..<count {
                        bits[index] = float16 ? halfBits(from: values[index]) : bfloat16Bits(from: values[index])
                    }
                }
            }
            return output.bytes
        }
        return try StoredTensor(
            name: name, dtype: target, shape: shape, source: source, file: file, path: path, attributes: attributes)
    }
}
