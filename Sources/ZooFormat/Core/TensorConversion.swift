/// Reading a tensor's elements in C order, little-endian, or as `Float`/`Double`:
/// dtype conversion, byte swapping and stride (Fortran order, views) handled
/// together in one pass over the stored bytes.
extension StoredTensor {
    /// The elements in C order, little-endian, in the stored dtype.
    ///
    /// A view of the stored bytes when `isCanonical` (no copy); otherwise one
    /// gathering pass into a new buffer. This is the byte string `sha256` hashes
    /// and writers store.
    public func canonicalBytes() throws -> TensorBytes {
        let stored = try storedBytes()
        if isCanonical {
            return TensorBytes(buffer: UnsafeRawBufferPointer(rebasing: stored.buffer[0..<byteCount]), owner: stored.owner)
        }
        let output = HeapBuffer(count: byteCount)
        let swap = byteOrder != .little && dtype.swapUnit > 1
        stored.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            switch dtype.byteCount {
            case 1: gatherBits(UInt8.self, from: base, to: output.pointer, swap: false)
            case 2 where dtype.swapUnit == 2: gatherBits(UInt16.self, from: base, to: output.pointer, swap: swap)
            case 4 where dtype.swapUnit == 4: gatherBits(UInt32.self, from: base, to: output.pointer, swap: swap)
            case 8 where dtype.swapUnit == 8: gatherBits(UInt64.self, from: base, to: output.pointer, swap: swap)
            default: gatherOpaque(from: base, to: output.pointer, swap: swap)
            }
        }
        return output.bytes
    }

    /// All elements converted to `Float`, in C order.
    /// - Throws: `.unsupportedDType` for an opaque dtype; read errors of the source.
    public func floats() throws -> [Float] {
        try [Float](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            adviseHugePages(buffer.baseAddress, count: buffer.count * MemoryLayout<Float>.stride)
            try readFloats(into: buffer)
            initialized = elementCount
        }
    }

    /// Converts all elements to `Float` into `destination` (which must hold `elementCount` values).
    ///
    /// float16, bfloat16 and the integer types convert exactly where `Float` can
    /// represent the value; float64 and 64-bit integers round to nearest.
    public func readFloats(into destination: UnsafeMutableBufferPointer<Float>) throws {
        try readConverted(into: destination)
    }

    /// All elements converted to `Double`, in C order (used for statistics).
    public func doubles() throws -> [Double] {
        try [Double](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            adviseHugePages(buffer.baseAddress, count: buffer.count * MemoryLayout<Double>.stride)
            try readConverted(into: buffer)
            initialized = elementCount
        }
    }

    /// Mapped tensors at least this large are `pread` into a same-dtype destination;
    /// smaller ones are copied from the mapping (a system call would cost more).
    static let directReadThreshold = 1 << 16

    /// `pread`s the bytes at `offset` into `raw`; when they end a stored zip member not yet
    /// verified, its CRC-32 is computed in the same pass (the member's head, an `.npy` header,
    /// summed from the mapping first). False when the file cannot be read that way.
    /// - Throws: `.checksumMismatch` for a member whose CRC does not match.
    private static func directRead(_ mapped: MappedFile, offset: Int, into raw: UnsafeMutableRawBufferPointer) throws -> Bool {
        let checks = mapped.storedMembers
        guard let (index, region) = checks.fusableRegion(offset: offset, count: raw.count) else {
            try checks.verify(mapped, offset: offset, count: raw.count)
            return mapped.read(into: raw, offset: offset)
        }
        var crc = Deflate.crc32(UnsafeRawBufferPointer(rebasing: mapped.bytes[region.start..<offset]))
        guard mapped.read(into: raw, offset: offset, crc: &crc) else { return false }
        try checks.record(crc, for: index, region, mapped)
        return true
    }

    private func readConverted<Output: BinaryFloatingPoint>(into destination: UnsafeMutableBufferPointer<Output>) throws {
        guard dtype.isNumeric else {
            throw FormatError(file: file, .unsupportedDType(tensor: name, dtype: dtype.name))
        }
        precondition(destination.count >= elementCount, "destination holds \(destination.count) values, the tensor has \(elementCount)")
        guard elementCount > 0, let output = destination.baseAddress else { return }
        // Stored as `Output` already, host order, no gaps: the bytes go straight into the destination,
        // read from the file (a mapping is not faulted in) or written by the loader.
        if isContiguous, byteOrder == .host,
           (dtype == .float32 && Output.self == Float.self) || (dtype == .float64 && Output.self == Double.self) {
            let raw = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(output), count: byteCount)
            switch source {
            case .mapped(let mapped, let offset, _) where byteCount >= Self.directReadThreshold:
                if try Self.directRead(mapped, offset: offset, into: raw) { return }
            case .loader(let count, _, let readInto?) where count == byteCount:
                try readInto(raw)
                return
            default: break
            }
        }
        let stored = try storedBytes()
        let swap = byteOrder != .host
        stored.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            switch dtype {
            case .bool: convert(UInt8.self, base, output, false) { $0 != 0 ? 1 : 0 }
            case .int8: convert(UInt8.self, base, output, false) { Output(Int8(bitPattern: $0)) }
            case .uint8: convert(UInt8.self, base, output, false) { Output($0) }
            case .int16: convert(UInt16.self, base, output, swap) { Output(Int16(bitPattern: $0)) }
            case .uint16: convert(UInt16.self, base, output, swap) { Output($0) }
            case .int32: convert(UInt32.self, base, output, swap) { Output(Int32(bitPattern: $0)) }
            case .uint32: convert(UInt32.self, base, output, swap) { Output($0) }
            case .int64: convert(UInt64.self, base, output, swap) { Output(Int64(bitPattern: $0)) }
            case .uint64: convert(UInt64.self, base, output, swap) { Output($0) }
            case .float16: convert(UInt16.self, base, output, swap) { Output(floatFromHalfBits($0)) }
            case .bfloat16: convert(UInt16.self, base, output, swap) { Output(floatFromBFloat16Bits($0)) }
            case .float32: convert(UInt32.self, base, output, swap) { Output(Float(bitPattern: $0)) }
            case .float64: convert(UInt64.self, base, output, swap) { Output(Double(bitPattern: $0)) }
            case .opaque: break
            }
        }
    }

    /// One pass: load each stored element as raw bits, swap if needed, map to `Output`.
    @inline(__always)
    private func convert<Bits: FixedWidthInteger, Output>(
        _: Bits.Type, _ base: UnsafeRawPointer, _ output: UnsafeMutablePointer<Output>, _ swap: Bool,
        _ map: (Bits) -> Output
    ) {
        let size = MemoryLayout<Bits>.size
        forEachRun { sourceStart, outputStart, count, stride in
            let step = stride * size
            var at = sourceStart * size
            let out = output + outputStart
            if swap {
                for index in 0..<count {
                    out[index] = map(base.loadUnaligned(fromByteOffset: at, as: Bits.self).byteSwapped)
                    at += step
                }
            } else {
                for index in 0..<count {
                    out[index] = map(base.loadUnaligned(fromByteOffset: at, as: Bits.self))
                    at += step
                }
            }
        }
    }

    private func gatherBits<Bits: FixedWidthInteger>(
        _ type: Bits.Type, from base: UnsafeRawPointer, to output: UnsafeMutableRawPointer, swap: Bool
    ) {
        let typed = output.bindMemory(to: Bits.self, capacity: elementCount)
        convert(Bits.self, base, typed, swap) { $0 }
    }

    /// Copies whole elements of any width, reversing each `swapUnit`-byte part when asked.
    private func gatherOpaque(from base: UnsafeRawPointer, to output: UnsafeMutableRawPointer, swap: Bool) {
        let size = dtype.byteCount
        let unit = dtype.swapUnit
        forEachRun { sourceStart, outputStart, count, sourceStride in
            for index in 0..<count {
                let from = base + (sourceStart + index * sourceStride) * size
                let to = output + (outputStart + index) * size
                to.copyMemory(from: from, byteCount: size)
                if swap && unit > 1 {
                    let bytes = to.assumingMemoryBound(to: UInt8.self)
                    for part in stride(from: 0, to: size, by: unit) {
                        var low = part, high = part + unit - 1
                        while low < high {
                            bytes.swapAt(low, high)
                            low += 1
                            high -= 1
                        }
                    }
                }
            }
        }
    }

    /// Visits the elements in C order as runs along the innermost dimension:
    /// `body(sourceStartElement, outputStartElement, count, sourceStride)`.
    @inline(__always)
    func forEachRun(_ body: (Int, Int, Int, Int) -> Void) {
        guard elementCount > 0 else { return }
        if isContiguous {
            body(0, 0, elementCount, 1)
            return
        }
        let inner = shape.count - 1
        let runLength = shape[inner]
        let runStride = strides[inner]
        var index = [Int](repeating: 0, count: inner)
        var sourceStart = 0
        var outputStart = 0
        while outputStart < elementCount {
            body(sourceStart, outputStart, runLength, runStride)
            outputStart += runLength
            // Advance the odometer over the outer dimensions.
            var axis = inner - 1
            while axis >= 0 {
                index[axis] += 1
                sourceStart += strides[axis]
                if index[axis] < shape[axis] { break }
                sourceStart -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

extension UnsafeMutablePointer where Pointee == UInt8 {
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
