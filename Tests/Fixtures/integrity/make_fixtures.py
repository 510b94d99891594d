"""Fixtures for Zoo's integrity checks (Tests/ZooFormatTests/Integrity*, Tests/ZooCLITests/Verify*):
HDF5 files written by h5py (with hdf5plugin's filters), then damaged copies of them.

Run from this folder with numpy, h5py and hdf5plugin installed (pip install numpy h5py hdf5plugin):

    python make_fixtures.py        # writes the files below and prints the digests the Swift tests hard-code

    filters_*.h5          one dataset `w` (float32 [64, 32], values below) compressed with LZF, LZ4,
                          bzip2, Blosc (lz4 + shuffle) or Bitshuffle; Zstd for a filter Debian ships no plugin for
    userblock_512.h5      h5py.File(..., userblock_size=512): the superblock at offset 512 (also 2048)
    partial.h5            datasets `good` (contiguous), `good_gzip`, and damaged ones: `bad_fletcher`
                          (a byte of its fletcher32-checked chunk flipped), `bad_deflate` (its zlib stream
                          broken), `missing_filter` (Zstd, id 32015), `huge_extent` (its dataspace patched
                          to claim [2^20, 2^20] float32 = 4 TiB, 4 KiB stored)
    hdf5_crash_*.h5       (from mutations of peer-made files, see `MUTATIONS`) files on which Debian's
                          libhdf5 1.10.8 crashes or hangs, for the helper-process tests
"""
import hashlib
import os
import sys

import h5py
import hdf5plugin
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def values():
    """float32 [64, 32]: runs of 16 equal values (every filter compresses them), the same in every filters_* file."""
    return ((np.arange(64 * 32) // 16) / 4 - 8).astype(np.float32).reshape(64, 32)


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes()).hexdigest()


FILTERS = {
    "lzf": dict(compression="lzf"),
    "lz4": dict(**hdf5plugin.LZ4()),
    "bzip2": dict(**hdf5plugin.BZip2()),
    "blosc": dict(**hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE)),
    "bitshuffle": dict(**hdf5plugin.Bitshuffle()),
    "zstd": dict(**hdf5plugin.Zstd()),
}


def write_filters():
    for name, options in FILTERS.items():
        with h5py.File(os.path.join(HERE, f"filters_{name}.h5"), "w") as f:
            f.create_dataset("w", data=values(), chunks=(16, 32), **options)
            f.create_dataset("plain", data=np.arange(4, dtype=np.float32))
        with h5py.File(os.path.join(HERE, f"filters_{name}.h5"), "r") as f:
            # An optional filter (h5py's LZF) is skipped for a chunk it cannot shrink: make sure none was.
            assert all(f["w"].id.get_chunk_info(i).filter_mask == 0 for i in range(4)), name


def write_userblocks():
    for size in (512, 2048):
        with h5py.File(os.path.join(HERE, f"userblock_{size}.h5"), "w", userblock_size=size) as f:
            f["kernel"] = values()[:8, :4]
            f.create_dataset("chunked", data=np.arange(10, dtype=np.int16), chunks=(5,), compression="gzip")
        with open(os.path.join(HERE, f"userblock_{size}.h5"), "r+b") as f:
            f.write(b"Zoo test user block: anything may sit here, HDF5 starts at %d\n" % size)


def patch(path, old, new, occurrence=0):
    data = bytearray(open(path, "rb").read())
    at = -1
    for _ in range(occurrence + 1):
        at = data.index(old, at + 1)
    data[at:at + len(new)] = new
    open(path, "wb").write(data)
    return at


def write_partial():
    path = os.path.join(HERE, "partial.h5")
    good = np.arange(12, dtype=np.float32).reshape(3, 4) / 4
    fletcher = np.full(256, 0.25, np.float32) + np.arange(256, dtype=np.float32)
    deflated = np.linspace(-1, 1, 512).astype(np.float32)
    with h5py.File(path, "w", libver="earliest") as f:
        f["good"] = good
        f.create_dataset("good_gzip", data=deflated, chunks=(128,), compression="gzip")
        f.create_dataset("bad_fletcher", data=fletcher, chunks=(256,), fletcher32=True)
        f.create_dataset("bad_deflate", data=deflated * 3, chunks=(512,), compression="gzip")
        f.create_dataset("missing_filter", data=good, chunks=(3, 4), **hdf5plugin.Zstd())
        f.create_dataset("huge_extent", data=np.ones((32, 32), np.float32))
    with h5py.File(path, "r") as f:
        fletcher_offset = f["bad_fletcher"].id.get_chunk_info(0).byte_offset
        deflate_info = f["bad_deflate"].id.get_chunk_info(0)
        huge_offset = f["huge_extent"].id.get_offset()
    data = bytearray(open(path, "rb").read())
    data[fletcher_offset + 100] ^= 0x40                                 # inside the checked data
    data[deflate_info.byte_offset + deflate_info.size // 2] ^= 0xFF    # inside the zlib stream
    open(path, "wb").write(data)
    # The dataspace message of huge_extent: dims 32, 32 (8 bytes each, earliest format).
    dims = np.array([32, 32], "<u8").tobytes()
    maxdims = dims
    at = patch(path, dims + maxdims, np.array([1 << 20, 1 << 20], "<u8").tobytes() + np.array([1 << 20, 1 << 20], "<u8").tobytes())
    print(f"# partial.h5: huge_extent data at {huge_offset}, dataspace patched at {at}")
    return {"good": digest(good), "good_gzip": digest(deflated)}


# Mutations of peer-made files on which libhdf5 1.10.8 (Debian bookworm) crashes or hangs when
# `zoo inspect --json --checksums` reads them in-process (ZOO_HDF5_IN_PROCESS=1), found by
# scripts/hdf5_sweep.py: (source fixture, [(offset, new byte), ...]) → hdf5_crash_NAME.h5.
MUTATIONS = {
    "segv_attribute": ("keras/cnn_k2_model.h5", [(2075, 255)]),     # SIGSEGV reading /model_weights@layer_names
    "segv_group": ("keras/plain_latest.h5", [(9572, 255)]),          # SIGSEGV listing the root group
    "segv_dataset": ("keras/plain_earliest.h5", [(18815, 4)]),       # SIGSEGV opening a dataset
    "hang": ("keras/cnn_k2_model.h5", [(4200, 32)]),                 # never returns
}


def write_crashers():
    for name, (source, changes) in MUTATIONS.items():
        data = bytearray(open(os.path.join(HERE, "..", source), "rb").read())
        for offset, value in changes:
            data[offset] = value
        open(os.path.join(HERE, f"hdf5_crash_{name}.h5"), "wb").write(bytes(data))


if __name__ == "__main__":
    print(f"# h5py {h5py.__version__}, HDF5 {h5py.version.hdf5_version}, hdf5plugin {hdf5plugin.version}, numpy {np.__version__}")
    write_filters()
    write_userblocks()
    digests = write_partial()
    write_crashers()
    print(f'static let filteredDigest = "{digest(values())}"')
    for key, value in digests.items():
        print(f'static let {key}Digest = "{value}"')
    print(f"static let userblockKernelDigest = \"{digest(values()[:8, :4])}\"")
    with h5py.File(os.path.join(HERE, "partial.h5"), "r") as f:
        for name in ["good", "good_gzip", "bad_fletcher", "bad_deflate", "missing_filter", "huge_extent"]:
            try:
                f[name][()]
                print(f"# h5py reads {name}")
            except Exception as error:  # what h5py says about each damaged dataset
                print(f"# h5py refuses {name}: {type(error).__name__}: {str(error)[:100]}")
