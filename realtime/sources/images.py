"""Colour images in, as float32 linear light, row 0 at the top.

Integer files (8/16-bit PNG, JPEG, integer TIFF) hold sRGB-encoded values and
are decoded with the exact piecewise sRGB curve. Float files (.exr, float
TIFF, .npy, .pfm) are taken as linear light as stored, values above 1.0
included; nothing is rescaled. Middlebury's left_rgb.tif, for instance, is
float32 in 0..255 and loads as such: scaling it is the user's call.

The raw readers here (`read_samples`, `read_exr_channels`, `read_pfm`) return
samples exactly as stored and are shared with the depth loader. Every failure
a user can cause raises InputError with one line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from realtime.errors import InputError
from realtime.sources.limits import (
    check_decoded_size,
    exr_header,
    npy_header,
    pfm_header,
    pillow_header,
    png_header,
    tiff_header,
)

PathLike = str | os.PathLike[str]

IMAGEIO_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
TIFF_EXTENSIONS = (".tif", ".tiff")
HEIF_EXTENSIONS = (".heic", ".heif")  # read by pillow-heif (the primary image)
COLOR_EXTENSIONS = (
    *IMAGEIO_EXTENSIONS,
    *TIFF_EXTENSIONS,
    *HEIF_EXTENSIONS,
    ".exr",
    ".npy",
    ".pfm",
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAGIC = {  # leading bytes of each format, checked first for a clear "not a ..." message
    ".png": (PNG_SIGNATURE,),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".bmp": (b"BM",),
    ".tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".npy": (b"\x93NUMPY",),
    ".pfm": (b"PF", b"Pf"),
    ".exr": (b"\x76\x2f\x31\x01",),
}
PNG_COLOR_TYPES_WITH_CHROMA = (2, 4, 6)  # RGB, grey+alpha, RGBA (Pillow reads these as 8-bit)
PFM_HEADER_MAX_BYTES = 256  # a PFM header (type, width, height, scale) fits in this
MAX_ERROR_CHARS = 160  # a library's error text is cut to this in our one-line messages

# sRGB transfer function (IEC 61966-2-1), both directions.
SRGB_DECODE_KNEE = 0.04045  # encoded value where the linear segment ends
SRGB_ENCODE_KNEE = 0.0031308  # linear value where the linear segment ends
SRGB_LINEAR_SLOPE = 12.92
SRGB_ALPHA = 0.055
SRGB_GAMMA = 2.4
# Rec. 709 / sRGB primaries: luminance Y from linear RGB (luma when applied to encoded values).
LUMA_WEIGHTS = (0.2126, 0.7152, 0.0722)


def srgb_to_linear(x: np.ndarray | float) -> np.ndarray:
    """Exact sRGB EOTF: encoded values (0..1) to linear light, float32.

    Values outside 0..1 follow the same two pieces (negative ones the linear
    segment), so the function never produces NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    low = x / SRGB_LINEAR_SLOPE
    high = ((np.maximum(x, SRGB_DECODE_KNEE) + SRGB_ALPHA) / (1 + SRGB_ALPHA)) ** SRGB_GAMMA
    return np.where(x <= SRGB_DECODE_KNEE, low, high).astype(np.float32)


def linear_to_srgb(x: np.ndarray | float) -> np.ndarray:
    """Exact inverse sRGB EOTF: linear light to encoded values, float32, unclipped."""
    x = np.asarray(x, dtype=np.float64)
    low = x * SRGB_LINEAR_SLOPE
    high = (1 + SRGB_ALPHA) * np.maximum(x, SRGB_ENCODE_KNEE) ** (1 / SRGB_GAMMA) - SRGB_ALPHA
    return np.where(x <= SRGB_ENCODE_KNEE, low, high).astype(np.float32)


def _srgb_lut(bits: int) -> np.ndarray:
    """Linear value of every code of an unsigned integer sample of `bits` bits."""
    codes = np.arange(2**bits, dtype=np.float64) / (2**bits - 1)
    return srgb_to_linear(codes)


_LUTS: dict[int, np.ndarray] = {}


def decode_srgb_integers(samples: np.ndarray) -> np.ndarray:
    """Unsigned integer sRGB samples (full range of their dtype) to linear float32."""
    bits = samples.dtype.itemsize * 8
    if bits <= 16:
        if bits not in _LUTS:
            _LUTS[bits] = _srgb_lut(bits)
        return _LUTS[bits][samples]
    return srgb_to_linear(samples / np.float64(np.iinfo(samples.dtype).max))


# --- raw readers, shared with depth.py ----------------------------------------------


def one_line(error: BaseException) -> str:
    """A library's error as one short line."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def check_file(path: PathLike) -> Path:
    """The path, if it names a readable file; InputError otherwise."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not an image file")
    if not os.access(p, os.R_OK):
        raise InputError(f"{p}: permission denied")
    return p


def check_magic(p: Path) -> None:
    """InputError unless the file starts the way its extension's format does."""
    magics = MAGIC.get(p.suffix.lower())
    if magics is None:
        return
    with open(p, "rb") as f:
        head = f.read(max(len(m) for m in magics))
    if not any(head.startswith(m) for m in magics):
        kind = p.suffix.lstrip(".").upper()
        what = "empty" if not head else f"starts with {head[:8]!r}"
        raise InputError(f"{p}: not a valid {kind} file ({what})")


def _png_header(p: Path) -> tuple[int, int] | None:
    """(bit depth, colour type) from a PNG's IHDR, or None if it is not a PNG."""
    with open(p, "rb") as f:
        head = f.read(29)
    if len(head) < 29 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def _read_png16_color(p: Path) -> np.ndarray:
    """A 16-bit RGB/RGBA/grey+alpha PNG as HxWx3 uint16, decoded by the bundled ffmpeg.

    Pillow reduces these to 8 bits; ffmpeg's PNG decoder keeps all 16 (alpha dropped).
    """
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(str(p), pix_fmt="rgb48le", bits_per_pixel=48)
    try:
        meta = next(frames)
        width, height = meta["size"]
        data = next(frames)
    except (StopIteration, RuntimeError, OSError) as e:
        raise ValueError("corrupt or truncated 16-bit PNG (ffmpeg could not decode it)") from e
    finally:
        frames.close()
    if len(data) != width * height * 6:
        raise ValueError("corrupt or truncated 16-bit PNG (short image data)")
    return np.frombuffer(data, dtype="<u2").reshape(height, width, 3).astype(np.uint16)


def _read_tiff(p: Path) -> np.ndarray:
    """The first image of a TIFF as HxW or HxWxC, whatever its sample layout."""
    import tifffile

    with tifffile.TiffFile(p) as tif:
        page = tif.pages[0]
        axes = page.axes
        arr = page.asarray()
    # Keep Y, X and samples (S); take the first index of any other axis.
    for i in reversed(range(len(axes))):
        if axes[i] not in "YXS":
            arr = np.take(arr, 0, axis=i)
    kept = [a for a in axes if a in "YXS"]
    if "S" in kept:
        arr = np.moveaxis(arr, kept.index("S"), -1)
    return arr


def open_heif_primary(p: Path) -> Any:
    """A HEIF file's primary image (pillow-heif, which decodes lazily; libheif applies its
    rotation and mirror). Read explicitly: Pillow's plugin would also offer the auxiliary
    images (gain maps). pillow-heif is the optional extra [photos] (its wheels bundle GPL
    codecs): without it, one line saying how to install it."""
    try:
        import pillow_heif
    except ImportError as e:
        raise InputError(
            f"{p}: HEIC/HEIF photos need pillow-heif: pip install 'rackfocus[photos]'"
        ) from e
    heif = pillow_heif.open_heif(str(p))
    return heif[heif.primary_index]


def _read_heif(p: Path) -> np.ndarray:
    """A HEIF file's primary image as HxWx3 uint8."""
    return np.asarray(open_heif_primary(p))


def read_pfm(p: Path) -> np.ndarray:
    """A PFM file (grey "Pf" or colour "PF") as float32 HxW or HxWx3, row 0 at the top.

    The size in its header is checked (check_decoded_size) before the data is read."""
    with open(p, "rb") as f:
        data = f.read(PFM_HEADER_MAX_BYTES)
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        start = pos
        while pos < len(data) and not data[pos : pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ValueError("truncated PFM header")
        tokens.append(data[start:pos])
    pos += 1  # the single whitespace byte that ends the header
    kind, width, height, scale = tokens[0], int(tokens[1]), int(tokens[2]), float(tokens[3])
    channels = {b"PF": 3, b"Pf": 1}.get(kind)
    if channels is None:
        raise ValueError(f"not a PFM file (header {kind[:8]!r})")
    if width <= 0 or height <= 0:
        raise ValueError(f"bad PFM size {width}x{height}")
    check_decoded_size(p, pfm_header(width, height, channels))
    data = p.read_bytes()
    dtype = np.dtype("<f4" if scale < 0 else ">f4")
    count = width * height * channels
    if len(data) - pos < count * 4:
        raise ValueError(f"PFM data is truncated ({len(data) - pos} of {count * 4} bytes)")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=pos).astype(np.float32)
    arr = arr.reshape(height, width, channels)[::-1]  # PFM stores the bottom row first
    return np.ascontiguousarray(arr[..., 0] if channels == 1 else arr)


def read_exr_channels(path: PathLike) -> dict[str, np.ndarray]:
    """Every channel of an OpenEXR file's first part, as float32 HxW arrays."""
    p = check_file(path)
    check_magic(p)
    try:
        import OpenEXR

        check_decoded_size(p, exr_header(p))
        with OpenEXR.File(str(p), separate_channels=True) as f:
            channels = {name: np.asarray(ch.pixels) for name, ch in f.channels().items()}
    except InputError:
        raise
    except Exception as e:  # any decoding failure is the file's fault
        raise InputError(f"{p}: cannot read as OpenEXR: {one_line(e)}") from e
    out = {}
    for name, arr in channels.items():
        if arr.ndim != 2:
            raise InputError(f"{p}: EXR channel {name!r} has shape {arr.shape}, expected HxW")
        out[name] = arr.astype(np.float32)
    return out


def _check_header(p: Path, ext: str) -> None:
    """InputError if the header's size would not fit in memory (sources.limits); .pfm files
    are checked by read_pfm, which parses their header."""
    header = None
    if ext == ".png":
        header = png_header(p)
    if header is None and ext in IMAGEIO_EXTENSIONS:
        header = pillow_header(p)
    elif ext in TIFF_EXTENSIONS:
        header = tiff_header(p)
    elif ext == ".npy":
        header = npy_header(p)
    if header is not None:
        check_decoded_size(p, header)


def read_samples(path: PathLike) -> np.ndarray:
    """A PNG, JPEG, BMP, TIFF, HEIC/HEIF, .npy or .pfm file's samples exactly as stored.

    HxW or HxWxC in the file's own dtype, row 0 at the top. EXR has several named
    channels and goes through `read_exr_channels` instead.
    """
    p = check_file(path)
    ext = p.suffix.lower()
    check_magic(p)
    try:
        _check_header(p, ext)
        if ext in IMAGEIO_EXTENSIONS:
            header = _png_header(p) if ext == ".png" else None
            if header is not None and header[0] == 16 and header[1] in PNG_COLOR_TYPES_WITH_CHROMA:
                arr = _read_png16_color(p)
            else:
                import imageio.v3 as iio
                from PIL import Image

                # Pillow's decompression-bomb guard (a warning past 89 MP, an error past
                # 179 MP) would refuse the stills rackfocus renders in tiles; the header
                # check above (sources.limits) bounds the size by memory instead.
                Image.MAX_IMAGE_PIXELS = None
                arr = np.asarray(iio.imread(p, plugin="pillow"))
        elif ext in TIFF_EXTENSIONS:
            arr = _read_tiff(p)
        elif ext in HEIF_EXTENSIONS:
            arr = _read_heif(p)
        elif ext == ".npy":
            arr = np.load(p, allow_pickle=False)
        elif ext == ".pfm":
            arr = read_pfm(p)
        else:
            raise InputError(
                f"{p}: unsupported file type {ext or '(none)'!r}; "
                f"use one of {', '.join(COLOR_EXTENSIONS)}"
            )
    except InputError:
        raise
    except Exception as e:  # any decoding failure is the file's fault
        kind = ext.lstrip(".").upper() or "an image"
        raise InputError(f"{p}: cannot read as {kind}: {one_line(e)}") from e
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "uifb":
        raise InputError(f"{p}: holds no numeric image array")
    if arr.ndim not in (2, 3) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{p}: array of shape {arr.shape} is not an image (HxW or HxWxC)")
    return arr


# --- colour -----------------------------------------------------------------------------


def _to_rgb(arr: np.ndarray, p: Path) -> np.ndarray:
    """HxW, HxWx1 (grey), HxWx2 (grey+alpha), HxWx3, HxWx4 (alpha dropped) to HxWx3."""
    if arr.ndim == 2:
        arr = arr[..., None]
    channels = arr.shape[2]
    if channels in (1, 2):
        return np.repeat(arr[..., :1], 3, axis=2)
    if channels in (3, 4):
        return arr[..., :3]
    raise InputError(f"{p}: {channels} channels; expected grey, grey+alpha, RGB or RGBA")


def _exr_color(p: Path) -> np.ndarray:
    channels = read_exr_channels(p)
    if all(c in channels for c in "RGB"):
        return np.stack([channels["R"], channels["G"], channels["B"]], axis=-1)
    if "Y" in channels:
        return np.repeat(channels["Y"][..., None], 3, axis=2)
    raise InputError(f"{p}: EXR has no R, G, B (or Y) channels; it has {', '.join(channels)}")


def load_color(path: PathLike, keep_integers: bool = False) -> np.ndarray:
    """Load a colour image as float32 HxWx3 linear light, row 0 at the top.

    Integer samples are sRGB-encoded and decoded exactly; float samples (.exr,
    float TIFF, .npy, .pfm) are linear and kept as stored, above 1.0 included.
    Grey is repeated to three channels and alpha is dropped. A .npy must be
    HxWx3 (or HxWx4). NaN or infinite samples are an InputError.

    With `keep_integers`, integer samples come back as stored (HxWx3 uint8 or
    uint16, sRGB; `decode_srgb_integers` makes them linear): a quarter or half of
    the memory, for frames rendered in tiles, which decode a window at a time.
    """
    p = check_file(path)
    ext = p.suffix.lower()
    if ext == ".exr":
        rgb = _exr_color(p)
    else:
        arr = read_samples(p)
        if ext == ".npy" and (arr.ndim != 3 or arr.shape[2] not in (3, 4)):
            raise InputError(f"{p}: colour array has shape {arr.shape}, expected HxWx3")
        rgb = _to_rgb(arr, p)
        if rgb.dtype.kind == "u":  # every code decodes to a finite value
            if keep_integers:
                return np.ascontiguousarray(rgb)
            return np.ascontiguousarray(decode_srgb_integers(rgb), dtype=np.float32)
        elif rgb.dtype.kind == "f":
            rgb = rgb.astype(np.float32)
        else:
            raise InputError(
                f"{p}: unsupported sample type {rgb.dtype}; expected unsigned or float"
            )
    bad = ~np.isfinite(rgb)
    if bad.any():
        raise InputError(f"{p}: {int(bad.any(axis=2).sum())} pixels are NaN or infinite")
    return np.ascontiguousarray(rgb, dtype=np.float32)


__all__ = [
    "COLOR_EXTENSIONS",
    "check_file",
    "decode_srgb_integers",
    "linear_to_srgb",
    "load_color",
    "one_line",
    "read_exr_channels",
    "read_pfm",
    "read_samples",
    "srgb_to_linear",
]
