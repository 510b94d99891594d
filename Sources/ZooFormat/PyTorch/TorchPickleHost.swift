/// The globals a PyTorch checkpoint may name, and what calling them means.
///
/// `torch.save` pickles a tensor as
///
///     torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks)
///
/// where `storage` is a persistent id `('storage', torch.FloatStorage, '0', 'cpu', 12)`,
/// a parameter as `torch._utils._rebuild_parameter(tensor, requires_grad, backward_hooks)`,
/// and a state dict as a `collections.OrderedDict`. Those names, the storage types
/// and a few harmless ones (`torch.Size`, dtypes) are the allowlist; any other
/// global — `os.system`, `builtins.eval`, a pickled `nn.Module` class — is refused
/// with an error naming it, before anything could be called. "Calling" an allowed
/// global only builds a description (`TorchTensorRef`).
struct TorchPickleHost: PickleHost {
    let file: String

    /// Storage type names and their element types.
    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool, "UInt16Storage": .uint16, "UInt32Storage": .uint32,
        "UInt64Storage": .uint64, "UntypedStorage": .uint8,
        "ComplexFloatStorage": .opaque(name: "complex64", byteCount: 8, swapUnit: 4),
        "ComplexDoubleStorage": .opaque(name: "complex128", byteCount: 16, swapUnit: 8),
    ]

    /// Functions whose calls are evaluated symbolically.
    static let functions: Set<String> = [
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
        "collections.OrderedDict", "torch.Size", "builtins.set", "builtins.frozenset", "__builtin__.set",
        // Protocol 2 pickles `bytes` as _codecs.encode('…', 'latin1'): evaluated here, not called.
        "_codecs.encode",
    ]

    /// Names allowed as values only (the type argument of `_rebuild_from_type_v2`, dtypes).
    static let values: Set<String> = ["torch.Tensor", "torch.nn.parameter.Parameter", "torch.device"]

    /// `torch.float32`-style dtype globals (the dtype argument of `_rebuild_tensor_v3`).
    static let dtypes: [String: DType] = [
        "float32": .float32, "float": .float32, "float64": .float64, "double": .float64, "float16": .float16,
        "half": .float16, "bfloat16": .bfloat16, "int64": .int64, "long": .int64, "int32": .int32, "int": .int32,
        "int16": .int16, "short": .int16, "int8": .int8, "uint8": .uint8, "bool": .bool, "uint16": .uint16,
        "uint32": .uint32, "uint64": .uint64,
        "complex64": .opaque(name: "complex64", byteCount: 8, swapUnit: 4),
        "complex128": .opaque(name: "complex128", byteCount: 16, swapUnit: 8),
        "float8_e4m3fn": .opaque(name: "float8_e4m3fn", byteCount: 1, swapUnit: 1),
        "float8_e5m2": .opaque(name: "float8_e5m2", byteCount: 1, swapUnit: 1),
        "float8_e4m3fnuz": .opaque(name: "float8_e4m3fnuz", byteCount: 1, swapUnit: 1),
        "float8_e5m2fnuz": .opaque(name: "float8_e5m2fnuz", byteCount: 1, swapUnit: 1),
        "float8_e8m0fnu": .opaque(name: "float8_e8m0fnu", byteCount: 1, swapUnit: 1),
    ]

    func global(module: String, name: String, at location: FileLocation) throws -> PickleValue {
        let full = "\(module).\(name)"
        if Self.functions.contains(full) || Self.values.contains(full) { return .global(module: module, name: name) }
        if module == "torch" || module == "torch.storage", Self.storageTypes[name] != nil { return .global(module: module, name: name) }
        if module == "torch", Self.dtypes[name] != nil { return .object("torch.\(name)") }
        if module.hasPrefix("torch.nn.") {
            throw FormatError(file: file, .malformed(
                at: location, expected: "a state dict (tensors in dicts and lists)",
                found: "a pickled Python object of class '\(full)': a whole nn.Module was saved; Zoo reads only state dicts, so save model.state_dict() instead (the global was refused, nothing was executed)"))
        }
        if module == "__main__" {
            throw FormatError(file: file, .malformed(
                at: location, expected: "a state dict (tensors in dicts and lists)",
                found: "a pickled object of the script's own class '\(full)' (a whole nn.Module? Zoo reads only state dicts: save model.state_dict() instead; the global was refused, nothing was executed)"))
        }
        if (module == "torch._utils" && name.hasPrefix("_rebuild_")) || (module == "torch" && name.hasSuffix("Storage")) {
            throw FormatError(file: file, .malformed(
                at: location, expected: "dense CPU tensors of a dtype Zoo reads",
                found: "'\(full)': a kind of tensor or storage Zoo does not read (quantized, sparse, meta, nested or device-specific); nothing was executed"))
        }
        throw FormatError(file: file, .malformed(
            at: location, expected: "only torch tensor and storage rebuilders and collections.OrderedDict as pickle globals",
            found: "the global '\(full)' (refused: loading it could run code; nothing was executed)"))
    }

    func call(_ callable: PickleValue, _ arguments: [PickleValue], at location: FileLocation) throws -> PickleValue {
        guard case .global(let module, let name) = callable else {
            throw malformed(location, "an allowed global to call", callable.pythonDescription)
        }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            let dict = PickleDict()
            // OrderedDict(iterable of pairs) is possible; OrderedDict() is what torch writes.
            if case .list(let pairs)? = arguments.first {
                for pair in pairs.items {
                    guard case .tuple(let kv) = pair, kv.count == 2 else { throw malformed(location, "(key, value) pairs", pair.pythonDescription) }
                    dict.items.append((kv[0], kv[1]))
                }
            }
            return .dict(dict)
        case "builtins.set", "builtins.frozenset", "__builtin__.set":
            if case .list(let items)? = arguments.first { return .list(PickleList(items.items)) }
            return .list(PickleList())
        case "_codecs.encode":
            guard arguments.count == 2, case .string(let text) = arguments[0], case .string(let encoding) = arguments[1],
                  encoding == "latin1" || encoding == "latin-1" else {
                throw malformed(location, "_codecs.encode(str, 'latin1')", PickleValue.tuple(arguments).pythonDescription)
            }
            var bytes: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw malformed(location, "latin-1 text", "U+\(String(scalar.value, radix: 16))") }
                bytes.append(UInt8(scalar.value))
            }
            return .bytes(bytes)
        case "torch.Size":
            return arguments.first ?? .tuple([])
        case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2":
            return .tensor(try rebuildTensor(arguments, at: location))
        case "torch._utils._rebuild_tensor_v3":
            // (untyped storage, offset, size, stride, requires_grad, hooks, dtype, …): dtypes
            // without a typed storage class; the offset counts elements of `dtype`.
            guard arguments.count >= 7, case .object(let dtypeName) = arguments[6],
                  let dtype = Self.dtypes[String(dtypeName.dropFirst("torch.".count))] else {
                throw malformed(location, "a dtype as the 7th argument of _rebuild_tensor_v3", PickleValue.tuple(arguments).pythonDescription)
            }
            let tensor = try rebuildTensor(arguments, at: location)
            let bytes = tensor.storage.elementCount * tensor.storage.dtype.byteCount
            let storage = TorchStorageRef(dtype: dtype, key: tensor.storage.key, elementCount: bytes / dtype.byteCount)
            return .tensor(TorchTensorRef(storage: storage, storageOffset: tensor.storageOffset, shape: tensor.shape, strides: tensor.strides))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let data = arguments.first, case .tensor = data else {
                throw malformed(location, "a tensor as the first argument of \(name)", arguments.first?.pythonDescription ?? "none")
            }
            return data
        case "torch._tensor._rebuild_from_type_v2":
            // (func, new_type, args, state): the tensor is func(*args); its Python type does not matter here.
            guard arguments.count >= 3, case .tuple(let inner) = arguments[2] else {
                throw malformed(location, "(func, type, args, state) for _rebuild_from_type_v2", PickleValue.tuple(arguments).pythonDescription)
            }
            return try call(arguments[0], inner, at: location)
        default:
            throw malformed(location, "a callable global (a tensor rebuilder or OrderedDict)", "a call of '\(module).\(name)'")
        }
    }

    /// `('storage', storage_type, key, location, numel)` (zip format), or with a sixth
    /// element, `view_metadata`, which must be None (legacy format).
    func persistentLoad(_ id: PickleValue, at location: FileLocation) throws -> PickleValue {
        guard case .tuple(let parts) = id, parts.count == 5 || parts.count == 6,
              case .string("storage") = parts[0] else {
            throw malformed(location, "a persistent id ('storage', type, key, location, size)", id.pythonDescription)
        }
        guard case .global(_, let typeName) = parts[1], let dtype = Self.storageTypes[typeName] else {
            throw malformed(location, "a torch storage type", parts[1].pythonDescription)
        }
        let key: String
        switch parts[2] {
        case .string(let text): key = text
        case .int(let number): key = String(number)
        default: throw malformed(location, "a storage key", parts[2].pythonDescription)
        }
        guard case .int(let count) = parts[4], count >= 0 else {
            throw malformed(location, "a non-negative storage size", parts[4].pythonDescription)
        }
        if parts.count == 6, case .none = parts[5] {} else if parts.count == 6 {
            throw malformed(location, "no storage view metadata (torch < 0.4 storage views are not supported)", parts[5].pythonDescription)
        }
        return .storage(TorchStorageRef(dtype: dtype, key: key, elementCount: count))
    }

    private func rebuildTensor(_ arguments: [PickleValue], at location: FileLocation) throws -> TorchTensorRef {
        guard arguments.count >= 4, case .storage(let storage) = arguments[0], case .int(let offset) = arguments[1], offset >= 0 else {
            throw malformed(location, "(storage, storage_offset, size, stride, …) for _rebuild_tensor_v2", PickleValue.tuple(arguments).pythonDescription)
        }
        let shape = try integers(arguments[2], "a size tuple", location)
        let strides = try integers(arguments[3], "a stride tuple", location)
        guard shape.count == strides.count else {
            throw malformed(location, "as many strides as dimensions", "size \(shape), stride \(strides)")
        }
        return TorchTensorRef(storage: storage, storageOffset: offset, shape: shape, strides: strides)
    }

    private func integers(_ value: PickleValue, _ what: String, _ location: FileLocation) throws -> [Int] {
        let items: [PickleValue]
        switch value {
        case .tuple(let values): items = values
        case .list(let list): items = list.items
        default: throw malformed(location, what, value.pythonDescription)
        }
        return try items.map { item in
            guard case .int(let number) = item, number >= 0 else { throw malformed(location, "\(what) of non-negative integers", value.pythonDescription) }
            return number
        }
    }

    private func malformed(_ location: FileLocation, _ expected: String, _ found: String) -> FormatError {
        FormatError(file: file, .malformed(at: location, expected: expected, found: found))
    }
}
