import CHDF5

/// In-memory images opened so far (guarded by `HDF5.locked`): each gets a distinct name.
nonisolated(unsafe) private var imageCount = 0

/// An HDF5 file opened read-only through libhdf5: its tree of groups and
/// datasets, their element types and shapes, attributes, and dataset reads.
///
/// All calls run under `HDF5.locked`; the type is shared by the lazy tensor
/// loaders of one archive, hence `@unchecked Sendable`.
final class HDF5File: @unchecked Sendable {
    /// The path as the user gave it (or `archive.keras/model.weights.h5` for an embedded file).
    let path: String
    let handle: HDF5Handle
    /// The same file mapped, for zero-copy views of contiguous datasets; nil
    /// for in-memory images. `mappedBase` is where the HDF5 file starts in it
    /// (non-zero for a stored member of a `.keras` zip).
    let mapped: MappedFile?
    let mappedBase: Int
    /// Keeps an in-memory image alive as long as the file is open.
    private let image: [UInt8]?

    /// Opens the HDF5 file at `path` (already mapped as `mapped`).
    init(path: String, mapped: MappedFile) throws {
        self.path = path
        self.mapped = mapped
        mappedBase = 0
        image = nil
        handle = try HDF5.locked {
            try Self.wrap(path) { try HDF5Handle.open("H5Fopen") { H5Fopen(path, zoo_h5f_acc_rdonly(), zoo_h5p_default()) } }
        }
    }

    /// Opens an HDF5 file held in memory (a member of a `.keras` archive), named `path` in messages.
    /// If the image is a stored zip member of `container`, pass it and the member's offset
    /// so contiguous datasets are still zero-copy views.
    init(path: String, image bytes: UnsafeRawBufferPointer, container: MappedFile? = nil, offset: Int = 0) throws {
        self.path = path
        mapped = container
        mappedBase = offset
        let copy = Array(bytes)
        image = copy
        handle = try HDF5.locked {
            try Self.wrap(path) {
                let access = try HDF5Handle.open("H5Pcreate") { H5Pcreate(zoo_h5p_file_access()) }
                try HDF5.check("H5Pset_fapl_core", H5Pset_fapl_core(access.id, 1 << 20, false))
                let status = copy.withUnsafeBytes { buffer in
                    H5Pset_file_image(access.id, UnsafeMutableRawPointer(mutating: buffer.baseAddress), buffer.count)
                }
                try HDF5.check("H5Pset_file_image", status)
                // A name of its own: libhdf5 treats two open core-driver files with the same
                // name as one file, so a second image opened while the first is alive would read
                // the first one's bytes.
                imageCount += 1
                return try HDF5Handle.open("H5Fopen") { H5Fopen("zoo-image-\(imageCount)", zoo_h5f_acc_rdonly(), access.id) }
            }
        }
    }

    /// Runs `body`, turning an `HDF5Error` into a `FormatError` for `path`.
    static func wrap<T>(_ path: String, at location: FileLocation = .offset(0), _ body: () throws -> T) throws -> T {
        HDF5HelperServer.noteLocation(location)
        do {
            return try body()
        } catch let error as HDF5Error {
            throw FormatError(file: path, .library(at: location, message: error.description))
        }
    }

    // MARK: - The tree

    /// Whether a link named `objectPath` exists (intermediate groups must exist).
    func exists(_ objectPath: String) -> Bool {
        HDF5.locked {
            var current = ""
            for component in objectPath.split(separator: "/") {
                current += "/" + component
                guard H5Lexists(handle.id, current, zoo_h5p_default()) > 0 else {
                    _ = HDF5.currentStack()
                    return false
                }
            }
            return true
        }
    }

    /// Where the object's header sits in the file: orders objects by creation
    /// for files written front to back (h5py does not track creation order).
    func objectPosition(_ objectPath: String) -> UInt64 {
        HDF5.locked {
            let position = zoo_object_position(handle.id, objectPath)
            if position == 0 { _ = HDF5.currentStack() }
            return UInt64(position)
        }
    }

    /// One object reached while walking the tree.
    enum Node {
        case dataset(path: String)
        case skipped(path: String, reason: String)
    }

    /// The names of the links in the group at `groupPath`, in name order (HDF5's default).
    func linkNames(inGroup groupPath: String) throws -> [String] {
        try HDF5.locked {
            try Self.wrap(path, at: .key(groupPath)) {
                let group = try HDF5Handle.open("H5Gopen2") { H5Gopen2(handle.id, groupPath, zoo_h5p_default()) }
                var info = H5G_info_t()
                try HDF5.check("H5Gget_info", H5Gget_info(group.id, &info))
                guard info.nlinks < 1_000_000 else { throw HDF5Error(operation: "H5Gget_info", stack: "\(info.nlinks) links in one group") }
                var names: [String] = []
                for index in 0..<info.nlinks {
                    let length = try HDF5.check("H5Lget_name_by_idx", H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, zoo_h5p_default()))
                    var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                    try HDF5.check("H5Lget_name_by_idx", H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, zoo_h5p_default()))
                    names.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
                }
                return names
            }
        }
    }

    /// What kind of object `objectPath` is, following hard and soft links; external links are refused.
    enum ObjectKind: Equatable {
        case group, dataset, other
        case refused(String)
    }

    func kind(of objectPath: String) throws -> ObjectKind {
        try HDF5.locked {
            try Self.wrap(path, at: .key(objectPath)) {
                let linkType = zoo_link_type(handle.id, objectPath)
                if linkType == Int32(H5L_TYPE_EXTERNAL.rawValue) {
                    return .refused("an external link (to another file) is not followed")
                }
                if linkType < 0 {
                    _ = HDF5.currentStack()
                    return .refused("the link cannot be resolved")
                }
                guard H5Oexists_by_name(handle.id, objectPath, zoo_h5p_default()) > 0 else {
                    _ = HDF5.currentStack()
                    return .refused("a dangling soft link")
                }
                let object = try HDF5Handle.open("H5Oopen") { H5Oopen(handle.id, objectPath, zoo_h5p_default()) }
                switch H5Iget_type(object.id) {
                case H5I_GROUP: return .group
                case H5I_DATASET: return .dataset
                default: return .other
                }
            }
        }
    }

    /// Every dataset under `root` (depth first, name order), and what was skipped.
    func walk(from root: String = "/", depthLimit: Int = 64) throws -> [Node] {
        var nodes: [Node] = []
        try walk(root, depth: 0, limit: depthLimit, into: &nodes)
        return nodes
    }

    private func walk(_ group: String, depth: Int, limit: Int, into nodes: inout [Node]) throws {
        guard depth < limit else {
            nodes.append(.skipped(path: group, reason: "nested deeper than \(limit) groups (a link cycle?)"))
            return
        }
        for name in try linkNames(inGroup: group) {
            let child = group == "/" ? "/" + name : group + "/" + name
            let childKind: ObjectKind
            do {
                childKind = try kind(of: child)
            } catch let error as FormatError {
                // One object this libhdf5 cannot decode does not make the file unreadable.
                if case .library(_, let message) = error.reason {
                    nodes.append(.skipped(path: child, reason: "libhdf5 \(HDF5.versionText) cannot open it: \(message)"))
                    continue
                }
                throw error
            }
            switch childKind {
            case .group: try walk(child, depth: depth + 1, limit: limit, into: &nodes)
            case .dataset: nodes.append(.dataset(path: child))
            case .other: break
            case .refused(let reason): nodes.append(.skipped(path: child, reason: reason))
            }
        }
    }
}
