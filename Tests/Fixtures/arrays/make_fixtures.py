#!/usr/bin/env python3
"""Fixtures for the ZooFormat tests, and a peer check of files Zoo writes.

    make_fixtures.py                 regenerate every fixture in this directory and
                                     Tests/ZooFormatTests/FixtureExpectations.swift
    make_fixtures.py verify DIR      load the Zoo-written files in DIR (see ZOO_WRITTEN)
                                     with numpy / safetensors and compare them to the
                                     fixtures they were written from; exit 1 on a mismatch

Deterministic: fixed seeds, fixed zip timestamps. Needs numpy, safetensors, torch.
Expected values are recorded as bit patterns (float32 bits of `a.astype(float32)`,
float64 bits of `a.astype(float64)`) so NaN, infinities and -0 compare exactly,
and every tensor's digest is
    hashlib.sha256(np.ascontiguousarray(a, a.dtype.newbyteorder('<')).tobytes())
which is what `Tensor.sha256()` must return.
"""
import contextlib
import hashlib
import io
import json
import os
import struct
import sys
import time
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SWIFT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "ZooFormatTests", "FixtureExpectations.swift"))
# Tensors up to this many elements have every value recorded; larger ones a few samples.
ALL_VALUES_LIMIT = 64
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

NUMERIC = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64"]


# ----------------------------------------------------------------------------- values

def sample_values(dtype, shape=(2, 3)):
    """Small arrays with the edge values of each type."""
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        vals = [True, False, True, True, False, False]
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        vals = [info.min, info.max, 0, 1, info.max // 3, (info.min // 2) if dt.kind == "i" else 7]
    elif dt == np.float16:
        vals = [1.5, -0.0, 65504.0, 2.0 ** -24, np.inf, np.nan]
    elif dt == np.float32:
        vals = [3.1415927, -0.0, np.finfo(np.float32).max, 1e-45, -np.inf, np.nan]
    else:
        vals = [np.pi, -0.0, np.finfo(np.float64).max, 5e-324, np.inf, -1e-300]
    return np.array((vals * n)[:n], dtype=dt).reshape(shape)


def le(a):
    """C order, little-endian, same dtype: what Zoo hashes and writes."""
    return np.ascontiguousarray(a, a.dtype.newbyteorder("<"))


def digest(raw):
    return hashlib.sha256(raw).hexdigest()


# ----------------------------------------------------------------------------- expectations

class Record:
    """One expected tensor, rendered into Swift."""

    def __init__(self, name, dtype, shape, raw_le, floats=None, doubles=None, byte_order="little",
                 fortran=False, path=None):
        self.name = name
        self.dtype = dtype
        self.shape = list(shape)
        self.sha256 = digest(raw_le)
        self.byte_count = len(raw_le)
        self.floats = floats      # np.float32 array in C order, or None if not convertible
        self.doubles = doubles    # np.float64 array in C order
        self.byte_order = byte_order
        self.fortran = fortran
        self.path = path
        # NumPy's min, max, mean, std (ddof=0) in float64, as TensorStatistics computes them.
        self.stats = None
        if doubles is not None and len(doubles) > 0:
            with np.errstate(all="ignore"):
                d = np.asarray(doubles, dtype=np.float64)
                self.stats = [d.min(), d.max(), d.mean(), d.std()]
                if np.isnan(d).any():
                    self.stats = [np.nan] * 4


def record_numpy(name, a, path=None):
    convertible = a.dtype.kind in "biuf"
    order = "big" if a.dtype.byteorder == ">" else "little"
    fortran = a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous
    return Record(name, a.dtype.name, a.shape, le(a).tobytes(),
                  floats=np.ascontiguousarray(a.astype(np.float32)).ravel() if convertible else None,
                  doubles=np.ascontiguousarray(a.astype(np.float64)).ravel() if convertible else None,
                  byte_order=order, fortran=fortran, path=path)


def record_torch(name, t):
    import torch
    raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dim() > 0 else \
        t.reshape(1).view(torch.uint8).numpy().tobytes()
    convertible = t.dtype in (torch.bfloat16, torch.float16, torch.float32, torch.float64, torch.int64,
                              torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)
    dtype = {torch.bfloat16: "bfloat16", torch.float8_e4m3fn: "float8_e4m3fn"}.get(t.dtype, str(t.dtype).split(".")[1])
    floats = t.float().numpy().ravel() if convertible else None
    doubles = t.double().numpy().ravel() if convertible else None
    return Record(name, dtype, list(t.shape), raw, floats=floats, doubles=doubles)


FILES = []  # (file, format, metadata, [Record])


def add(file, fmt, records, metadata=None):
    FILES.append((file, fmt, metadata or {}, records))


def out(name):
    return os.path.join(HERE, name)


# ----------------------------------------------------------------------------- .npy

def save_npy(name, a, version=None, allow_pickle=False):
    with open(out(name), "wb") as f:
        if version is None:
            np.lib.format.write_array(f, a, allow_pickle=allow_pickle)
        else:
            np.lib.format.write_array(f, a, version=version, allow_pickle=allow_pickle)


def make_npy():
    for dt in NUMERIC:
        a = sample_values(dt)
        save_npy(f"npy_{dt}_le.npy", a.astype(np.dtype(dt).newbyteorder("<")))
        add(f"npy_{dt}_le.npy", "npy", [record_numpy(f"npy_{dt}_le", a.astype(np.dtype(dt).newbyteorder("<")))])
        if np.dtype(dt).itemsize > 1:  # one-byte types have no byte order ('|')
            b = a.astype(np.dtype(dt).newbyteorder(">"))
            save_npy(f"npy_{dt}_be.npy", b)
            add(f"npy_{dt}_be.npy", "npy", [record_numpy(f"npy_{dt}_be", b)])

    base = np.arange(12, dtype=np.float32).reshape(3, 4) / 4
    for version in [(1, 0), (2, 0), (3, 0)]:
        name = f"npy_v{version[0]}.npy"
        save_npy(name, base, version=version)
        add(name, "npy", [record_numpy(name[:-4], base)])

    rng = np.random.default_rng(20251129)
    big = rng.standard_normal((32, 50)).astype(np.float32)
    twins = {
        "npy_large_c.npy": big,
        "npy_large_be.npy": big.astype(">f4"),
        "npy_large_fortran.npy": np.asfortranarray(big),
        "npy_large_fortran_be.npy": np.asfortranarray(big.astype(">f4")),
    }
    for name, a in twins.items():
        save_npy(name, a)
        add(name, "npy", [record_numpy(name[:-4], a)])

    cube = rng.standard_normal((3, 4, 5))
    for name, a in {"npy_fortran_f8.npy": np.asfortranarray(cube),
                    "npy_fortran_be_f8.npy": np.asfortranarray(cube.astype(">f8")),
                    "npy_fortran_i2.npy": np.asfortranarray((cube * 1000).astype("<i2"))}.items():
        save_npy(name, a)
        add(name, "npy", [record_numpy(name[:-4], a)])

    scalar = np.array(np.float32(3.5))
    np.save(out("npy_scalar.npy"), scalar)
    add("npy_scalar.npy", "npy", [record_numpy("npy_scalar", scalar)])

    empty = np.zeros((0, 3))
    np.save(out("npy_empty.npy"), empty)
    add("npy_empty.npy", "npy", [record_numpy("npy_empty", empty)])

    cplx = np.array([1 + 2j, -3.5 - 0.25j, 0 + 1j], dtype=np.complex64)
    np.save(out("npy_complex64.npy"), cplx)
    add("npy_complex64.npy", "npy", [record_numpy("npy_complex64", cplx)])
    np.save(out("npy_complex64_be.npy"), cplx.astype(">c8"))
    add("npy_complex64_be.npy", "npy", [record_numpy("npy_complex64_be", cplx.astype(">c8"))])

    # Refused: never unpickled, never read as numbers.
    np.save(out("npy_object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
    np.save(out("npy_structured.npy"), np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]))


# ----------------------------------------------------------------------------- .npz

def npz_tensors():
    rng = np.random.default_rng(7)
    return {
        "hidden1/kernel": rng.standard_normal((4, 3)).astype(np.float32),
        "hidden1/bias": np.array([0.5, -0.25, 0.0], dtype=np.float32),
        "step": np.array(1234, dtype=np.int64),
        "mask": np.array([[True, False], [False, True]]),
    }


def npy_bytes(a):
    f = io.BytesIO()
    np.lib.format.write_array(f, a)
    return f.getvalue()


class NonSeekable(io.RawIOBase):
    """A write-only stream zipfile cannot seek in: it then sets flag bit 3
    and writes sizes and CRC in a data descriptor after each member."""

    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def seekable(self):
        return False

    def write(self, b):
        self.buffer += b
        return len(b)

    def tell(self):  # zipfile needs tell() to work, only seek() to fail
        return len(self.buffer)


def zip_member(zf, name, data, method, force_zip64=False):
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = method
    info.external_attr = 0o100644 << 16
    with zf.open(info, "w", force_zip64=force_zip64) as f:
        f.write(data)


def build_full_zip64(members):
    """A stored zip whose every size and offset lives in ZIP64 records: central
    headers with 0xFFFFFFFF fields and a zip64 extra, a zip64 end record and locator."""
    body = bytearray()
    central = bytearray()
    for name, data in members:
        offset = len(body)
        crc = zlib.crc32(data)
        n = name.encode()
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                            len(n), len(local_extra)) + n + local_extra + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0300 | 45, 45, 0, 0, 0, 0x21, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(n), len(extra), 0, 0, 0, 0o100644 << 16,
                               0xFFFFFFFF) + n + extra
    directory_offset = len(body)
    body += central
    record_offset = len(body)
    body += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members),
                        len(central), directory_offset)
    body += struct.pack("<IIQI", 0x07064B50, 0, record_offset, 1)
    body += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(body)


@contextlib.contextmanager
def fixed_zip_time():
    """np.savez stamps members with the current time; pin it so archives are reproducible."""
    original = time.localtime
    time.localtime = lambda *args: time.struct_time((1980, 1, 1, 0, 0, 0, 1, 1, 0))
    try:
        yield
    finally:
        time.localtime = original


def make_npz():
    tensors = npz_tensors()

    def records():
        return [record_numpy(k, v, path=k + ".npy") for k, v in tensors.items()]

    with fixed_zip_time():
        np.savez(out("npz_savez.npz"), **tensors)
        np.savez_compressed(out("npz_savez_compressed.npz"), **tensors)
    add("npz_savez.npz", "npz", records())
    add("npz_savez_compressed.npz", "npz", records())

    # Data descriptors (flag bit 3): a stored and a deflated member.
    stream = NonSeekable()
    with zipfile.ZipFile(stream, "w") as zf:
        zip_member(zf, "hidden1/kernel.npy", npy_bytes(tensors["hidden1/kernel"]), zipfile.ZIP_STORED)
        zip_member(zf, "hidden1/bias.npy", npy_bytes(tensors["hidden1/bias"]), zipfile.ZIP_DEFLATED)
    with open(out("npz_descriptor.npz"), "wb") as f:
        f.write(stream.buffer)
    with zipfile.ZipFile(out("npz_descriptor.npz")) as zf:
        assert all(i.flag_bits & 0x08 for i in zf.infolist()), "expected data descriptors"
    add("npz_descriptor.npz", "npz", [record_numpy(k, tensors[k], path=k + ".npy")
                                      for k in ["hidden1/kernel", "hidden1/bias"]])

    # zipfile's force_zip64: zip64 extras in the local headers (sizes 0xFFFFFFFF there).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as zf:
        zip_member(zf, "hidden1/kernel.npy", npy_bytes(tensors["hidden1/kernel"]), zipfile.ZIP_STORED, True)
        zip_member(zf, "hidden1/bias.npy", npy_bytes(tensors["hidden1/bias"]), zipfile.ZIP_DEFLATED, True)
    with open(out("npz_zip64.npz"), "wb") as f:
        f.write(buffer.getvalue())
    add("npz_zip64.npz", "npz", [record_numpy(k, tensors[k], path=k + ".npy")
                                 for k in ["hidden1/kernel", "hidden1/bias"]])

    # ZIP64 everywhere: central directory extras, zip64 end record and locator.
    with open(out("npz_zip64_full.npz"), "wb") as f:
        f.write(build_full_zip64([(k + ".npy", npy_bytes(tensors[k])) for k in ["hidden1/kernel", "step"]]))
    with np.load(out("npz_zip64_full.npz")) as z:  # zipfile itself must accept it
        assert np.array_equal(z["hidden1/kernel"], tensors["hidden1/kernel"])
        assert z["step"] == 1234
    add("npz_zip64_full.npz", "npz", [record_numpy(k, tensors[k], path=k + ".npy")
                                      for k in ["hidden1/kernel", "step"]])


# ----------------------------------------------------------------------------- safetensors

ST_METADATA = {"format": "np", "author": "zoo tests", "quote": 'a "b" \\ c/\u00e9'}


def make_safetensors():
    import torch
    from safetensors.numpy import save_file as save_np
    from safetensors.torch import save_file as save_pt

    rng = np.random.default_rng(11)
    tensors = {
        "dense/kernel": rng.standard_normal((3, 4)).astype(np.float32),
        "dense/bias": np.array([1.0, -2.0, 0.5], dtype=np.float64),
        "ids": np.array([[-7, 0, 2**31 - 1]], dtype=np.int32),
        "counts": np.array([0, 2**63 - 1, -(2**63)], dtype=np.int64),
        "pixels": np.array([0, 127, 255], dtype=np.uint8),
        "small": np.array([-128, 127], dtype=np.int8),
        "shorts": np.array([-32768, 32767, 5], dtype=np.int16),
        "ushorts": np.array([65535, 1], dtype=np.uint16),
        "uints": np.array([4294967295, 3], dtype=np.uint32),
        "ulongs": np.array([18446744073709551615, 9], dtype=np.uint64),
        "half": np.array([0.1, -65504, 6e-8], dtype=np.float16),
        "flags": np.array([True, False, True]),
        "scalar": np.array(2.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    save_np(tensors, out("st_numpy.safetensors"), metadata=ST_METADATA)
    # The file lists tensors in data order; record them in that order.
    from safetensors import safe_open
    with safe_open(out("st_numpy.safetensors"), framework="np") as f:
        order = sorted(f.keys(), key=lambda k: data_offset(out("st_numpy.safetensors"), k))
    add("st_numpy.safetensors", "safetensors", [record_numpy(k, tensors[k]) for k in order], ST_METADATA)

    g = torch.Generator().manual_seed(5)
    pt = {
        "embed.weight": torch.randn(4, 6, generator=g).to(torch.bfloat16),
        "norm.weight": torch.tensor([1.0, -0.0, 3.0e38, 1e-40, float("inf"), float("nan")]).to(torch.bfloat16),
        "proj.weight": torch.randn(2, 3, generator=g).to(torch.float16),
        "big.weight": torch.randn(16, 16, generator=g).to(torch.bfloat16),
    }
    save_pt(pt, out("st_torch.safetensors"), metadata={"format": "pt"})
    order = sorted(pt, key=lambda k: data_offset(out("st_torch.safetensors"), k))
    add("st_torch.safetensors", "safetensors", [record_torch(k, pt[k]) for k in order], {"format": "pt"})

    fp8 = {
        "scale": torch.tensor([0.5, 2.0], dtype=torch.float32),
        "w8": torch.tensor([[0.0, 1.0, -2.0], [448.0, 0.015625, -0.5]]).to(torch.float8_e4m3fn),
    }
    save_pt(fp8, out("st_fp8.safetensors"))
    order = sorted(fp8, key=lambda k: data_offset(out("st_fp8.safetensors"), k))
    add("st_fp8.safetensors", "safetensors", [record_torch(k, fp8[k]) for k in order])


def data_offset(path, name):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return header[name]["data_offsets"][0]


# ----------------------------------------------------------------------------- conversions

def conversion_inputs():
    f = np.float32
    specials = [
        0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, -2.5e-6, 65504.0, 65519.996, 65520.0, 1e5,
        2.0 ** -14, 2.0 ** -14 - 2.0 ** -25, 2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25, 2.0 ** -26,
        3 * 2.0 ** -25, 1e-8, 6e-8, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8,
        1 + 2.0 ** -8 + 2.0 ** -20, 3.0e38, float(np.finfo(f).max), float(np.finfo(f).tiny), 1e-45, 1e-40,
        float("inf"), float("-inf"), float("nan"), -1e-40, 2049.0, 2051.0, -0.3,
    ]
    return np.array(specials, dtype=np.float32)


def make_conversions():
    import torch
    values = conversion_inputs()
    np.save(out("conv_f32.npy"), values)
    add("conv_f32.npy", "npy", [record_numpy("conv_f32", values)])
    half_patterns = np.array([0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x3555, 0x7BFF,
                              0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x3BFF, 0x0200], dtype=np.uint16)
    np.save(out("conv_f16.npy"), half_patterns.view(np.float16))
    np.save(out("conv_f16_be.npy"), half_patterns.view(np.float16).astype(">f2"))
    add("conv_f16.npy", "npy", [record_numpy("conv_f16", half_patterns.view(np.float16))])
    add("conv_f16_be.npy", "npy", [record_numpy("conv_f16_be", half_patterns.view(np.float16).astype(">f2"))])
    bf_patterns = np.array([0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x3F80, 0x3F81, 0x7F7F, 0xFF7F,
                            0x7F80, 0xFF80, 0x7FC0, 0x4049], dtype=np.uint16)
    from safetensors.torch import save_file as save_pt
    bf = torch.from_numpy(bf_patterns.view(np.int16).copy()).view(torch.bfloat16)
    save_pt({"bf16": bf}, out("conv_bf16.safetensors"))
    add("conv_bf16.safetensors", "safetensors", [record_torch("bf16", bf)])
    with torch.no_grad():
        bf_bits = torch.from_numpy(values.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    f16_bits = values.astype(np.float16).view(np.uint16)
    return values, f16_bits, bf_bits


# ----------------------------------------------------------------------------- Swift output

def swift_string(s):
    return json.dumps(s, ensure_ascii=False)


def swift_floats(values):
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    return "[" + ", ".join("0x%08X" % b for b in bits) + "]"


def swift_doubles(values):
    bits = np.asarray(values, dtype=np.float64).view(np.uint64)
    return "[" + ", ".join("0x%016X" % b for b in bits) + "]"


def swift_record(r):
    fields = [f"name: {swift_string(r.name)}", f"dtype: {swift_string(r.dtype)}",
              f"shape: {list(r.shape)}", f"sha256: {swift_string(r.sha256)}",
              f"byteCount: {r.byte_count}", f"byteOrder: .{r.byte_order}",
              f"fortran: {'true' if r.fortran else 'false'}",
              f"path: {swift_string(r.path) if r.path else 'nil'}"]
    if r.floats is None:
        fields += ["floatBits: nil", "doubleBits: nil", "samples: []"]
    elif len(r.floats) <= ALL_VALUES_LIMIT:
        fields += [f"floatBits: {swift_floats(r.floats)}", f"doubleBits: {swift_doubles(r.doubles)}", "samples: []"]
    else:
        count = len(r.floats)
        picks = sorted({0, 1, 17, count // 2, count - 2, count - 1})
        samples = ", ".join("Sample(index: %d, floatBits: 0x%08X)" % (i, np.float32(r.floats[i]).view(np.uint32))
                            for i in picks)
        fields += ["floatBits: nil", "doubleBits: nil", f"samples: [{samples}]"]
    fields.append(f"statistics: {swift_doubles(r.stats) if r.stats is not None else 'nil'}")
    return "ExpectedTensor(" + ", ".join(fields) + ")"


def write_swift(conversions):
    values, f16_bits, bf_bits = conversions
    lines = [
        "// Generated by Tests/Fixtures/arrays/make_fixtures.py; do not edit by hand.",
        "// Values are bit patterns: float32 bits of numpy's a.astype(float32) (torch's t.float()",
        "// for bfloat16), float64 bits of a.astype(float64); sha256 is",
        "// hashlib.sha256(np.ascontiguousarray(a, a.dtype.newbyteorder('<')).tobytes()).",
        "",
        "enum FixtureExpectations {",
        "    static let files: [ExpectedFile] = [",
    ]
    for file, fmt, metadata, records in FILES:
        meta = "[:]" if not metadata else "[" + ", ".join(
            f"{swift_string(k)}: {swift_string(v)}" for k, v in sorted(metadata.items())) + "]"
        lines.append(f"        ExpectedFile(file: {swift_string(file)}, format: .{fmt}, metadata: {meta}, tensors: [")
        for r in records:
            lines.append("            " + swift_record(r) + ",")
        lines.append("        ]),")
    lines += [
        "    ]",
        "",
        "    /// conv_f32.npy: float32 inputs (bits), and numpy's astype(float16) / torch's to(bfloat16) of each.",
        f"    static let conversionInputs: [UInt32] = {swift_floats(values)}",
        "    static let float16Bits: [UInt16] = [" + ", ".join("0x%04X" % b for b in f16_bits) + "]",
        "    static let bfloat16Bits: [UInt16] = [" + ", ".join("0x%04X" % b for b in bf_bits) + "]",
        "}",
        "",
    ]
    with open(SWIFT_OUT, "w") as f:
        f.write("\n".join(lines))


# ----------------------------------------------------------------------------- verify

# Files the Zoo tests write (WriterRoundTripTests.zooWritten; into Tests/Fixtures/arrays/zoo_written
# when ZOO_WRITE_FIXTURES=1) and the fixture each was written from.
#   (zoo file, source fixture, floating-point cast: None or "float16" | "bfloat16" | "float32")
ZOO_WRITTEN = [
    ("npz_savez.safetensors", "npz_savez.npz", None),
    ("npz_savez_compressed.npz", "npz_savez_compressed.npz", None),
    ("npz_savez_float16.npz", "npz_savez.npz", "float16"),
    ("st_numpy.npz", "st_numpy.safetensors", None),
    ("st_numpy_compressed.npz", "st_numpy.safetensors", None),
    ("st_numpy.safetensors", "st_numpy.safetensors", None),
    ("npy_fortran_be_f8.npy", "npy_fortran_be_f8.npy", None),
    ("npy_large_fortran_be.npy", "npy_large_fortran_be.npy", None),
    ("npy_float16_be.npy", "npy_float16_be.npy", None),
    ("npy_uint64_be.npy", "npy_uint64_be.npy", None),
    ("npy_bool_le.npy", "npy_bool_le.npy", None),
    ("npy_scalar.npy", "npy_scalar.npy", None),
    ("npy_empty.npy", "npy_empty.npy", None),
    ("npy_complex64_be.npy", "npy_complex64_be.npy", None),
    ("npz_descriptor.npz", "npz_descriptor.npz", None),
    ("npz_zip64_full.safetensors", "npz_zip64_full.npz", None),
    ("st_torch.safetensors", "st_torch.safetensors", None),
    ("st_torch_float32.safetensors", "st_torch.safetensors", "float32"),
    ("st_fp8.safetensors", "st_fp8.safetensors", None),
    ("conv_f32_float16.npy", "conv_f32.npy", "float16"),
    ("conv_f32_bfloat16.safetensors", "conv_f32.npy", "bfloat16"),
]

FLOATS = ("float16", "bfloat16", "float32", "float64")


def load_any(path):
    """name -> (dtype name, shape, little-endian C-order bytes), and metadata.
    .npy/.npz through numpy (allow_pickle=False); safetensors through safetensors.torch
    and, where numpy has every dtype, also through safetensors.numpy (which must agree)."""
    import torch
    from safetensors import safe_open
    if path.endswith(".npy"):
        a = np.load(path, allow_pickle=False)
        name = os.path.basename(path)[:-4]
        return {name: (a.dtype.name, list(a.shape), le(a).tobytes())}, {}
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            return {k: (z[k].dtype.name, list(z[k].shape), le(z[k]).tobytes()) for k in z.files}, {}
    result = {}
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        for k in f.keys():
            t = f.get_tensor(k)
            dtype = {torch.bfloat16: "bfloat16", torch.float8_e4m3fn: "float8_e4m3fn"}.get(
                t.dtype, str(t.dtype).split(".")[1])
            raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
            result[k] = (dtype, list(t.shape), raw)
    if all(v[0] not in ("bfloat16", "float8_e4m3fn") for v in result.values()):
        from safetensors.numpy import load_file
        for k, a in load_file(path).items():
            assert (a.dtype.name, list(a.shape), le(a).tobytes()) == result[k], f"safetensors.numpy disagrees on {k}"
    return result, metadata


def cast(entry, target):
    """What numpy/torch make of a tensor cast to `target` (floating-point tensors only)."""
    import torch
    dtype, shape, raw = entry
    if target is None or dtype not in FLOATS or dtype == target:
        return entry
    source = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
              "float64": torch.float64}
    t = torch.frombuffer(bytearray(raw), dtype=source[dtype]) if raw else torch.empty(0, dtype=source[dtype])
    if target == "float16" and dtype == "float32":
        out = np.frombuffer(raw, dtype="<f4").astype("<f2").tobytes()  # numpy's rounding
    else:
        out = t.to(source[target]).view(torch.uint8).numpy().tobytes()
    return (target, shape, out)


def same_up_to_nan_payload(dtype, a, b):
    """Equal bytes except where both elements are NaN (any sign or payload)."""
    kinds = {"float16": ("<u2", 0x7C00, 0x03FF), "bfloat16": ("<u2", 0x7F80, 0x007F),
             "float32": ("<u4", 0x7F800000, 0x007FFFFF), "float64": ("<u8", 0x7FF0000000000000, 0x000FFFFFFFFFFFFF)}
    if dtype not in kinds or len(a) != len(b):
        return False
    code, exponent, mantissa = kinds[dtype]
    x = np.frombuffer(a, dtype=code)
    y = np.frombuffer(b, dtype=code)

    def nan(v):
        return ((v & exponent) == exponent) & ((v & mantissa) != 0)

    return bool(np.all((x == y) | (nan(x) & nan(y))))


def verify(directory):
    failures = 0
    checked = 0
    for zoo_file, source, target in ZOO_WRITTEN:
        path = os.path.join(directory, zoo_file)
        if not os.path.exists(path):
            print(f"MISSING {zoo_file}")
            failures += 1
            continue
        try:
            got, got_meta = load_any(path)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL    {zoo_file}: cannot load: {e}")
            failures += 1
            continue
        want, want_meta = load_any(os.path.join(HERE, source))
        want = {k: cast(v, target) for k, v in want.items()}
        if zoo_file.endswith(".npy"):  # a .npy's one tensor is named after its file
            want = {os.path.basename(zoo_file)[:-4]: v for v in want.values()}
        problems = []
        notes = []
        ordered = not zoo_file.endswith(".safetensors") and not source.endswith(".safetensors")
        if (list(got) != list(want)) if ordered else (sorted(got) != sorted(want)):
            problems.append(f"names {list(got)} != {list(want)}")
        for k in want:
            if k in got and got[k] != want[k]:
                if got[k][:2] == want[k][:2] and same_up_to_nan_payload(got[k][0], got[k][2], want[k][2]):
                    notes.append(f"{k}: NaN payloads differ")
                    continue
                problems.append(f"tensor {k}: {got[k][:2]} vs {want[k][:2]}, bytes equal: {got[k][2] == want[k][2]}")
        if zoo_file.endswith(".safetensors") and source.endswith(".safetensors") and got_meta != want_meta:
            problems.append(f"metadata {got_meta} != {want_meta}")
        checked += 1
        if problems:
            failures += 1
            print(f"FAIL    {zoo_file}: " + "; ".join(problems))
        else:
            print(f"ok      {zoo_file} ({len(got)} tensors) == {source}" + (f" cast to {target}" if target else "")
                  + (f" ({'; '.join(notes)})" if notes else ""))
    print(f"{checked} files checked, {failures} problems")
    return failures == 0


# ----------------------------------------------------------------------------- main

def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "verify":
        directory = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "zoo_written")
        sys.exit(0 if verify(directory) else 1)
    make_npy()
    make_npz()
    make_safetensors()
    conversions = make_conversions()
    write_swift(conversions)
    total = sum(os.path.getsize(out(n)) for n in os.listdir(HERE)
                if n.endswith((".npy", ".npz", ".safetensors")))
    for file, fmt, metadata, records in FILES:
        for r in records:
            print(f"{file:32} {r.name:24} {r.dtype:14} {str(r.shape):12} {r.sha256[:16]}…")
    print(f"{len(FILES)} expected files, fixtures total {total} bytes")


if __name__ == "__main__":
    main()
