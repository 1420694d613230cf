"""Decompression bombs and truncated files: exit 2, one line, fast, before anything large
is allocated (realtime.sources.limits)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime.errors import InputError
from realtime.sources.limits import (
    INPUT_MEMORY_SHARE,
    ImageHeader,
    check_decoded_size,
    limit_input_memory,
    max_input_bytes,
    png_header,
)
from realtime.tiling import DEFAULT_MEMORY_SHARE

BOMB_SIDE = 60000  # px: 3.6 gigapixels claimed by a file of a few hundred bytes
MAX_SECONDS = 5.0  # the target is 1 s; generous for a loaded CI machine
MAX_RSS_MB = 200  # peak resident memory of the whole CLI process

# Runs the CLI as a grandchild, so that RUSAGE_CHILDREN holds its peak alone.
MEASURE = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
r = subprocess.run([sys.executable, "-m", "realtime", *sys.argv[1:]], capture_output=True,
                   text=True)
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": r.returncode, "stderr": r.stderr, "s": time.perf_counter() - t0,
                  "rss_mb": rss_kb / 1024}))
"""


def measure(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bomb(path: Path, side: int = BOMB_SIDE, bits: int = 8, color_type: int = 2) -> Path:
    """A valid PNG signature and IHDR claiming side x side px, a tiny IDAT, IEND."""
    ihdr = struct.pack(">IIBBBBB", side, side, bits, color_type, 0, 0, 0)
    idat = zlib.compress(b"\0" * 100)
    body = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def tiff_bomb(path: Path, side: int = BOMB_SIDE) -> Path:
    """A little-endian TIFF whose one IFD claims side x side 8-bit RGB in one 16-byte strip."""
    tags = [  # (tag, type, count, value): SHORT = 3, LONG = 4
        (256, 4, 1, side),  # ImageWidth
        (257, 4, 1, side),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample (one value, applies to every sample)
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 2),  # Photometric: RGB
        (273, 4, 1, 0),  # StripOffsets (patched below)
        (277, 3, 1, 3),  # SamplesPerPixel
        (278, 4, 1, side),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts
    ]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(tags) + 4
    ifd = struct.pack("<H", len(tags))
    for tag, kind, count, value in tags:
        value = data_offset if tag == 273 else value
        packed = struct.pack("<Hxx", value) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", ifd_offset) + ifd + b"\0" * 16)
    return path


def npy_bomb(path: Path, side: int = BOMB_SIDE) -> Path:
    """A .npy header for a side x side x 3 float32 array, and no data."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({side}, {side}, 3), }}"
    header = header.ljust(118) + "\n"  # the magic (10 bytes) + header: a multiple of 64
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    return path


def jpeg_bomb(path: Path, side: int = 65000) -> Path:
    """SOI and a baseline SOF0 claiming side x side px with 3 components, then EOI."""
    sof = struct.pack(">BHHB", 8, side, side, 3) + b"".join(
        struct.pack(">BBB", i, 0x11, 0) for i in (1, 2, 3)
    )
    segment = b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof
    path.write_bytes(b"\xff\xd8" + segment + b"\xff\xd9")
    return path


def exr_bomb(path: Path, side: int = BOMB_SIDE) -> Path:
    """A small valid EXR whose data and display windows are patched to side x side px."""
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"RGB": np.zeros((4, 4, 3), np.float32)}) as f:
        f.write(str(path))
    data = bytearray(path.read_bytes())
    for name in (b"dataWindow\0box2i\0", b"displayWindow\0box2i\0"):
        at = data.index(name) + len(name) + 4  # after the attribute's size
        data[at : at + 16] = struct.pack("<4i", 0, 0, side - 1, side - 1)
    path.write_bytes(bytes(data))
    return path


def pfm_bomb(path: Path, side: int = BOMB_SIDE) -> Path:
    path.write_bytes(f"PF\n{side} {side}\n-1.0\n".encode() + b"\0" * 64)
    return path


@pytest.fixture
def depth_png(tmp_path: Path) -> Path:
    path = tmp_path / "d.png"
    iio.imwrite(path, np.full((8, 8), 1000, np.uint16))
    return path


def render_args(rgb: Path, depth: Path, out: Path) -> list[str]:
    return [
        "render",
        "--rgb",
        str(rgb),
        "--depth",
        str(depth),
        "--depth-scale",
        "0.001",
        "--focus",
        "2",
        "-o",
        str(out),
    ]


def assert_refused(result: dict, name: str) -> None:
    lines = result["stderr"].strip().splitlines()
    assert result["rc"] == 2, result
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in result["stderr"], lines


def test_png_bomb_exits_2_at_once_in_little_memory(tmp_path: Path, depth_png: Path) -> None:
    bomb = png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 200
    result = measure(render_args(bomb, depth_png, tmp_path / "out.png"))
    assert_refused(result, "bomb.png")
    assert f"{BOMB_SIDE}x{BOMB_SIDE} px" in result["stderr"] and "GiB" in result["stderr"]
    assert result["s"] < MAX_SECONDS and result["rss_mb"] < MAX_RSS_MB, result
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("kind", ["tif", "npy", "jpg", "exr", "pfm", "depth-png"])
def test_other_bombs_exit_2_in_little_memory(tmp_path: Path, depth_png: Path, kind: str) -> None:
    color = tmp_path / "c.png"
    iio.imwrite(color, np.zeros((8, 8, 3), np.uint8))
    if kind == "depth-png":  # a depth bomb: 16-bit grey
        rgb, depth = color, png_bomb(tmp_path / "bomb.png", bits=16, color_type=0)
    else:
        makers = {"tif": tiff_bomb, "npy": npy_bomb, "jpg": jpeg_bomb, "exr": exr_bomb}
        maker = makers.get(kind, pfm_bomb)
        rgb, depth = maker(tmp_path / f"bomb.{kind}"), depth_png
    result = measure(render_args(rgb, depth, tmp_path / "out.png"))
    assert_refused(result, "bomb.")
    assert "to decode" in result["stderr"]
    assert result["s"] < MAX_SECONDS and result["rss_mb"] < MAX_RSS_MB, result


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif"])
def test_truncated_files_exit_2_with_one_line(tmp_path: Path, depth_png: Path, ext: str) -> None:
    rng = np.random.default_rng(0)
    whole = tmp_path / f"whole{ext}"
    iio.imwrite(whole, rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = measure(render_args(cut, depth_png, tmp_path / "out.png"))
    assert_refused(result, f"cut{ext}")


def test_the_bound_follows_max_memory() -> None:
    header = ImageHeader(4000, 3000, 3, 1)  # 12 MP of 8-bit RGB: 180 MB with its float copy
    try:
        limit_input_memory(10 * 2**20)  # 120 MiB of input (the default's ratio)
        assert max_input_bytes()[0] == 10 * 2**20 * DEFAULT_MEMORY_SHARE // INPUT_MEMORY_SHARE
        with pytest.raises(InputError, match=r"4000x3000 px would need 0\.2 GiB.*--max-memory"):
            check_decoded_size(Path("x.png"), header)
        limit_input_memory(100 * 2**20)
        check_decoded_size(Path("x.png"), header)
    finally:
        limit_input_memory(None)
    assert max_input_bytes()[0] >= 2**30 or "does not report" in max_input_bytes()[1]


def test_large_real_stills_pass_the_check(tmp_path: Path) -> None:
    """An 8000x6000 RGB still (48 MP) and a 200 MP one (past Pillow's own bomb limit) pass the
    header check: only memory refuses a file, never its size alone."""
    limit_input_memory(2**30)  # 8 GiB of input, whatever this machine has
    try:
        check_big_pngs(tmp_path)
    finally:
        limit_input_memory(None)


def check_big_pngs(tmp_path: Path) -> None:
    for width, height in ((8000, 6000), (20000, 10000)):
        path = png_bomb(tmp_path / "big.png")  # any valid header; the size is patched below
        data = bytearray(path.read_bytes())
        data[16:24] = struct.pack(">II", width, height)
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        path.write_bytes(bytes(data))
        header = png_header(path)
        assert header is not None and (header.width, header.height) == (width, height)
        check_decoded_size(path, header)


FILL_BYTES_PER_PX = 40  # the fill's peak, all numpy allocations, per pixel (output included)


def test_depth_fill_memory_per_pixel() -> None:
    """Filling a depth map's holes with 8-bit colour as the guide (what render does) takes
    about 34 bytes a pixel at its peak, where the fill that made a float guide of the whole
    image took 71: an 8000x6000 still's fill fell from 3.8 to 1.3 GB resident."""
    import tracemalloc

    from realtime.sources.depth import fill_invalid_depth

    rng = np.random.default_rng(0)
    h, w = 1536, 2048  # past one FILL_BLOCK_PX block, so the blocks are exercised
    depth = np.full((h, w), 2.0, np.float32)
    depth[rng.random((h, w)) < 0.08] = 0.0
    color = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        filled = fill_invalid_depth(depth, color)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (filled == 2.0).all()
    assert peak / (h * w) < FILL_BYTES_PER_PX, peak / (h * w)
