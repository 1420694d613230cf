"""How large an input image may be, read from its header before anything is decoded.

A compressed file can claim a size far beyond its own bytes (a "decompression
bomb": a PNG of a few hundred bytes whose header says 60000x60000 px). Decoding
allocates what the header says, so the header is read first and a file whose
decoded samples, with the float32 copy the loaders make of them, would not fit is
refused with one line, before any large allocation.

The bound: one input file's decoded samples and their float32 copy may take half
of this machine's physical memory (the rest is for the other input and the
render itself). With --max-memory M (the pass chain's
budget per tile, by default 1/DEFAULT_MEMORY_SHARE of physical memory) the
bound is M x DEFAULT_MEMORY_SHARE / INPUT_MEMORY_SHARE, the default's ratio (12 M).
Real large stills stay far below it (an 8000x6000 RGB PNG: 144 MB of samples, 720 MB
with their float copy).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.errors import InputError

INPUT_MEMORY_SHARE = 2  # one input's decoded samples may take 1/N of physical memory
FALLBACK_INPUT_BYTES = 4 * 2**30  # the bound on a machine that does not say its memory
FLOAT_BYTES = 4  # the loaders convert every sample to float32
GIB = 2**30

_chain_memory_bytes: int | None = None  # --max-memory, when a front end was given it


def limit_input_memory(chain_memory_bytes: int | None) -> None:
    """Derive the input bound from --max-memory (None: from physical memory)."""
    global _chain_memory_bytes
    _chain_memory_bytes = chain_memory_bytes


def physical_memory_bytes() -> int | None:
    """This machine's physical memory, or None where it does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def max_input_bytes() -> tuple[int, str]:
    """The bound on one input's decoded samples, and where it comes from (for messages)."""
    if _chain_memory_bytes is not None:
        from realtime.tiling import DEFAULT_MEMORY_SHARE  # imported here: tiling imports sources

        ratio = DEFAULT_MEMORY_SHARE // INPUT_MEMORY_SHARE  # the default's ratio
        limit = _chain_memory_bytes * ratio
        return limit, f"{ratio}x --max-memory {_chain_memory_bytes / GIB:.1f} GiB"
    total = physical_memory_bytes()
    if total is None:
        return FALLBACK_INPUT_BYTES, "the default on a machine that does not report its memory"
    return total // INPUT_MEMORY_SHARE, f"1/{INPUT_MEMORY_SHARE} of this machine's memory"


@dataclass(frozen=True)
class ImageHeader:
    """What a file's header says it decodes to."""

    width: int  # px
    height: int  # px
    channels: int  # samples per pixel, as decoded
    sample_bytes: int  # bytes per sample, as decoded

    @property
    def decoded_bytes(self) -> int:
        """Size of the decoded samples and of the float32 copy the loaders make of them."""
        return self.width * self.height * self.channels * (self.sample_bytes + FLOAT_BYTES)


def check_decoded_size(p: Path, header: ImageHeader) -> None:
    """InputError (one line) if `header`'s decoded samples exceed max_input_bytes()."""
    if header.width <= 0 or header.height <= 0:
        raise InputError(f"{p}: header says {header.width}x{header.height} px, not an image")
    limit, why = max_input_bytes()
    need = header.decoded_bytes
    if need > limit:
        raise InputError(
            f"{p}: {header.width}x{header.height} px would need {need / GIB:.1f} GiB to decode, "
            f"more than the {limit / GIB:.1f} GiB allowed ({why}; --max-memory raises it)"
        )


# --- header readers: a few hundred bytes each, never the image data -----------------------

PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}  # colour type -> decoded channels (palette: RGBA)
PIL_SAMPLE_BYTES = {"I": 4, "F": 4, "I;16": 2, "I;16B": 2, "I;16L": 2}  # others: 1 byte


def png_header(p: Path) -> ImageHeader | None:
    """From the IHDR chunk, which a PNG must start with; None if it does not."""
    with open(p, "rb") as f:
        head = f.read(33)
    if len(head) < 29 or head[12:16] != b"IHDR":
        return None
    width, height, bits, color_type = struct.unpack(">IIBB", head[16:26])
    return ImageHeader(width, height, PNG_CHANNELS.get(color_type, 4), 2 if bits == 16 else 1)


def pillow_header(p: Path) -> ImageHeader:
    """JPEG, BMP (and PNG): Pillow's open reads the header only; decoding waits for load()."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # Pillow's own bomb guard refuses large stills; ours replaces it
    with Image.open(p) as im:
        width, height = im.size
        channels = max(len(im.getbands()), 3 if im.mode == "P" else 1)
        return ImageHeader(width, height, channels, PIL_SAMPLE_BYTES.get(im.mode, 1))


def tiff_header(p: Path) -> ImageHeader:
    """The first page's shape and sample type (tifffile parses the IFD, not the strips)."""
    import tifffile

    with tifffile.TiffFile(p) as tif:
        page = tif.pages.first
        shape, dtype = page.shape, np.dtype(page.dtype)
        axes = page.axes
    width = shape[axes.index("X")] if "X" in axes else 1
    height = shape[axes.index("Y")] if "Y" in axes else 1
    channels = shape[axes.index("S")] if "S" in axes else 1
    return ImageHeader(width, height, channels, dtype.itemsize)


def npy_header(p: Path) -> ImageHeader:
    """The array header of a .npy file (format versions 1 to 3)."""
    with open(p, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    height = shape[0] if len(shape) > 0 else 1
    width = shape[1] if len(shape) > 1 else 1
    channels = int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1
    return ImageHeader(width, height, channels, np.dtype(dtype).itemsize)


def exr_header(p: Path) -> ImageHeader:
    """The first part's data window and channels, read as float32 (OpenEXR's header_only)."""
    import OpenEXR

    with OpenEXR.File(str(p), header_only=True) as f:  # its header is emptied on close
        header = f.header()
        (x0, y0), (x1, y1) = header["dataWindow"]
        channels = max(1, len(header.get("channels", ())))
    return ImageHeader(int(x1 - x0 + 1), int(y1 - y0 + 1), channels, 4)


def pfm_header(width: int, height: int, channels: int) -> ImageHeader:
    """A PFM's size, from the tokens its reader parsed (float32 samples)."""
    return ImageHeader(width, height, channels, 4)


__all__ = [
    "ImageHeader",
    "check_decoded_size",
    "exr_header",
    "limit_input_memory",
    "max_input_bytes",
    "npy_header",
    "pfm_header",
    "physical_memory_bytes",
    "pillow_header",
    "png_header",
    "tiff_header",
]
