"""Write an image a band of rows at a time, so that no format holds the whole frame.

Tiled renders (realtime.tiling) hand their output over as bands, top to
bottom. Each format here streams them into the file:

    .png   8-bit sRGB, written here (zlib, PNG filter "up"), since neither
           Pillow nor imageio encodes a PNG by rows
    .tif   float32 RGB, tifffile fed one row at a time
    .exr   float32 RGB, OpenEXR's scanline writer (ZIP compression)
    .npy   float32, the header then the rows

Pixels are those `write_image` writes for the same array (the same sRGB codes,
the same floats); the bytes around them differ (compression, metadata). Files
are written atomically, as by `write_image`; non-finite values become 0 with
one warning.
"""

from __future__ import annotations

import functools
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.outputs.images import PNG_MAX, WRITERS, _write_atomically
from realtime.sources.images import PNG_SIGNATURE, PathLike, linear_to_srgb

Bands = Iterable[tuple[int, np.ndarray]]  # (first row, rows HxWx3 float32 linear), in order
PNG_IDAT_BYTES = 1 << 20  # compressed bytes gathered into one IDAT chunk
PNG_COMPRESSION = 6  # zlib level (Pillow's default)
PNG_FILTER_UP = 2  # PNG filter type "up": each byte minus the one above (fast, and compresses)
PNG_ROWS = 256  # rows converted to sRGB codes at a time
SRGB_BUCKET_SHIFT = (
    16  # low float32 bits dropped to index the sRGB code table (7 mantissa bits kept)
)


def _finite(bands: Bands, path: Path) -> Iterator[np.ndarray]:
    """The bands' rows as contiguous float32, non-finite values 0 (one warning at the end)."""
    bad = 0
    row = 0
    for y0, rows in bands:
        if y0 != row:
            raise ValueError(f"bands out of order: row {y0} after {row}")
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        nonfinite = ~np.isfinite(rows)
        if nonfinite.any():
            bad += int(nonfinite.any(axis=2).sum())
            rows = np.where(nonfinite, np.float32(0), rows)
        row += len(rows)
        yield rows
    if bad:
        warnings.warn(
            f"{path}: {bad} pixels were NaN or infinite; written as 0", RuntimeWarning, stacklevel=3
        )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _srgb_codes_exact(linear: np.ndarray) -> np.ndarray:
    """8-bit sRGB codes of linear values as `write_image` computes them (float codes)."""
    return np.rint(linear_to_srgb(np.clip(linear, 0.0, 1.0)) * PNG_MAX)


@functools.cache
def _srgb_code_table() -> tuple[np.ndarray, np.ndarray]:
    """(code, step) per bucket of float32 bit patterns (the top bits, SRGB_BUCKET_SHIFT):
    the code of the bucket's first value, and the first value in the bucket whose code
    is one more (NaN if none). Buckets are narrow enough that codes rise by at most 1
    inside one, so the table gives `_srgb_codes_exact` for every finite value."""
    width = 1 << SRGB_BUCKET_SHIFT
    first = np.arange(1 << (32 - SRGB_BUCKET_SHIFT), dtype=np.uint64) * width
    last = first + width - 1
    as_float = lambda bits: bits.astype(np.uint32).view(np.float32)  # noqa: E731
    with np.errstate(invalid="ignore"):
        lo = _srgb_codes_exact(as_float(first))
        hi = _srgb_codes_exact(as_float(last))
    lo = np.nan_to_num(lo)  # buckets of NaN patterns: never used
    hi = np.where(np.isnan(hi), lo, hi)
    rises = hi > lo
    assert (hi - lo <= 1).all(), "sRGB table buckets too wide"
    a, b = first[rises], last[rises]  # code(a) = lo, code(b) = lo + 1: bisect for the step
    target = lo[rises]
    while (b - a > 1).any():
        mid = (a + b) // 2
        up = _srgb_codes_exact(as_float(mid)) > target
        a, b = np.where(up, a, mid), np.where(up, mid, b)
    step = np.full(len(first), np.nan, dtype=np.float32)
    step[rises] = as_float(b)
    return lo.astype(np.uint8), step


def srgb_codes(linear: np.ndarray) -> np.ndarray:
    """8-bit sRGB codes (uint8) of finite linear float32 values, equal to `write_image`'s
    rint(linear_to_srgb(clip(x, 0, 1)) * 255), by table: a few integer operations a value."""
    code, step = _srgb_code_table()
    x = np.ascontiguousarray(linear, dtype=np.float32)
    bucket = x.view(np.uint32) >> SRGB_BUCKET_SHIFT
    return code[bucket] + (x >= step[bucket])


def _write_png(path: str, size: tuple[int, int], rows: Iterator[np.ndarray]) -> None:
    width, height = size
    compressor = zlib.compressobj(PNG_COMPRESSION)
    above = np.zeros(width * 3, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(PNG_SIGNATURE)
        f.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        pending = b""
        for band in rows:
            for r in range(0, len(band), PNG_ROWS):
                codes = srgb_codes(band[r : r + PNG_ROWS]).reshape(-1, width * 3)
                filtered = np.empty((len(codes), width * 3 + 1), dtype=np.uint8)
                filtered[:, 0] = PNG_FILTER_UP
                filtered[0, 1:] = codes[0] - above
                filtered[1:, 1:] = codes[1:] - codes[:-1]
                pending += compressor.compress(filtered.tobytes())
                above = codes[-1]
            if len(pending) >= PNG_IDAT_BYTES:
                f.write(_png_chunk(b"IDAT", pending))
                pending = b""
        f.write(_png_chunk(b"IDAT", pending + compressor.flush()))
        f.write(_png_chunk(b"IEND", b""))


def _write_tiff(path: str, size: tuple[int, int], rows: Iterator[np.ndarray]) -> None:
    import tifffile

    width, height = size
    each = (row for band in rows for row in band)
    tifffile.imwrite(path, each, shape=(height, width, 3), dtype=np.float32, photometric="rgb")


def _write_exr(path: str, size: tuple[int, int], rows: Iterator[np.ndarray]) -> None:
    import Imath
    import OpenEXR

    width, height = size
    header = OpenEXR.Header(width, height)
    header["compression"] = Imath.Compression(Imath.Compression.ZIP_COMPRESSION)
    channel = Imath.Channel(Imath.PixelType(Imath.PixelType.FLOAT))
    header["channels"] = {name: channel for name in "RGB"}
    out = OpenEXR.OutputFile(path, header)
    try:
        for band in rows:
            planes = {
                name: np.ascontiguousarray(band[..., i]).tobytes() for i, name in enumerate("RGB")
            }
            out.writePixels(planes, len(band))
    finally:
        out.close()


def _write_npy(path: str, size: tuple[int, int], rows: Iterator[np.ndarray]) -> None:
    width, height = size
    header = {
        "descr": np.dtype(np.float32).str,
        "fortran_order": False,
        "shape": (height, width, 3),
    }
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        for band in rows:
            f.write(band.tobytes())


STRIP_WRITERS: dict[str, Callable[[str, tuple[int, int], Iterator[np.ndarray]], None]] = {
    ".png": _write_png,
    ".tif": _write_tiff,
    ".tiff": _write_tiff,
    ".exr": _write_exr,
    ".npy": _write_npy,
}


def write_image_bands(path: PathLike, size: tuple[int, int], bands: Bands) -> None:
    """Write a (width, height) linear RGB image given as bands of rows, atomically."""
    p = Path(path)
    writer = STRIP_WRITERS.get(p.suffix.lower())
    if writer is None:
        raise InputError(
            f"{p}: unknown output type {p.suffix or '(none)'!r}; use one of {', '.join(WRITERS)}"
        )
    _write_atomically(p, lambda tmp: writer(tmp, size, _finite(bands, p)))


__all__ = ["STRIP_WRITERS", "write_image_bands"]
