import CHDF5

/// What a dataset holds, read from its type, dataspace and creation properties.
struct HDF5DatasetInfo {
    enum Content {
        case numeric(DType, ByteOrder)
        /// Not a tensor (strings, references, …).
        case skipped(reason: String)
        /// A tensor that cannot be read (its filter is missing).
        case unreadable(reason: String)
    }

    let content: Content
    let shape: [Int]
    /// File offset of the raw data when it is stored contiguously, unfiltered
    /// and allocated: then it can be mapped instead of read.
    let contiguousOffset: Int?
    /// Bytes of storage allocated in the file.
    let storageSize: Int
    /// Whether the data is chunked (possibly filtered), rather than contiguous or compact.
    var isChunked = false
    /// Whether a filter (compression, checksum) applies to the stored data.
    var isFiltered = false
    /// Whether its chunks carry a fletcher32 checksum (checked by libhdf5 on every read).
    var isChecksummed = false
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
                if let missing = HDF5Filters.missingFilter(properties.id, dataset: dataset.id) {
                    return HDF5DatasetInfo(content: .unreadable(reason: missing), shape: shape, contiguousOffset: nil, storageSize: storage)
                }
                var offset: Int?
                if layout == H5D_CONTIGUOUS, H5Pget_nfilters(properties.id) == 0 {
                    let address = H5Dget_offset(dataset.id)
                    if address != zoo_haddr_undef(), address <= haddr_t(Int.max) { offset = Int(address) }
                    _ = HDF5.currentStack()
                }
                var info = HDF5DatasetInfo(content: content, shape: shape, contiguousOffset: offset, storageSize: storage)
                info.isChunked = layout == H5D_CHUNKED
                info.isFiltered = H5Pget_nfilters(properties.id) > 0
                for index in 0..<max(0, H5Pget_nfilters(properties.id)) {
                    var flags: UInt32 = 0, valueCount = 0, config: UInt32 = 0
                    if H5Pget_filter2(properties.id, UInt32(index), &flags, &valueCount, nil, 0, nil, &config) == H5Z_FILTER_FLETCHER32 {
                        info.isChecksummed = true
                    }
                }
                _ = HDF5.currentStack()
                return info
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
    /// `byteCount` bytes), in the file's element type converted to little-endian.
    ///
    /// Chunked datasets filtered by exactly `[shuffle,] deflate` (h5py's
    /// `compression="gzip"`) are read as raw chunks (`H5Dread_chunk`, under the HDF5
    /// lock) and inflated (libdeflate) and unshuffled by Zoo, outside the lock,
    /// straight into `buffer`; anything else (other filters, fletcher32, missing
    /// chunks, skipped filters, byte swapping) goes through `H5Dread`, where libhdf5
    /// undoes chunking and filters. Unfiltered chunked datasets are read without
    /// the chunk cache, so libhdf5 reads each chunk straight into `buffer`.
    func readDataset(_ datasetPath: String, into buffer: UnsafeMutableRawPointer, byteCount: Int) throws {
        let plan: RawChunkPlan? = try HDF5.locked {
            try Self.wrap(path, at: .key(datasetPath)) { () throws -> RawChunkPlan? in
                var dataset = try HDF5Handle.open("H5Dopen2") { H5Dopen2(handle.id, datasetPath, zoo_h5p_default()) }
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
                guard needed > 0 else { return nil }
                let properties = try HDF5Handle.open("H5Dget_create_plist") { H5Dget_create_plist(dataset.id) }
                if H5Pget_layout(properties.id) == H5D_CHUNKED {
                    if H5Pget_nfilters(properties.id) == 0 {
                        // Whole-dataset reads use every chunk once: the cache would only add a copy.
                        let access = try HDF5Handle.open("H5Pcreate") { zoo_dapl_without_chunk_cache() }
                        dataset = try HDF5Handle.open("H5Dopen2") { H5Dopen2(handle.id, datasetPath, access.id) }
                    } else if let plan = try Self.rawChunkPlan(dataset, properties: properties.id, fileType: fileType.id, memoryType: memoryType.id, space: space.id) {
                        return plan
                    }
                }
                try HDF5.check("H5Dread", H5Dread(dataset.id, memoryType.id, zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), buffer))
                return nil
            }
        }
        guard let plan else { return }
        if (try? plan.read(into: buffer)) != true {
            // Something the raw path does not handle (or corrupt data): libhdf5's own
            // pipeline decides, and reports its errors.
            try HDF5.locked {
                try Self.wrap(path, at: .key(datasetPath)) {
                    _ = try HDF5.check("H5Dread", H5Dread(plan.dataset.id, plan.memoryType.id, zoo_h5s_all(), zoo_h5s_all(), zoo_h5p_default(), buffer))
                }
            }
        }
    }

    /// How to read a chunked `[shuffle,] deflate` dataset raw, or nil when `H5Dread` must do it.
    /// Must run inside `HDF5.locked`.
    static func rawChunkPlan(_ dataset: HDF5Handle, properties: hid_t, fileType: hid_t, memoryType: hid_t, space: hid_t) throws -> RawChunkPlan? {
        guard zoo_has_raw_chunk_read() == 1, H5Tequal(fileType, memoryType) > 0 else { return nil }
        let elementSize = H5Tget_size(fileType)
        guard elementSize > 0 else { return nil }
        var filters: [H5Z_filter_t] = []
        for index in 0..<max(0, H5Pget_nfilters(properties)) {
            var flags: UInt32 = 0
            var valueCount = 8
            var values = [UInt32](repeating: 0, count: 8)
            var config: UInt32 = 0
            let filter = H5Pget_filter2(properties, UInt32(index), &flags, &valueCount, &values, 0, nil, &config)
            if filter == H5Z_FILTER_SHUFFLE, valueCount >= 1, values[0] != UInt32(elementSize) { return nil }
            filters.append(filter)
        }
        guard filters == [H5Z_FILTER_DEFLATE] || filters == [H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE] else { return nil }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 1, rank <= 32 else { return nil }
        var dims = [hsize_t](repeating: 0, count: rank)
        guard H5Sget_simple_extent_dims(space, &dims, nil) == Int32(rank) else { return nil }
        var chunk = [hsize_t](repeating: 0, count: rank)
        guard H5Pget_chunk(properties, Int32(rank), &chunk) == Int32(rank), chunk.allSatisfy({ $0 > 0 }) else { return nil }
        let shape = dims.map { Int($0) }
        let chunkShape = chunk.map { Int($0) }
        guard let chunkElements = checkedElementCount(chunkShape), chunkElements <= Int.max / 16 / elementSize else { return nil }
        return RawChunkPlan(
            dataset: dataset, memoryType: try HDF5Handle.open("H5Tcopy") { H5Tcopy(memoryType) },
            shape: shape, chunk: chunkShape, elementSize: elementSize, shuffled: filters.first == H5Z_FILTER_SHUFFLE)
    }
}

/// A chunked dataset whose filters Zoo undoes itself: `[shuffle,] deflate`.
struct RawChunkPlan {
    let dataset: HDF5Handle
    let memoryType: HDF5Handle
    let shape: [Int]
    let chunk: [Int]
    let elementSize: Int
    let shuffled: Bool

    /// Reads every chunk into `output` (the whole dataset, C order): true when done,
    /// false when a chunk is missing (fill values), was written with a filter skipped,
    /// or does not inflate to its full size.
    func read(into output: UnsafeMutableRawPointer) throws -> Bool {
        let rank = shape.count
        let chunkElements = chunk.reduce(1, *)
        let chunkBytes = chunkElements * elementSize
        // Chunks span whole trailing dimensions: each one's valid part is one run of the output.
        let wholeRows = chunk.dropFirst() == shape.dropFirst()
        let rowElements = shape.dropFirst().reduce(1, *)
        var raw = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes + 4096, alignment: 64)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        let unshuffled = shuffled && !wholeRows ? UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64) : nil
        defer {
            raw.deallocate()
            scratch.deallocate()
            unshuffled?.deallocate()
        }
        // Output strides in elements, C order.
        var outputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { outputStrides[axis] = outputStrides[axis + 1] * shape[axis + 1] }
        var chunkStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { chunkStrides[axis] = chunkStrides[axis + 1] * chunk[axis + 1] }
        var origin = [Int](repeating: 0, count: rank)
        var offset = [hsize_t](repeating: 0, count: rank)
        while true {
            for axis in 0..<rank { offset[axis] = hsize_t(origin[axis]) }
            // Under the lock: only the raw read.
            let stored: Int? = HDF5.locked {
                var size: hsize_t = 0
                guard zoo_chunk_storage_size(dataset.id, &offset, &size) >= 0, size > 0, size <= hsize_t(Int.max / 2) else {
                    _ = HDF5.currentStack()
                    return nil
                }
                if Int(size) > raw.count {
                    raw.deallocate()
                    raw = .allocate(byteCount: Int(size), alignment: 64)
                }
                var mask: UInt32 = 0
                guard zoo_read_chunk(dataset.id, &offset, &mask, raw.baseAddress) >= 0, mask == 0 else {
                    _ = HDF5.currentStack()
                    return nil
                }
                return Int(size)
            }
            guard let stored else { return false }
            let input = UnsafeRawBufferPointer(rebasing: raw[0..<stored])
            if wholeRows {
                let valid = min(chunk[0], shape[0] - origin[0]) * rowElements
                let destination = output + origin[0] * rowElements * elementSize
                if !shuffled && valid == chunkElements {
                    try Deflate.inflateZlib(input, into: UnsafeMutableRawBufferPointer(start: destination, count: chunkBytes), file: "", member: "")
                } else {
                    try Deflate.inflateZlib(input, into: scratch, file: "", member: "")
                    if shuffled {
                        unshuffle(scratch.baseAddress!, into: destination, stride: chunkElements, count: valid, size: elementSize)
                    } else {
                        destination.copyMemory(from: scratch.baseAddress!, byteCount: valid * elementSize)
                    }
                }
            } else {
                try Deflate.inflateZlib(input, into: scratch, file: "", member: "")
                var elements = UnsafeRawPointer(scratch.baseAddress!)
                if let unshuffled {
                    unshuffle(scratch.baseAddress!, into: unshuffled.baseAddress!, stride: chunkElements, count: chunkElements, size: elementSize)
                    elements = UnsafeRawPointer(unshuffled.baseAddress!)
                }
                copyBlock(elements, origin: origin, chunkStrides: chunkStrides, outputStrides: outputStrides, into: output)
            }
            // Next chunk origin, C order.
            var axis = rank - 1
            while axis >= 0 {
                origin[axis] += chunk[axis]
                if origin[axis] < shape[axis] { break }
                origin[axis] = 0
                axis -= 1
            }
            if axis < 0 { return true }
        }
    }

    /// Copies the in-bounds part of one unfiltered chunk (C order, `chunk` shape) at `origin` into `output`.
    private func copyBlock(_ elements: UnsafeRawPointer, origin: [Int], chunkStrides: [Int], outputStrides: [Int], into output: UnsafeMutableRawPointer) {
        let rank = shape.count
        let extents = (0..<rank).map { min(chunk[$0], shape[$0] - origin[$0]) }
        let runBytes = extents[rank - 1] * elementSize
        var index = [Int](repeating: 0, count: rank)
        while true {
            var source = 0
            var target = 0
            for axis in 0..<rank {
                source += index[axis] * chunkStrides[axis]
                target += (origin[axis] + index[axis]) * outputStrides[axis]
            }
            (output + target * elementSize).copyMemory(from: elements + source * elementSize, byteCount: runBytes)
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < extents[axis] { break }
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}

/// Undoes HDF5's shuffle filter for the first `count` elements of a chunk of
/// `stride` elements: byte `j` of element `i` is stored at `j·stride + i`.
func unshuffle(_ input: UnsafeRawPointer, into output: UnsafeMutableRawPointer, stride: Int, count: Int, size: Int) {
    let bytes = input.assumingMemoryBound(to: UInt8.self)
    switch size {
    case 1:
        output.copyMemory(from: input, byteCount: count)
    case 2:
        let p0 = bytes, p1 = bytes + stride
        let out = output.assumingMemoryBound(to: UInt16.self)
        for i in 0..<count { out[i] = UInt16(p0[i]) | UInt16(p1[i]) << 8 }
    case 4:
        let p0 = bytes, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride
        let out = output.assumingMemoryBound(to: UInt32.self)
        for i in 0..<count {
            out[i] = UInt32(p0[i]) | UInt32(p1[i]) << 8 | UInt32(p2[i]) << 16 | UInt32(p3[i]) << 24
        }
    case 8:
        let out = output.assumingMemoryBound(to: UInt64.self)
        for i in 0..<count {
            var value: UInt64 = 0
            for j in 0..<8 { value |= UInt64(bytes[j * stride + i]) << (8 * UInt64(j)) }
            out[i] = value
        }
    default:
        let out = output.assumingMemoryBound(to: UInt8.self)
        for i in 0..<count {
            for j in 0..<size { out[i * size + j] = bytes[j * stride + i] }
        }
    }
}
