/// Makes Zoo tensors of the `TorchTensorRef`s a pickle describes, once the bytes
/// of their storages are located (a zip member, or a region of a legacy file).
enum TorchTensorBuilder {
    /// Where a storage's bytes are.
    enum StorageBytes {
        /// `count` bytes at `offset` of the mapped file: tensors are zero-copy views.
        case mapped(MappedFile, offset: Int, count: Int)
        /// Bytes produced on request (a deflated zip member).
        case loader(count: Int, load: @Sendable () throws -> TensorBytes)

        var count: Int {
            switch self {
            case .mapped(_, _, let count): count
            case .loader(let count, _): count
            }
        }
    }

    /// The tensor `name` viewing `storage` at the reference's offset, shape and strides.
    /// - Throws: `.truncated` when the storage holds fewer bytes than its persistent id
    ///   declares or than the view addresses.
    static func tensor(
        name: String, _ ref: TorchTensorRef, storage: StorageBytes, byteOrder: ByteOrder, file: String, path: String
    ) throws -> StoredTensor {
        let itemSize = ref.storage.dtype.byteCount
        let (declared, o1) = ref.storage.elementCount.multipliedReportingOverflow(by: itemSize)
        guard !o1 else { throw FormatError(file: file, .shapeOverflow(at: .key(path), shape: [ref.storage.elementCount])) }
        guard declared <= storage.count else {
            throw FormatError(file: file, .truncated(
                at: .key(path), needed: declared, available: storage.count,
                what: "storage '\(ref.storage.key)' of \(ref.storage.elementCount) \(ref.storage.dtype) elements"))
        }
        let (start, o2) = ref.storageOffset.multipliedReportingOverflow(by: itemSize)
        guard !o2, start <= declared else {
            throw FormatError(file: file, .truncated(
                at: .key(path), needed: o2 ? Int.max : start, available: declared,
                what: "the storage offset \(ref.storageOffset) of '\(name)'"))
        }
        // A view with zero strides (`t.expand(…)`) reads elements more than once; materializing
        // it must not allocate without bound: at most 1024× the storage it views.
        if let logical = checkedElementCount(ref.shape) {
            let (bytes, o3) = logical.multipliedReportingOverflow(by: itemSize)
            let (limit, o4) = max(declared - start, itemSize).multipliedReportingOverflow(by: 1024)
            guard !o3, o4 || bytes <= limit else {
                throw FormatError(file: file, .malformed(
                    at: .key(path), expected: "a view of at most 1024× the \(declared - start) bytes it reads",
                    found: "'\(name)' of shape \(ref.shape), strides \(ref.strides): \(o3 ? "an overflowing" : "a \(bytes)-byte") tensor"))
            }
        }
        let source: TensorSource
        switch storage {
        case .mapped(let mapped, let offset, _):
            source = .mapped(mapped, offset: offset + start, count: declared - start)
        case .loader(_, let load):
            source = .loader(byteCount: declared - start) {
                let bytes = try load()
                guard bytes.count >= declared else {
                    throw FormatError(file: file, .truncated(at: .key(path), needed: declared, available: bytes.count, what: "storage '\(ref.storage.key)'"))
                }
                return TensorBytes(buffer: UnsafeRawBufferPointer(rebasing: bytes.buffer[start..<declared]), owner: bytes.owner)
            }
        }
        var attributes: [String: String] = [:]
        if let first = name.split(separator: ".").first, first.lowercased().contains("optim") {
            attributes["role"] = "optimizer"
        }
        return try StoredTensor(
            name: name, dtype: ref.storage.dtype, shape: ref.shape, strides: ref.strides, byteOrder: byteOrder,
            source: source, file: file, path: path, attributes: attributes)
    }
}
