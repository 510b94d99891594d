import CHDF5
import Foundation

/// HDF5 filters beyond libhdf5's own (deflate, shuffle, fletcher32, szip, n-bit, scale-offset),
/// loaded through libhdf5's plugin mechanism from the Debian packages that ship them:
///
///     h5py.File("w.h5", "w").create_dataset("w", data=a, compression="lzf")   # filter 32000
///     import hdf5plugin; f.create_dataset("w", data=a, **hdf5plugin.LZ4())    # filter 32004
///
/// `scripts/setup.sh` installs `hdf5-plugin-lzf`, `hdf5-filter-plugin` (LZ4, bzip2) and
/// `hdf5-filter-plugin-blosc-serial`; `HDF5.initialized` appends their directory to libhdf5's
/// search path (after `$HDF5_PLUGIN_PATH`, which libhdf5 reads itself). A dataset whose filter
/// cannot be loaded is listed as skipped, naming the filter and the package that provides it.
enum HDF5Filters {
    /// Where Debian's libhdf5 plugin packages put their libraries (serial libhdf5).
    static let debianPluginDirectories: [String] = {
        var directories: [String] = []
        #if arch(x86_64)
        directories.append("/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins")
        #elseif arch(arm64)
        directories.append("/usr/lib/aarch64-linux-gnu/hdf5/serial/plugins")
        #endif
        directories.append("/usr/lib/hdf5/serial/plugins")
        return directories
    }()

    /// Appends the existing Debian plugin directories to libhdf5's search path. Call locked, once.
    ///
    /// Debian's `hdf5-plugin-lzf` (3.7.0-8) is built without linking liblzf: dlopen fails with
    /// "undefined symbol: lzf_decompress" unless liblzf is already loaded with global symbols,
    /// so it is (`liblzf1`, installed by `scripts/setup.sh`).
    static func addPluginDirectories() {
        _ = dlopen("liblzf.so.1", RTLD_NOW | RTLD_GLOBAL)
        for directory in debianPluginDirectories where FileManager.default.fileExists(atPath: directory) {
            if H5PLappend(directory) < 0 { _ = HDF5.currentStack() }
        }
    }

    /// A registered filter: its name and where to get a plugin for it.
    struct Known {
        let name: String
        /// The Debian package with its plugin, or nil when Debian has none.
        let package: String?
    }

    /// The filters of The HDF Group's registry that weight files use, by id
    /// (https://github.com/HDFGroup/hdf5_plugins/blob/master/docs/RegisteredFilterPlugins.md).
    static let known: [Int32: Known] = [
        307: Known(name: "bzip2", package: "hdf5-filter-plugin"),
        32000: Known(name: "LZF", package: "hdf5-plugin-lzf"),
        32001: Known(name: "Blosc", package: "hdf5-filter-plugin-blosc-serial"),
        32004: Known(name: "LZ4", package: "hdf5-filter-plugin"),
        32008: Known(name: "Bitshuffle", package: "bitshuffle"),
        32013: Known(name: "ZFP", package: "hdf5-filter-plugin-zfp-serial"),
        32015: Known(name: "Zstandard", package: nil),
        32017: Known(name: "SZ", package: nil),
        32026: Known(name: "Blosc2", package: nil),
    ]

    /// Why a dataset with these creation properties cannot be read, when one of its required
    /// filters is not available to libhdf5 (its plugin is not installed); nil when all are.
    /// An optional filter (h5py's LZF is one) may have been skipped for every chunk, so its
    /// absence only matters if a chunk was stored through it (its bit clear in the chunk's
    /// filter mask). Call locked.
    static func missingFilter(_ properties: hid_t, dataset: hid_t) -> String? {
        let count = H5Pget_nfilters(properties)
        guard count > 0 else { return nil }
        for index in 0..<count {
            var flags: UInt32 = 0
            var valueCount = 0
            var config: UInt32 = 0
            var nameBuffer = [CChar](repeating: 0, count: 256)
            let id = H5Pget_filter2(properties, UInt32(index), &flags, &valueCount, nil, nameBuffer.count, &nameBuffer, &config)
            guard id >= 0 else {
                _ = HDF5.currentStack()
                return "its filter pipeline cannot be decoded"
            }
            let available = H5Zfilter_avail(id)
            _ = HDF5.currentStack()
            guard available <= 0 else { continue }
            if flags & UInt32(H5Z_FLAG_OPTIONAL) != 0, !someChunkNeeds(filterIndex: UInt32(index), dataset: dataset) { continue }
            let stored = nameBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            return description(ofMissing: Int32(id), storedName: stored)
        }
        return nil
    }

    /// Whether a chunk of `dataset` was stored through the filter at `filterIndex` of its
    /// pipeline (bit clear in its filter mask). Past 100,000 chunks, assumed so. Call locked.
    static func someChunkNeeds(filterIndex: UInt32, dataset: hid_t) -> Bool {
        var count: hsize_t = 0
        guard H5Dget_num_chunks(dataset, zoo_h5s_all(), &count) >= 0, count <= 100_000 else {
            _ = HDF5.currentStack()
            return true
        }
        for index in 0..<count {
            var mask: UInt32 = 0
            var address: haddr_t = 0
            var size: hsize_t = 0
            guard H5Dget_chunk_info(dataset, zoo_h5s_all(), index, nil, &mask, &address, &size) >= 0 else {
                _ = HDF5.currentStack()
                return true
            }
            if mask & (1 << filterIndex) == 0 { return true }
        }
        return false
    }

    /// `filter LZF (id 32000) is not available: install the Debian package hdf5-plugin-lzf`.
    static func description(ofMissing id: Int32, storedName: String) -> String {
        let entry = known[id]
        let name = entry?.name ?? (storedName.isEmpty ? "unregistered" : storedName)
        let advice: String
        if let package = entry?.package {
            advice = "install the Debian package \(package) (or point HDF5_PLUGIN_PATH at a plugin for it)"
        } else {
            advice = "Debian ships no plugin for it; point HDF5_PLUGIN_PATH at one (Python's hdf5plugin has it)"
        }
        return "filter missing: compressed with \(name) (filter id \(id)), which libhdf5 cannot load: \(advice)"
    }
}
