"""Image fixtures for Zoo's PNG/JPEG decoders and image pipeline, with PIL's results.

Run with the peer venv (Pillow, numpy, scikit-image, torchvision):
    /work/venv/peers/bin/python Tests/Fixtures/images/make_fixtures.py

Pictures:
  chelsea.png  scikit-image's `chelsea` (451×300 RGB photo of a cat; CC0, Stefan van der Walt,
               per skimage.data.chelsea's notes), copied byte for byte.
  rocket.jpg   scikit-image's `rocket` (640×427 RGB JPEG; SpaceX photo released into the public
               domain, per skimage.data.rocket's notes), copied byte for byte.
  The small decoder fixtures are made from one asymmetric 40×30 crop of chelsea.

expected.npz holds PIL's pixels for each (uint8, HWC; gray as H×W×1):
  rocket.jpg_crop   rows 150..<246, columns 250..<346 of PIL's decode of rocket.jpg; rocket.jpg_sum its sum
  <name>            decoded as PIL does (palette → RGB/RGBA, 16-bit → value >> 8, EXIF → exif_transpose)
  chelsea_tv        torchvision Resize(256) + CenterCrop(224) of chelsea (PIL bilinear, antialiased)
  chelsea_64        chelsea.resize((64, 64), BILINEAR)
  chelsea_L_48x40   chelsea.convert("L").resize((40, 48), BILINEAR)      (H 48, W 40)
  rocket_tv         torchvision Resize(256) + CenterCrop(224) of rocket.jpg
  small_up_50x70    the 40×30 crop upscaled to (W 70, H 50), BILINEAR
  predict_8x8_L     chelsea.convert("L").resize((8, 8), BILINEAR) as float32 [1, 8, 8, 1], for `zoo predict`
"""
import io
import os
import shutil
import struct
import zlib

import numpy as np
import skimage
from PIL import Image, ImageOps
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
SKIMAGE_DATA = os.path.join(os.path.dirname(skimage.__file__), "data")


def path(name):
    return os.path.join(HERE, name)


def hwc(image):
    a = np.asarray(image, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, array, bit_depth, interlaced=False):
    """A PNG written by hand (PIL writes neither 16-bit RGB nor Adam7): big-endian samples,
    filter 0, one IDAT; with `interlaced`, the seven Adam7 passes."""
    h, w = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    dtype = ">u2" if bit_depth == 16 else "u1"
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = array[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        raw += b"".join(b"\x00" + row.astype(dtype).tobytes() for row in sub)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path(name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlaced else 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    for name in ("chelsea.png", "rocket.jpg"):
        shutil.copyfile(os.path.join(SKIMAGE_DATA, name), path(name))
    chelsea = Image.open(path("chelsea.png")).convert("RGB")
    small = chelsea.crop((150, 100, 190, 130))  # 40×30, asymmetric
    expected = {}

    # PNGs of every color type.
    rgb = small
    gray = small.convert("L")
    alpha = Image.fromarray(np.tile(np.linspace(0, 255, 40, dtype=np.uint8), (30, 1)))
    rgba = small.copy()
    rgba.putalpha(alpha)
    la = gray.copy()
    la.putalpha(alpha)
    palette = small.quantize(colors=16)
    palette_t = palette.copy()
    palette_t.info["transparency"] = 3
    bilevel = gray.point(lambda v: 255 if v > 110 else 0).convert("1")
    for name, image, options in [
        ("gray.png", gray, {}), ("gray_alpha.png", la, {}), ("rgb.png", rgb, {}), ("rgba.png", rgba, {}),
        ("palette.png", palette, {}), ("palette_transparent.png", palette_t, {"transparency": 3}), ("bilevel.png", bilevel, {}),
    ]:
        image.save(path(name), **options)
    rng = np.random.default_rng(15)
    gray16 = np.asarray(gray, dtype=np.uint16) * 257 + rng.integers(0, 200, (30, 40)).astype(np.uint16)
    rgb16 = np.asarray(rgb, dtype=np.uint16) * 257 + rng.integers(0, 200, (30, 40, 3)).astype(np.uint16)
    write_png("gray16.png", gray16, 16)
    write_png("rgb16.png", rgb16, 16)
    write_png("interlaced.png", np.asarray(rgb), 8, interlaced=True)
    write_png("interlaced16_rgba.png", np.dstack([rgb16, np.asarray(alpha, dtype=np.uint16) * 257]), 16, interlaced=True)

    for name in ("gray.png", "gray_alpha.png", "rgb.png", "rgba.png", "bilevel.png"):
        opened = Image.open(path(name))
        expected[name] = hwc(opened.convert("L") if opened.mode == "1" else opened)
    expected["palette.png"] = hwc(Image.open(path("palette.png")).convert("RGB"))
    expected["palette_transparent.png"] = hwc(Image.open(path("palette_transparent.png")).convert("RGBA"))
    # PIL reads 16-bit gray exactly (mode I;16) and 16-bit RGB(A) as its high bytes; Zoo keeps the high byte.
    # (PIL's convert("L"/"RGB") of I;16 clips every value above 255 to 255; Zoo does not follow that.)
    assert (np.asarray(Image.open(path("gray16.png"))) == gray16).all()
    expected["gray16.png"] = (gray16 >> 8).astype(np.uint8)[:, :, None]
    expected["rgb16.png"] = hwc(Image.open(path("rgb16.png")))
    expected["interlaced.png"] = hwc(Image.open(path("interlaced.png")))
    assert (expected["interlaced.png"] == np.asarray(rgb)).all()
    expected["interlaced16_rgba.png"] = hwc(Image.open(path("interlaced16_rgba.png")))
    assert (expected["rgb16.png"] == (rgb16 >> 8)).all()

    # JPEGs: baseline, progressive, gray, CMYK, and every EXIF orientation of the same picture.
    rgb.save(path("baseline.jpg"), quality=90)
    rgb.save(path("progressive.jpg"), quality=90, progressive=True)
    gray.save(path("gray.jpg"), quality=90)
    rgb.convert("CMYK").save(path("cmyk.jpg"), quality=90)
    for orientation in range(2, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        rgb.save(path(f"orientation{orientation}.jpg"), quality=90, exif=exif.tobytes())
    for name in ("baseline.jpg", "progressive.jpg", "gray.jpg"):
        expected[name] = hwc(Image.open(path(name)))
    cmyk = Image.open(path("cmyk.jpg"))
    assert cmyk.mode == "CMYK"
    expected["cmyk.jpg"] = hwc(cmyk)                      # ink, 255 = full
    expected["cmyk.jpg_rgb"] = hwc(cmyk.convert("RGB"))   # PIL's CMYK → RGB
    for orientation in range(2, 9):
        name = f"orientation{orientation}.jpg"
        expected[name] = hwc(ImageOps.exif_transpose(Image.open(path(name))))
    rocket = hwc(Image.open(path("rocket.jpg")))
    expected["rocket.jpg_crop"] = rocket[150:246, 250:346]       # a 96×96 window of PIL's decode
    expected["rocket.jpg_sum"] = rocket.sum(dtype=np.uint64).reshape(1)

    # The pipeline: conversions and PIL's antialiased bilinear resize.
    tv = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
    expected["chelsea_tv"] = hwc(tv(chelsea))
    expected["rocket_tv"] = hwc(tv(Image.open(path("rocket.jpg")).convert("RGB")))
    expected["chelsea_64"] = hwc(chelsea.resize((64, 64), Image.BILINEAR))
    expected["chelsea_L_48x40"] = hwc(chelsea.convert("L").resize((40, 48), Image.BILINEAR))
    expected["small_up_50x70"] = hwc(small.resize((70, 50), Image.BILINEAR))
    expected["rgba.png_L"] = hwc(Image.open(path("rgba.png")).convert("L"))
    expected["rgba.png_RGB"] = hwc(Image.open(path("rgba.png")).convert("RGB"))
    expected["palette.png_L"] = hwc(Image.open(path("palette.png")).convert("L"))
    predict = np.asarray(chelsea.convert("L").resize((8, 8), Image.BILINEAR), dtype=np.float32)
    np.save(path("predict_8x8_L.npy"), predict.reshape(1, 8, 8, 1))

    np.savez_compressed(path("expected.npz"), **expected)
    for name in sorted(expected):
        print(f"{name:28s} {expected[name].shape}")


if __name__ == "__main__":
    main()
