import CHDF5

/// What a dataset holds, read from its type, dataspace and creation properties.
struct HDF5DatasetInfo {
    enum Content {
        case numeric(DType, ByteOrder)
        case skipped(reason: String)
    }

    let content: Content
    let shape: [Int]
    /// File offset of the raw data when it is stored contiguously, unfiltered
    /// and allocated: then it can be mapped instead of read.
    let contiguousOffset: Int?
    /// Bytes of storage allocated in the file.
    let storageSize: Int
}

extension HDF5File {
    /// The element type, shape and storage of the dataset at `datasetPath`.
    func datasetInfo(_ datasetPath: String) throws -> HDF5DatasetInfo {
        try HDF5.locked {
            try Self.wrap(path, at: .key(datasetPath)) {
                let dataset = try HDF5Handle.open("H5Dopen2") { H5Dopen2(handle.id, datasetPath, zoo_h5p_default()) }
                let type = try HDF5Handle.open("H5Dget_type") { H5Dget_type(dataset.id) }
                let space = try HDF5Handle.open("H5Dget_space") { H5Dget_space(dataset.id) }
                let spaceClass = H5Sget_simple_extent_type(space.id)
                var shape: [Int] = []
                if spaceClass == H5S_NULL {
                    return HDF5DatasetInfo(content: .skipped(reason: "a null dataspace (no data)"), shape: [], contiguousOffset: nil, storageSize: 0)
                }
                if spaceClass == H5S_SIMPLE {
                    let rank = try HDF5.check("H5Sget_simple_extent_ndims", H5Sget_simple_extent_ndims(space.id))
                    guard rank <= 32 else { throw HDF5Error(operation: "H5Sget_simple_extent_ndims", stack: "rank \(rank)") }
                    var dims = [hsize_t](repeating: 0, count: Int(rank))
                    try HDF5.check("H5Sget_simple_extent_dims", H5Sget_simple_extent_dims(space.id, &dims, nil))
                    for extent in dims {
                        guard extent <= hsize_t(Int.max) else { throw HDF5Error(operation: "H5Sget_simple_extent_dims", stack: "extent \(extent)") }
                        shape.append(Int(extent))
                    }
                }
                let content = try Self.content(of: type.id)
                let storage = Int(clamping: H5Dget_storage_size(dataset.id))
                let properties = try HDF5Handle.open("H5Dget_create_plist") { H5Dget_create_plist(dataset.id) }
                let layout = H5Pget_layout(properties.id)
                if layout == H5D_VIRTUAL {
                    return HDF5DatasetInfo(content: .skipped(reason: "a virtual dataset (its data lives in other files)"), shape: shape, contiguousOffset: nil, storageSize: 0)
                }
                if H5Pget_external_count(properties.id) > 0 {
                    return HDF5DatasetInfo(content: .skipped(reason: "external storage (its data lives in another file)"), shape: shape, contiguousOffset: nil, storageSize: 0)
                }
                var offset: Int?
                if layout == H5D_CONTIGUOUS, H5Pget_nfilters(properties.id) == 0 {
                    let address = H5Dget_offset(dataset.id)
                    if address != zoo_haddr_undef(), address <= haddr_t(Int.max) { offset = Int(address) }
                    _ = HDF5.currentStack()
                }
                return HDF5DatasetInfo(content: content, shape: shape, contiguousOffset: offset, storageSize: storage)
            }
        }
    }

    /// The Zoo dtype of an HDF5 datatype, or why it is skipped.
    private static func content(of type: hid_t) throws(HDF5Error) -> HDF5DatasetInfo.Content {
        let typeClass = H5Tget_class(type)
        let size = H5Tget_size(type)
        let order: ByteOrder = H5Tget_order(type) == H5T_ORDER_BE ? .big : .little
        switch typeClass {
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            let dtype: DType? = switch size {
            case 1: signed ? .int8 : .uint8
            case 2: signed ? .int16 : .uint16
            case 4: signed ? .int32 : .uint32
            case 8: signed ? .int64 : .uint64
            default: nil
            }
            guard let dtype else { return .skipped(reason: "a \(size)-byte integer type") }
            return .numeric(dtype, dtype.byteCount == 1 ? .little : order)
        case H5T_FLOAT:
            var signPosition = 0, exponentPosition = 0, exponentSize = 0, mantissaPosition = 0, mantissaSize = 0
            try HDF5.check("H5Tget_fields", H5Tget_fields(type, &signPosition, &exponentPosition, &exponentSize, &mantissaPosition, &mantissaSize))
            switch (size, exponentSize, mantissaSize) {
            case (2, 5, 10): return .numeric(.float16, order)
            case (2, 8, 7): return .numeric(.bfloat16, order)
            case (4, 8, 23): return .numeric(.float32, order)
            case (8, 11, 52): return .numeric(.float64, order)
            default: return .skipped(reason: "a \(size)-byte float with \(exponentSize) exponent and \(mantissaSize) mantissa bits")
            }
        case H5T_ENUM:
            // h5py stores numpy bools as an int8 enum {FALSE: 0, TRUE: 1}.
            if size == 1, H5Tget_nmembers(type) == 2 {
                return .numeric(.bool, .little)
            }
            return .skipped(reason: "an enum type")
        case H5T_STRING: return .skipped(reason: H5Tis_variable_str(type) > 0 ? "variable-length strings" : "fixed-length strings")
        case H5T_COMPOUND: return .skipped(reason: "a compound (record) type")
        case H5T_REFERENCE: return .skipped(reason: "object references")
        case H5T_VLEN: return .skipped(reason: "variable-length sequences")
        case H5T_ARRAY: return .skipped(reason: "an array element type")
        case H5T_OPAQUE: return .skipped(reason: "an opaque type")
        case H5T_BITFIELD: return .skipped(reason: "a bitfield type")
        default: return .skipped(reason: "an unsupported type class")
        }
    }

    /// Reads the whole dataset at `datasetPath` into `buffer` (which holds
    /// `byteCount` bytes), in the file's element type converted to little-endian;
    /// libhdf5 undoes chunking and filters (deflate, shuffle, fletcher32).
    func readDataset(_ datasetPath: String, into buffer: UnsafeMutableRawPointer, byteCount: Int) throws {
        try HDF5.locked {
            try Self.wrap(path, at: .key(datasetPath)) {
                let dataset = try HDF5Handle.open("H5Dopen2") { H5Dopen2(handle.id, datasetPath, zoo_h5p_default()) }
                let fileType = try HDF5Handle.open("H5Dget_type") { H5Dget_type(dataset.id) }
                let memoryType = try HDF5Handle.open("H5Tcopy") { H5Tcopy(fileType.id) }
                if H5Tget_class(fileType.id) != H5T_ENUM, H5Tget_size(fileType.id) > 1 {
                    try HDF5.check("H5Tset_order", H5Tset_order(memoryType.id, H5T_ORDER_LE))
                }
                let space = try HDF5Handle.open("H5Dget_space") { H5Dget_space(dataset.id) }
                let points = H5Sget_simple_extent_npoints(space.id)
                let needed = Int(points) * H5Tget_size(memoryType.id)
                guard points >= 0, needed <= byteCount else {
                    throw HDF5Error(operation: "H5Dread", stack: "the dataset holds \(needed) bytes, \(byteCount) expected")
                }
                guard needed > 0 else { return }
                try HDF5.check("H5Dread", H5Dread(dataset.id, memoryType.id, zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), buffer))
            }
        }
    }
}
