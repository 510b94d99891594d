/// How a tensor's bytes are obtained: a slice of a mapped file, or a loader
/// that produces them on demand (inflating a zip member, reading HDF5, …).
public enum TensorSource: Sendable {
    /// `count` bytes at `offset` of a mapped file: read without copying.
    case mapped(MappedFile, offset: Int, count: Int)
    /// A function that returns the stored bytes; called on every read.
    /// `readInto`, when given, writes the same `byteCount` bytes into a caller's
    /// buffer instead (HDF5 reads straight into a `floats()` array, no intermediate copy).
    case loader(
        byteCount: Int, load: @Sendable () throws -> TensorBytes,
        readInto: (@Sendable (UnsafeMutableRawBufferPointer) throws -> Void)? = nil)

    /// Number of bytes the source holds.
    public var byteCount: Int {
        switch self {
        case .mapped(_, _, let count): count
        case .loader(let count, _, _): count
        }
    }
}

/// One named tensor of a file: its dtype, shape and where its bytes are.
///
/// Reading is lazy: opening a file reads only headers; bytes are produced by
/// `storedBytes()` (zero-copy where the format allows), `canonicalBytes()`
/// (C order, little-endian, stored dtype) or `floats()` (converted in one pass).
///
/// Element `[i0, i1, …]` sits at byte `(i0·strides[0] + i1·strides[1] + …) · dtype.byteCount`
/// of the source, so C order, Fortran order and PyTorch views share one description.
public struct StoredTensor: Sendable {
    /// The canonical variable name (`hidden1/kernel`).
    public var name: String
    /// The element type as stored.
    public let dtype: DType
    /// Dimensions, outermost first. `[]` is a scalar (one element).
    public let shape: [Int]
    /// Element strides, in elements (not bytes), for each dimension.
    public let strides: [Int]
    /// Byte order of the stored elements.
    public let byteOrder: ByteOrder
    /// Where the tensor sits in the file (a zip member, an HDF5 path, a JSON key), if not its name.
    public var path: String?
    /// Framework-specific tags for `inspect --json` (`"role": "optimizer"`, …).
    public var attributes: [String: String]
    /// Where the bytes come from.
    public let source: TensorSource
    /// The file the tensor belongs to, for error messages.
    public let file: String

    /// Number of elements: the product of `shape` (1 for a scalar).
    public let elementCount: Int

    /// Creates a tensor after checking that its shape and strides fit in `source`.
    /// - Throws: `.shapeOverflow` if the element count overflows, `.truncated` if
    ///   the source holds fewer bytes than the shape and strides address.
    public init(
        name: String, dtype: DType, shape: [Int], strides: [Int]? = nil,
        byteOrder: ByteOrder = .little, source: TensorSource, file: String,
        path: String? = nil, attributes: [String: String] = [:]
    ) throws {
        let location = FileLocation.key(path ?? name)
        guard let count = checkedElementCount(shape) else {
            throw FormatError(file: file, .shapeOverflow(at: location, shape: shape))
        }
        let strides = strides ?? contiguousStrides(shape)
        guard strides.count == shape.count, strides.allSatisfy({ $0 >= 0 }) else {
            throw FormatError(file: file, .malformed(at: location, expected: "\(shape.count) non-negative strides", found: "\(strides)"))
        }
        // The furthest element addressed, in bytes: (Σ (shape_k − 1)·stride_k + 1) · itemsize.
        var span = 0
        if count > 0 {
            var last = 0
            for (extent, stride) in zip(shape, strides) {
                let (product, o1) = (extent - 1).multipliedReportingOverflow(by: stride)
                let (sum, o2) = last.addingReportingOverflow(product)
                guard !o1, !o2 else { throw FormatError(file: file, .shapeOverflow(at: location, shape: shape)) }
                last = sum
            }
            let (bytes, o3) = (last + 1).multipliedReportingOverflow(by: dtype.byteCount)
            guard !o3 else { throw FormatError(file: file, .shapeOverflow(at: location, shape: shape)) }
            span = bytes
        }
        guard span <= source.byteCount else {
            throw FormatError(file: file, .truncated(at: location, needed: span, available: source.byteCount, what: "tensor data of shape \(shape) \(dtype)"))
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.byteOrder = byteOrder
        self.source = source
        self.file = file
        self.path = path
        self.attributes = attributes
        self.elementCount = count
    }

    /// A float32 tensor holding a copy of `values` (C order), for writing computed weights.
    /// - Throws: `.shapeOverflow` or `.truncated` when `values` does not hold `shape`'s element count.
    public init(name: String, shape: [Int], floats values: [Float]) throws {
        try self.init(name: name, shape: shape, dtype: .float32, copying: values)
    }

    /// An int64 tensor holding a copy of `values` (C order), e.g. a batch norm's `num_batches_tracked`.
    /// - Throws: `.truncated` when `values` does not hold `shape`'s element count.
    public init(name: String, shape: [Int], int64s values: [Int64]) throws {
        try self.init(name: name, shape: shape, dtype: .int64, copying: values)
    }

    /// A tensor of `dtype` (whose elements are `T`) holding a copy of `values`.
    private init<T>(name: String, shape: [Int], dtype: DType, copying values: [T]) throws {
        let buffer = HeapBuffer(count: values.count * MemoryLayout<T>.stride)
        values.withUnsafeBytes { if let base = $0.baseAddress { buffer.pointer.copyMemory(from: base, byteCount: $0.count) } }
        guard checkedElementCount(shape) == values.count else {
            throw FormatError(file: name, .truncated(at: .key(name), needed: checkedElementCount(shape) ?? Int.max, available: values.count, what: "values for shape \(shape)"))
        }
        try self.init(name: name, dtype: dtype, shape: shape, source: .loader(byteCount: buffer.count) { buffer.bytes }, file: name)
    }

    /// Size of the tensor's elements in bytes: `elementCount · dtype.byteCount`.
    public var byteCount: Int { elementCount * dtype.byteCount }

    /// Whether elements are stored in C order with no gaps.
    public var isContiguous: Bool { elementCount <= 1 || strides == contiguousStrides(shape) || hasOnlyTrivialGaps }

    /// Whether the stored bytes already are C order, little-endian: then
    /// `canonicalBytes()` is a view, not a copy.
    public var isCanonical: Bool {
        isContiguous && (byteOrder == .little || dtype.swapUnit == 1)
    }

    /// Strides only differ from C order in dimensions of extent 1 (which are never stepped over).
    private var hasOnlyTrivialGaps: Bool {
        let expected = contiguousStrides(shape)
        return zip(zip(strides, expected), shape).allSatisfy { pair, extent in extent == 1 || pair.0 == pair.1 }
    }

    /// The bytes as stored: the whole source (which may hold more than the tensor, for views).
    /// - Throws: `.checksumMismatch` when they lie in a stored zip member whose CRC-32 does
    ///   not match (checked at the first read), and the source's read errors.
    public func storedBytes() throws -> TensorBytes {
        switch source {
        case .mapped(let file, let offset, let count):
            try Self.verifiedView(file, offset: offset, count: count)
        case .loader(let count, let load, _):
            try checkedLoad(expected: count, load)
        }
    }

    /// A view of mapped bytes after the stored zip members they lie in are verified.
    static func verifiedView(_ file: MappedFile, offset: Int, count: Int) throws -> TensorBytes {
        try file.storedMembers.verify(file, offset: offset, count: count)
        return TensorBytes(file: file, offset: offset, count: count)
    }

    private func checkedLoad(expected: Int, _ load: () throws -> TensorBytes) throws -> TensorBytes {
        let bytes = try load()
        guard bytes.count >= expected else {
            throw FormatError(file: file, .truncated(at: .key(path ?? name), needed: expected, available: bytes.count, what: "tensor data"))
        }
        return bytes
    }
}

/// C-order strides in elements for `shape`.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in shape.indices.reversed() {
        strides[axis] = running
        running = running &* Swift.max(shape[axis], 1)
    }
    return strides
}

/// Fortran-order strides in elements for `shape`.
public func fortranStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in shape.indices {
        strides[axis] = running
        running = running &* Swift.max(shape[axis], 1)
    }
    return strides
}

/// The product of `shape`, or nil if a dimension is negative or the product overflows.
public func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for extent in shape {
        guard extent >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: extent)
        guard !overflow else { return nil }
        count = product
    }
    // Element counts beyond 2^62 cannot be backed by any file either.
    return count <= Int.max / 16 ? count : nil
}
