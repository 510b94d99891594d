import Foundation

/// Writes tensors as a PyTorch state dict in `torch.save`'s zip format (what `torch.load(…,
/// weights_only=True)` reads): `ARCHIVE/data.pkl` (an `OrderedDict` of name → tensor, each
/// `torch._utils._rebuild_tensor_v2(storage, 0, shape, contiguous strides, False, OrderedDict())`),
/// one stored, 64-byte-aligned `ARCHIVE/data/K` per tensor in little-endian order, and the
/// `version`, `byteorder`, `.format_version` and `.storage_alignment` records PyTorch 2 writes.
/// Names and layouts are written as given (a state dict in PyTorch's layouts needs them already).
public enum PyTorchWriter {
    /// PyTorch's storage class for each dtype it has.
    static func storageClass(_ dtype: DType) -> String? {
        switch dtype {
        case .float32: "FloatStorage"
        case .float64: "DoubleStorage"
        case .float16: "HalfStorage"
        case .bfloat16: "BFloat16Storage"
        case .int64: "LongStorage"
        case .int32: "IntStorage"
        case .int16: "ShortStorage"
        case .int8: "CharStorage"
        case .uint8: "ByteStorage"
        case .bool: "BoolStorage"
        default: nil
        }
    }

    /// Writes `tensors` to `path` atomically.
    /// - Parameters:
    ///   - tensors: the state dict's entries, in order.
    ///   - path: the `.pt` file; its stem (letters, digits, `_`) names the archive folder, as `torch.save` does.
    /// - Throws: ``FormatError`` with `.duplicateName`, `.cannotRepresent` (a dtype PyTorch has no
    ///   storage for: unsigned 16–64-bit, opaque) or `.writeFailed`.
    public static func write(_ tensors: [StoredTensor], to path: String) throws {
        var names: Set<String> = []
        for tensor in tensors {
            guard names.insert(tensor.name).inserted else { throw FormatError(file: path, .duplicateName(tensor.name)) }
            guard storageClass(tensor.dtype) != nil else {
                throw FormatError(file: path, .cannotRepresent(what: tensor.name, why: "PyTorch has no storage for \(tensor.dtype.name)"))
            }
        }
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let archive = stem.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } && !stem.isEmpty ? stem : "archive"
        let file = try AtomicFile(destination: path)
        let zip = ZipWriter(file: file)
        func record(_ name: String, _ text: String) throws {
            try Array(text.utf8).withUnsafeBytes { try zip.addStored(name: "\(archive)/\(name)", parts: [$0], alignment: 64) }
        }
        let pickle = picklePayload(tensors)
        try pickle.withUnsafeBytes { try zip.addStored(name: "\(archive)/data.pkl", parts: [$0], alignment: 64) }
        try record(".format_version", "1")
        try record(".storage_alignment", "64")
        try record("byteorder", "little")
        for (k, tensor) in tensors.enumerated() {
            let data = try tensor.canonicalBytes()
            try data.withUnsafeBytes { try zip.addStored(name: "\(archive)/data/\(k)", parts: [$0], alignment: 64) }
        }
        try record("version", "3\n")
        try zip.finish()
        try file.commit()
    }

    /// `OrderedDict([(name, _rebuild_tensor_v2(('storage', torch.XStorage, 'K', 'cpu', n), 0, shape, strides, False, OrderedDict())), …])`.
    static func picklePayload(_ tensors: [StoredTensor]) -> [UInt8] {
        var p = PickleWriter()
        p.global("collections", "OrderedDict")
        p.emptyTuple()
        p.reduce()
        p.mark()
        for (k, tensor) in tensors.enumerated() {
            p.string(tensor.name)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.mark()
            p.mark()  // the persistent id
            p.string("storage")
            p.global("torch", storageClass(tensor.dtype)!)
            p.string(String(k))
            p.string("cpu")
            p.int(tensor.shape.reduce(1, *))
            p.tupleFromMark()
            p.persistentID()
            p.int(0)
            p.intTuple(tensor.shape)
            var strides = [Int](repeating: 1, count: tensor.shape.count)
            for d in stride(from: tensor.shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * tensor.shape[d + 1] }
            p.intTuple(strides)
            p.bool(false)
            p.global("collections", "OrderedDict")
            p.emptyTuple()
            p.reduce()
            p.tupleFromMark()
            p.reduce()
        }
        p.setItemsFromMark()
        p.stop()
        return p.bytes
    }
}
