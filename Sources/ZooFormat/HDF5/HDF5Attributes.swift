import CHDF5

/// An attribute's value: strings (fixed or variable length), or numbers.
enum HDF5AttributeValue: Equatable {
    case strings([String])
    case numbers([Double])
    case unsupported

    /// A single string, or the strings joined with commas.
    var text: String? {
        switch self {
        case .strings(let values): values.count == 1 ? values[0] : values.joined(separator: ",")
        case .numbers(let values): values.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) }.joined(separator: ",")
        case .unsupported: nil
        }
    }
}

extension HDF5File {
    /// The names of the attributes of the object at `objectPath`.
    func attributeNames(_ objectPath: String) throws -> [String] {
        try HDF5.locked {
            try Self.wrap(path, at: .key(objectPath)) {
                var names: [String] = []
                var index: hsize_t = 0
                while index < 100_000 {
                    let length = H5Aget_name_by_idx(handle.id, objectPath, H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, zoo_h5p_default())
                    if length < 0 {
                        _ = HDF5.currentStack()  // past the last attribute
                        break
                    }
                    var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                    try HDF5.check("H5Aget_name_by_idx", H5Aget_name_by_idx(handle.id, objectPath, H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, zoo_h5p_default()))
                    names.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
                    index += 1
                }
                return names
            }
        }
    }

    /// The attribute `name` of the object at `objectPath`, or nil if it has none.
    func attribute(_ name: String, of objectPath: String) throws -> HDF5AttributeValue? {
        try HDF5.locked {
            try Self.wrap(path, at: .key(objectPath + "@" + name)) {
                let exists = H5Aexists_by_name(handle.id, objectPath, name, zoo_h5p_default())
                guard exists > 0 else {
                    _ = HDF5.currentStack()
                    return nil
                }
                let attribute = try HDF5Handle.open("H5Aopen_by_name") { H5Aopen_by_name(handle.id, objectPath, name, zoo_h5p_default(), zoo_h5p_default()) }
                let type = try HDF5Handle.open("H5Aget_type") { H5Aget_type(attribute.id) }
                let space = try HDF5Handle.open("H5Aget_space") { H5Aget_space(attribute.id) }
                let count = Int(try HDF5.check("H5Sget_simple_extent_npoints", H5Sget_simple_extent_npoints(space.id)))
                guard count <= 10_000_000 else { return .unsupported }
                switch H5Tget_class(type.id) {
                case H5T_STRING:
                    return .strings(try Self.readStrings(attribute: attribute.id, type: type.id, space: space.id, count: count))
                case H5T_INTEGER, H5T_FLOAT:
                    var values = [Double](repeating: 0, count: count)
                    let memory = try HDF5Handle.open("H5Tcopy") { H5Tcopy(zoo_h5t_ieee_f64le()) }
                    try HDF5.check("H5Aread", H5Aread(attribute.id, memory.id, &values))
                    return .numbers(values)
                default:
                    return .unsupported
                }
            }
        }
    }

    private static func readStrings(attribute: hid_t, type: hid_t, space: hid_t, count: Int) throws(HDF5Error) -> [String] {
        if H5Tis_variable_str(type) > 0 {
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let memory = try HDF5Handle.open("H5Tcopy") { H5Tcopy(type) }
            try HDF5.check("H5Aread", H5Aread(attribute, memory.id, &pointers))
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = zoo_vlen_reclaim(memory.id, space, &pointers)
            return strings
        }
        let size = H5Tget_size(type)
        guard size > 0, size <= 1 << 24 else { return [] }
        var bytes = [UInt8](repeating: 0, count: size * count)
        try HDF5.check("H5Aread", H5Aread(attribute, type, &bytes))
        return (0..<count).map { index in
            let element = bytes[index * size..<(index + 1) * size]
            let end = element.firstIndex(of: 0) ?? element.endIndex
            var text = String(decoding: element[element.startIndex..<end], as: UTF8.self)
            while text.last == " " { text.removeLast() }  // space-padded strings
            return text
        }
    }
}
