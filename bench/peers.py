#!/usr/bin/env python3
"""Python peers of zoo-bench: one reader, one file, one process.

    python bench/peers.py <reader> <file> [--format NAME] [--repeat N] [--warmup W]

Readers (each touches every byte of every array with the same checksum as
zoo-bench's Touch.swift: the wrapping sum of little-endian uint64 words plus
trailing bytes, computed by numpy on the array's own memory):

    np.load               .npy  np.load(path): read() into a new array
    np.load-mmap          .npy  np.load(path, mmap_mode='r'): a memmap, faulted in by the touch
    np.load-npz           .npz  np.load(path) -> NpzFile; npz[name] for each member
                                (zipfile read + inflate/CRC for deflated members, a copy for stored)
    st.load_file          .safetensors  safetensors.numpy.load_file(path): all arrays at once
    st.safe_open          .safetensors  safe_open(path, framework='np').get_tensor(name), one at a time
    h5py                  .h5   h5py.File(path)[name][()] for each dataset: H5Dread into a new array
    h5py.read_direct      .h5   dataset.read_direct(buffer) into one array allocated (and
                                pre-faulted) once per process, as large as the largest dataset
    torch.load            .pt   torch.load(path, weights_only=True)
    torch.load-mmap       .pt   torch.load(path, weights_only=True, mmap=True)

torch tensors are touched through .numpy() (a view, no copy), so the touch is
the same single-threaded numpy reduction for every peer. Each repetition starts
from nothing (open, read, touch, drop everything). Prints

    RESULT <format> <reader> <bytes> <t1,t2,...> <VmHWM KiB> <VmRSS before KiB> <checksum>
"""
import argparse
import gc
import os
import sys
import time

import numpy as np

MASK = (1 << 64) - 1


def touch(array):
    """Every byte of a C-contiguous array: Σ uint64 words + Σ trailing bytes, mod 2^64."""
    if not array.flags.c_contiguous:
        raise ValueError("expected a C-contiguous array")
    flat = array.reshape(-1).view(np.uint8)
    whole = flat.size // 8 * 8
    total = int(flat[:whole].view(np.uint64).sum(dtype=np.uint64)) if whole else 0
    if whole < flat.size:
        total += int(flat[whole:].sum(dtype=np.uint64))
    return total & MASK


def proc_status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def read_npy(path):
    a = np.load(path)
    return a.nbytes, touch(a)


def read_npy_mmap(path):
    a = np.load(path, mmap_mode="r")
    result = a.nbytes, touch(a)
    a._mmap.close()
    return result


def read_npz(path):
    nbytes = total = 0
    with np.load(path) as npz:
        for name in npz.files:
            a = npz[name]
            nbytes += a.nbytes
            total += touch(a)
            del a
    return nbytes, total & MASK


def read_st_load_file(path):
    from safetensors.numpy import load_file
    arrays = load_file(path)
    nbytes = sum(a.nbytes for a in arrays.values())
    total = sum(touch(a) for a in arrays.values())
    return nbytes, total & MASK


def read_st_safe_open(path):
    from safetensors import safe_open
    nbytes = total = 0
    with safe_open(path, framework="np") as f:
        for name in f.keys():
            a = f.get_tensor(name)
            nbytes += a.nbytes
            total += touch(a)
            del a
    return nbytes, total & MASK


def torch_reader(mmap):
    def read(path):
        import torch
        state = torch.load(path, weights_only=True, mmap=mmap)
        nbytes = total = 0
        for t in state.values():
            a = t.numpy()
            nbytes += a.nbytes
            total += touch(a)
        del state
        return nbytes, total & MASK
    return read


def read_h5py(path):
    import h5py
    nbytes = total = 0
    with h5py.File(path, "r") as f:
        for name in h5_names(f):
            a = f[name][()]
            nbytes += a.nbytes
            total += touch(a)
            del a
    return nbytes, total & MASK


def h5_names(f):
    import h5py
    names = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return names


H5_BUFFER = []  # the reused destination of h5py.read_direct, made before the first read


def read_h5py_direct(path):
    import h5py
    nbytes = total = 0
    buffer = H5_BUFFER[0]
    with h5py.File(path, "r") as f:
        for name in h5_names(f):
            d = f[name]
            a = buffer[:d.size].reshape(d.shape)
            d.read_direct(a)
            nbytes += a.nbytes
            total += touch(a)
    return nbytes, total & MASK


READERS = {
    "np.load": read_npy,
    "np.load-mmap": read_npy_mmap,
    "np.load-npz": read_npz,
    "st.load_file": read_st_load_file,
    "st.safe_open": read_st_safe_open,
    "h5py": read_h5py,
    "h5py.read_direct": read_h5py_direct,
    "torch.load": torch_reader(False),
    "torch.load-mmap": torch_reader(True),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reader", choices=READERS)
    parser.add_argument("file")
    parser.add_argument("--format")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    fmt = args.format or os.path.basename(args.file).rsplit(".", 1)[-1]
    read = READERS[args.reader]
    # Import the reader's library before measuring the starting RSS, so the
    # peak-over-start column counts data, not interpreter and library code.
    if args.reader.startswith("torch"):
        import torch  # noqa: F401
    elif args.reader.startswith("st."):
        import safetensors.numpy  # noqa: F401
    elif args.reader.startswith("h5py"):
        import h5py
        with h5py.File(args.file, "r") as f:
            largest = max(f[n].size for n in h5_names(f))
            dtype = f[h5_names(f)[0]].dtype
        if args.reader == "h5py.read_direct":
            H5_BUFFER.append(np.ones(largest, dtype=dtype))  # allocated and faulted in, not timed
    rss_before = proc_status("VmRSS")
    times = []
    first = None
    for i in range(args.warmup + args.repeat):
        gc.collect()
        start = time.perf_counter()
        result = read(args.file)
        elapsed = time.perf_counter() - start
        if i >= args.warmup:
            times.append(elapsed)
        if first is None:
            first = result
        elif result != first:
            sys.exit(f"peers.py: repetition {i} read {result}, earlier {first}")
    peak = proc_status("VmHWM")
    print(f"RESULT\t{fmt}\t{args.reader}\t{first[0]}\t{','.join(map(str, times))}\t{peak}\t{rss_before}\t{first[1]}", flush=True)


if __name__ == "__main__":
    main()
