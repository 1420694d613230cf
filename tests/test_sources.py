"""Inputs and outputs: colour and depth loading, conventions, hole filling, writers, options.

Fast and GL-free. Real frames come from tests/data (see its README for provenance).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import imageio.v3 as iio
import numpy as np
import OpenEXR
import pytest
import tifffile

from realtime.errors import InputError
from realtime.outputs import images as writers
from realtime.outputs.images import write_image
from realtime.sources.depth import (
    DepthConvention,
    fill_invalid_depth,
    load_depth,
    resample_depth,
)
from realtime.sources.images import (
    decode_srgb_integers,
    linear_to_srgb,
    load_color,
    srgb_to_linear,
)
from realtime.sources.options import add_input_arguments, convention_from_args, load_inputs

DATA = Path(__file__).parent / "data"
TUM_COLOR = DATA / "tum" / "color.png"
TUM_DEPTH = DATA / "tum" / "depth.png"
TUM_SCALE = 0.0002  # TUM: metres = value / 5000
CONES_RGB = DATA / "middlebury-cones" / "left_rgb.tif"
CONES_DISP = DATA / "middlebury-cones" / "gt_disp_left.tif"
MPIB_RGB = DATA / "mpib" / "new_11_all-in-focus.jpg"
MPIB_DISP = DATA / "mpib" / "new_11_disparity.jpg"

RNG_SEED = 1234


# --- helpers -----------------------------------------------------------------------------


def write_png16(path: Path, samples: np.ndarray) -> None:
    """A 16-bit PNG (grey, grey+alpha, RGB or RGBA) written by hand: Pillow cannot."""
    h, w, c = samples.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def write_pfm(path: Path, arr: np.ndarray, little_endian: bool = True) -> None:
    """A PFM file, bottom row first as the format says."""
    color = arr.ndim == 3
    h, w = arr.shape[:2]
    dtype = "<f4" if little_endian else ">f4"
    header = f"{'PF' if color else 'Pf'}\n{w} {h}\n{-1.0 if little_endian else 1.0}\n"
    path.write_bytes(header.encode() + np.ascontiguousarray(arr[::-1], dtype=dtype).tobytes())


def write_exr(path: Path, channels: dict[str, np.ndarray]) -> None:
    """An EXR with the given channels (OpenEXR ignores strides: pass contiguous arrays)."""
    channels = {name: np.ascontiguousarray(a) for name, a in channels.items()}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, channels) as f:
        f.write(str(path))


def assert_one_line_naming(excinfo: pytest.ExceptionInfo, path: Path | str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    assert str(path) in message


def random_linear(shape: tuple[int, ...], high: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(RNG_SEED).random(shape) * high).astype(np.float32)


# --- sRGB --------------------------------------------------------------------------------


def test_srgb_known_values() -> None:
    assert srgb_to_linear(0.0) == 0.0
    assert srgb_to_linear(1.0) == pytest.approx(1.0, abs=1e-7)
    assert srgb_to_linear(0.5) == pytest.approx(0.2140411, abs=1e-6)
    assert srgb_to_linear(128 / 255) == pytest.approx(0.2158605, abs=1e-6)
    assert srgb_to_linear(0.04045) == pytest.approx(0.04045 / 12.92, rel=1e-6)  # knee
    assert linear_to_srgb(0.18) == pytest.approx(0.4613561, abs=1e-6)
    assert linear_to_srgb(0.0031308) == pytest.approx(0.04045, abs=1e-6)
    assert linear_to_srgb(0.001) == pytest.approx(0.01292, rel=1e-6)  # linear segment


def test_srgb_round_trip_and_monotone() -> None:
    x = np.linspace(-0.1, 1.5, 10001)
    y = srgb_to_linear(x)
    assert y.dtype == np.float32
    assert np.all(np.diff(y) > 0)
    np.testing.assert_allclose(linear_to_srgb(y), x, atol=2e-6)
    codes = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(decode_srgb_integers(codes), srgb_to_linear(codes / 255))


# --- colour formats ----------------------------------------------------------------------


def test_png8_round_trip_through_writer(tmp_path: Path) -> None:
    codes = np.random.default_rng(RNG_SEED).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    linear = decode_srgb_integers(codes)
    write_image(tmp_path / "a.png", linear)
    np.testing.assert_array_equal(iio.imread(tmp_path / "a.png"), codes)
    np.testing.assert_array_equal(load_color(tmp_path / "a.png"), linear)


def test_png8_grey_alpha_and_palette(tmp_path: Path) -> None:
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5) * 12
    iio.imwrite(tmp_path / "g.png", grey)
    c = load_color(tmp_path / "g.png")
    assert c.shape == (4, 5, 3)
    np.testing.assert_array_equal(c[..., 1], decode_srgb_integers(grey))
    rgba = np.random.default_rng(RNG_SEED).integers(0, 256, (4, 5, 4), dtype=np.uint8)
    iio.imwrite(tmp_path / "rgba.png", rgba)
    np.testing.assert_array_equal(
        load_color(tmp_path / "rgba.png"), decode_srgb_integers(rgba[..., :3])
    )


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png16_exact(tmp_path: Path, channels: int) -> None:
    codes = np.random.default_rng(RNG_SEED).integers(0, 65536, (5, 6, channels), dtype=np.uint16)
    write_png16(tmp_path / "a.png", codes)
    expected = decode_srgb_integers(codes[..., :3] if channels >= 3 else codes[..., :1])
    np.testing.assert_array_equal(
        load_color(tmp_path / "a.png"), np.broadcast_to(expected, (5, 6, 3))
    )


def test_jpeg_close(tmp_path: Path) -> None:
    codes = np.full((16, 16, 3), (200, 100, 50), dtype=np.uint8)
    iio.imwrite(tmp_path / "a.jpg", codes, quality=100)
    np.testing.assert_allclose(
        load_color(tmp_path / "a.jpg"), decode_srgb_integers(codes), atol=0.01
    )


def test_tum_color_is_decoded_srgb() -> None:
    c = load_color(TUM_COLOR)
    assert c.shape == (480, 640, 3) and c.dtype == np.float32
    np.testing.assert_array_equal(c, decode_srgb_integers(iio.imread(TUM_COLOR)))


@pytest.mark.parametrize("ext", [".tif", ".tiff", ".exr", ".npy"])
def test_float_formats_round_trip_exactly(tmp_path: Path, ext: str) -> None:
    linear = random_linear((6, 7, 3), high=40.0)  # HDR: above 1.0 is kept
    write_image(tmp_path / f"a{ext}", linear)
    np.testing.assert_array_equal(load_color(tmp_path / f"a{ext}"), linear)


@pytest.mark.parametrize("little_endian", [True, False])
def test_pfm_color_and_orientation(tmp_path: Path, little_endian: bool) -> None:
    linear = random_linear((5, 4, 3), high=3.0)
    linear[0, 0] = (7.0, 8.0, 9.0)  # the top-left pixel stays top-left
    write_pfm(tmp_path / "a.pfm", linear, little_endian)
    np.testing.assert_array_equal(load_color(tmp_path / "a.pfm"), linear)


def test_exr_half_and_grey(tmp_path: Path) -> None:
    half = random_linear((4, 5, 3), high=2.0).astype(np.float16)
    write_exr(tmp_path / "h.exr", {c: half[..., i] for i, c in enumerate("RGB")})
    np.testing.assert_array_equal(load_color(tmp_path / "h.exr"), half.astype(np.float32))
    grey = random_linear((4, 5))
    write_exr(tmp_path / "y.exr", {"Y": grey})
    np.testing.assert_array_equal(load_color(tmp_path / "y.exr"), np.repeat(grey[..., None], 3, 2))
    write_exr(tmp_path / "z.exr", {"Z": grey})
    with pytest.raises(InputError, match="no R, G, B"):
        load_color(tmp_path / "z.exr")


def test_integer_and_planar_tiff(tmp_path: Path) -> None:
    codes = np.random.default_rng(RNG_SEED).integers(0, 65536, (5, 6, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "i.tif", codes, photometric="rgb")
    np.testing.assert_array_equal(load_color(tmp_path / "i.tif"), decode_srgb_integers(codes))
    linear = random_linear((5, 6, 3))
    tifffile.imwrite(
        tmp_path / "p.tif", np.moveaxis(linear, -1, 0), photometric="rgb", planarconfig="separate"
    )
    np.testing.assert_array_equal(load_color(tmp_path / "p.tif"), linear)


def test_middlebury_float_tiff_is_linear_as_stored() -> None:
    c = load_color(CONES_RGB)
    assert c.shape == (375, 450, 3)
    np.testing.assert_array_equal(c, tifffile.imread(CONES_RGB))
    assert c.max() == 255.0  # float TIFF is not rescaled


def test_color_errors_name_the_file(tmp_path: Path) -> None:
    cases = {}
    cases["missing"] = tmp_path / "missing.png"
    for ext in (".png", ".jpg", ".tif", ".exr", ".npy", ".pfm"):
        p = tmp_path / f"text{ext}"
        p.write_text("not an image\n")
        cases[f"text{ext}"] = p
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(TUM_COLOR.read_bytes()[:4000])
    cases["truncated"] = truncated
    png16 = tmp_path / "truncated16.png"
    write_png16(png16, np.zeros((40, 50, 3), np.uint16))
    png16.write_bytes(png16.read_bytes()[:60])
    cases["truncated 16-bit"] = png16
    grey_npy = tmp_path / "grey.npy"
    np.save(grey_npy, random_linear((4, 5)))
    cases["HxW npy"] = grey_npy
    nan_npy = tmp_path / "nan.npy"
    bad = random_linear((4, 5, 3))
    bad[1, 2, 0] = np.nan
    np.save(nan_npy, bad)
    cases["NaN"] = nan_npy
    inf_tif = tmp_path / "inf.tif"
    tifffile.imwrite(inf_tif, np.full((4, 5, 3), np.inf, np.float32), photometric="rgb")
    cases["inf"] = inf_tif
    unknown = tmp_path / "a.gif"
    unknown.write_bytes(b"GIF89a")
    cases["unknown ext"] = unknown
    cases["folder"] = tmp_path
    for name, path in cases.items():
        with pytest.raises(InputError) as excinfo:
            load_color(path)
        assert_one_line_naming(excinfo, path), name


# --- depth conventions -------------------------------------------------------------------


def test_tum_scaled_depth() -> None:
    raw = iio.imread(TUM_DEPTH)
    z = load_depth(TUM_DEPTH, DepthConvention.scaled(TUM_SCALE))
    assert z.shape == (480, 640) and z.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(z), raw == 0)
    assert np.nanmedian(z) == pytest.approx(2.4, abs=0.05)
    np.testing.assert_allclose(z[raw > 0], raw[raw > 0] * TUM_SCALE, rtol=1e-6)


def test_integer_depth_without_scale_is_refused() -> None:
    with pytest.raises(InputError, match="--depth-scale") as excinfo:
        load_depth(TUM_DEPTH, DepthConvention.metric())
    assert_one_line_naming(excinfo, TUM_DEPTH)


def test_middlebury_disparity_to_depth() -> None:
    disp = tifffile.imread(CONES_DISP)
    fb = 55.0  # the largest disparity (55 px) lands at 1 m
    z = load_depth(CONES_DISP, DepthConvention.disparity(fb))
    assert z.shape == (375, 450)
    np.testing.assert_array_equal(np.isnan(z), disp <= 0)
    np.testing.assert_allclose(z[disp > 0], fb / disp[disp > 0], rtol=1e-6)
    assert np.nanmin(z) == pytest.approx(1.0)


def test_inverse_depth_hits_near_and_far(tmp_path: Path) -> None:
    near, far = 0.5, 20.0
    conv = DepthConvention.inverse(near, far)
    v = np.array([[0, 255], [128, 51]], dtype=np.uint8)
    iio.imwrite(tmp_path / "v.png", v)
    z = load_depth(tmp_path / "v.png", conv)
    assert z[0, 0] == pytest.approx(far, rel=1e-6)  # 0 = far, and valid
    assert z[0, 1] == pytest.approx(near, rel=1e-6)  # 255 = near
    expected = 1 / (1 / far + (128 / 255) * (1 / near - 1 / far))
    assert z[1, 0] == pytest.approx(expected, rel=1e-6)  # linear in inverse depth


def test_mpib_inverse_depth() -> None:
    near, far = 1.0, 10.0
    raw = iio.imread(MPIB_DISP)[..., 0]
    z = load_depth(MPIB_DISP, DepthConvention.inverse(near, far))
    assert z.shape == (1333, 2000)
    assert np.isfinite(z).all()
    v = raw / 255.0
    np.testing.assert_allclose(z, 1 / (1 / far + v * (1 / near - 1 / far)), rtol=1e-6)
    assert near <= z.min() and z.max() <= far
    assert z[raw == raw.max()].max() < z[raw == raw.min()].min()  # larger = nearer


def test_float_inverse_depth_out_of_range_is_stretched(tmp_path: Path) -> None:
    raw = np.array([[10.0, 30.0], [20.0, np.nan]], dtype=np.float32)  # e.g. MiDaS output
    np.save(tmp_path / "midas.npy", raw)
    z = load_depth(tmp_path / "midas.npy", DepthConvention.inverse(1.0, 4.0))
    assert z[0, 0] == pytest.approx(4.0) and z[0, 1] == pytest.approx(1.0)
    assert z[1, 0] == pytest.approx(1 / (0.25 + 0.5 * 0.75))
    assert np.isnan(z[1, 1])


def test_depth_formats(tmp_path: Path) -> None:
    z = random_linear((5, 6), high=5.0) + 0.5
    z[0, 0] = 0.0
    z[1, 1] = -1.0
    z[2, 2] = np.inf
    expected = z.copy()
    expected[0, 0] = expected[1, 1] = expected[2, 2] = np.nan
    np.save(tmp_path / "d.npy", z)
    tifffile.imwrite(tmp_path / "d.tif", z)
    write_pfm(tmp_path / "d.pfm", z)
    write_exr(tmp_path / "z.exr", {"Z": z, "R": z * 2})
    write_exr(tmp_path / "r.exr", {"R": z, "G": z * 2})
    write_exr(tmp_path / "only.exr", {"depth.V": z})
    for name in ("d.npy", "d.tif", "d.pfm", "z.exr", "r.exr", "only.exr"):
        got = load_depth(tmp_path / name, DepthConvention.metric())
        np.testing.assert_array_equal(got, expected, err_msg=name)
    mm = np.array([[0, 1000], [2500, 65535]], dtype=np.uint16)
    iio.imwrite(tmp_path / "mm.png", mm)
    got = load_depth(tmp_path / "mm.png", DepthConvention.scaled(0.001))
    np.testing.assert_allclose(got, [[np.nan, 1.0], [2.5, 65.535]], rtol=1e-6)


def test_depth_errors(tmp_path: Path) -> None:
    rgb_npy = tmp_path / "rgb.npy"
    np.save(rgb_npy, random_linear((4, 5, 3)))
    with pytest.raises(InputError, match="HxW") as excinfo:
        load_depth(rgb_npy, DepthConvention.metric())
    assert_one_line_naming(excinfo, rgb_npy)
    empty = tmp_path / "zeros.npy"
    np.save(empty, np.zeros((4, 5), np.float32))
    with pytest.raises(InputError, match="no valid depth") as excinfo:
        load_depth(empty, DepthConvention.metric())
    assert_one_line_naming(excinfo, empty)
    multi = tmp_path / "multi.exr"
    write_exr(multi, {"A": np.ones((2, 2), np.float32), "B": np.ones((2, 2), np.float32)})
    with pytest.raises(InputError, match="cannot tell") as excinfo:
        load_depth(multi, DepthConvention.metric())
    text = tmp_path / "d.png"
    text.write_text("nope")
    with pytest.raises(InputError) as excinfo:
        load_depth(text, DepthConvention.scaled(0.001))
    assert_one_line_naming(excinfo, text)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "feet"},
        {"kind": "scaled"},
        {"kind": "scaled", "scale": 0.0},
        {"kind": "disparity", "focal_baseline": -1.0},
        {"kind": "inverse", "near_m": 5.0, "far_m": 1.0},
        {"kind": "inverse", "near_m": 1.0, "far_m": float("inf")},
        {"kind": "metric", "scale": 0.001},
    ],
)
def test_convention_validation(kwargs: dict) -> None:
    with pytest.raises(InputError):
        DepthConvention(**kwargs)


# --- resampling and hole filling ---------------------------------------------------------


def test_resample_depth_is_nearest() -> None:
    z = np.array([[1.0, 2.0], [np.nan, 4.0]], dtype=np.float32)
    up = resample_depth(z, 4, 6)
    np.testing.assert_array_equal(up[:2, :3], 1.0)
    np.testing.assert_array_equal(up[2:, 3:], 4.0)
    assert np.isnan(up[2:, :3]).all()
    big = random_linear((37, 53)) + 1
    down = resample_depth(big, 10, 20)
    assert down.shape == (10, 20)
    assert np.isin(down, big).all()  # no blended values
    np.testing.assert_array_equal(resample_depth(big, 37, 53), big)


def test_fill_tum_keeps_valid_and_leaves_no_hole() -> None:
    z = load_depth(TUM_DEPTH, DepthConvention.scaled(TUM_SCALE))
    color = load_color(TUM_COLOR)
    valid = np.isfinite(z)
    for guide in (None, color):
        filled = fill_invalid_depth(z, guide)
        assert filled.dtype == np.float32 and filled.shape == z.shape
        assert np.isfinite(filled).all() and (filled > 0).all()
        np.testing.assert_array_equal(filled[valid], z[valid])
        assert filled.min() >= np.nanmin(z) and filled.max() <= np.nanmax(z)


def lines_run(fn: Callable[..., object], *args: object) -> int:
    """Python lines executed while `fn(*args)` runs, counted by a trace hook."""
    lines = 0

    def trace(frame: FrameType, event: str, arg: object) -> Callable[..., object]:
        nonlocal lines
        lines += event == "line"
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        fn(*args)
    finally:
        sys.settrace(previous)
    return lines


def test_fill_is_vectorised() -> None:
    """The fill works in whole-array numpy steps, a fixed few per pyramid level.

    That is what keeps it fast (about linear in the pixel count), checked by
    counting Python lines rather than by a wall clock: a Python loop over pixels
    or holes would run a line per hole at least, and more on a larger image.
    """
    z = load_depth(TUM_DEPTH, DepthConvention.scaled(TUM_SCALE))
    color = load_color(TUM_COLOR)
    holes = int(np.isnan(z).sum())
    lines = lines_run(fill_invalid_depth, z, color)
    assert lines < holes / 5  # about 5,800 lines for 59,000 holes
    big_z, big_color = np.tile(z, (2, 2)), np.tile(color, (2, 2, 1))
    assert lines_run(fill_invalid_depth, big_z, big_color) < 1.2 * lines  # 4x the holes
    filled = fill_invalid_depth(big_z, big_color)
    valid = ~np.isnan(big_z)
    assert np.isfinite(filled).all() and (filled > 0).all()
    np.testing.assert_array_equal(filled[valid], big_z[valid])


def _edge_scene(hole: slice) -> np.ndarray:
    """Near (1 m) on the left, far (4 m) on the right, edge at column 32, a strip of holes."""
    z = np.full((48, 64), 4.0, np.float32)
    z[:, :32] = 1.0
    z[:, hole] = np.nan
    return z


def test_fill_prefers_far_at_an_edge() -> None:
    z = _edge_scene(slice(32, 38))  # an occlusion shadow just right of the edge
    filled = fill_invalid_depth(z)
    np.testing.assert_allclose(filled[:, 32:38], 4.0, rtol=1e-3)
    straddling = fill_invalid_depth(_edge_scene(slice(29, 35)))
    np.testing.assert_allclose(straddling[:, 29:35], 4.0, rtol=1e-3)


def test_fill_uses_colour_to_pick_the_side() -> None:
    z = _edge_scene(slice(28, 38))
    color = np.zeros((48, 64, 3), np.float32)
    color[:, :32] = (0.8, 0.1, 0.1)  # near object red, background blue
    color[:, 32:] = (0.1, 0.1, 0.8)
    filled = fill_invalid_depth(z, color)
    np.testing.assert_allclose(filled[:, 28:32], 1.0, rtol=1e-3)  # red holes: near
    np.testing.assert_allclose(filled[:, 32:38], 4.0, rtol=1e-3)  # blue holes: far


def test_fill_hole_inside_a_surface_stays_on_it() -> None:
    z = np.full((64, 64), 5.0, np.float32)
    z[8:56, 8:56] = 1.0
    z[28:36, 28:36] = np.nan  # a hole well inside the near square
    filled = fill_invalid_depth(z)
    np.testing.assert_allclose(filled[28:36, 28:36], 1.0, rtol=1e-3)
    ramp = np.tile(np.linspace(1.0, 2.0, 64, dtype=np.float32), (32, 1))
    holed = ramp.copy()
    holed[10:20, 20:30] = 0.0
    np.testing.assert_allclose(fill_invalid_depth(holed), ramp, rtol=0.05)  # smooth surface


def test_fill_without_any_valid_pixel_raises() -> None:
    with pytest.raises(InputError, match="no valid"):
        fill_invalid_depth(np.zeros((4, 4), np.float32))
    one = np.full((5, 7), np.nan, np.float32)
    one[4, 6] = 3.0
    np.testing.assert_allclose(fill_invalid_depth(one), 3.0, rtol=1e-6)


# --- writer ------------------------------------------------------------------------------


def test_writer_leaves_only_the_file(tmp_path: Path) -> None:
    for ext in writers.WRITERS:
        write_image(tmp_path / f"out{ext}", random_linear((4, 5, 3)))
    assert sorted(os.listdir(tmp_path)) == sorted(f"out{ext}" for ext in writers.WRITERS)


def test_writer_png_clips_and_rounds(tmp_path: Path) -> None:
    rgb = np.array([[[-1.0, 0.5, 7.0]]], np.float32)
    write_image(tmp_path / "c.png", rgb)
    np.testing.assert_array_equal(iio.imread(tmp_path / "c.png"), [[[0, 188, 255]]])


def test_writer_failure_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "keep.png"
    target.write_bytes(b"old")

    def half_then_fail(path: str, rgb: np.ndarray) -> None:
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setitem(writers.WRITERS, ".png", half_then_fail)
    with pytest.raises(InputError, match="disk full") as excinfo:
        write_image(target, random_linear((4, 5, 3)))
    assert_one_line_naming(excinfo, target)
    monkeypatch.setitem(writers.WRITERS, ".npy", half_then_fail)
    with pytest.raises(InputError):
        write_image(tmp_path / "new.npy", random_linear((4, 5, 3)))
    assert os.listdir(tmp_path) == ["keep.png"]
    assert target.read_bytes() == b"old"


def test_writer_interrupted_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(path: str, rgb: np.ndarray) -> None:
        Path(path).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setitem(writers.WRITERS, ".exr", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(tmp_path / "a.exr", random_linear((4, 5, 3)))
    assert os.listdir(tmp_path) == []


def test_writer_errors(tmp_path: Path) -> None:
    rgb = random_linear((4, 5, 3))
    (tmp_path / "dir.png").mkdir()
    for path in (
        tmp_path / "a.gif",  # unknown extension
        tmp_path / "a",  # no extension
        tmp_path / "no" / "such" / "a.png",  # missing folder
        tmp_path / "dir.png",  # a folder is in the way
    ):
        with pytest.raises(InputError) as excinfo:
            write_image(path, rgb)
        assert_one_line_naming(excinfo, path)
    assert os.listdir(tmp_path) == ["dir.png"]


def test_writer_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writers.tempfile, "mkstemp", refuse)  # root ignores folder modes
    with pytest.raises(InputError, match="Permission denied") as excinfo:
        write_image(tmp_path / "a.png", random_linear((4, 5, 3)))
    assert_one_line_naming(excinfo, tmp_path / "a.png")
    assert os.listdir(tmp_path) == []


def test_writer_never_writes_nan(tmp_path: Path) -> None:
    rgb = random_linear((4, 5, 3))
    rgb[1, 1, 1] = np.nan
    rgb[2, 2, 2] = np.inf
    with pytest.warns(RuntimeWarning, match="2 pixels"):
        write_image(tmp_path / "a.npy", rgb)
    back = np.load(tmp_path / "a.npy")
    assert np.isfinite(back).all()
    assert back[1, 1, 1] == 0 and back[2, 2, 2] == 0


def test_writer_file_mode_is_not_private(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", random_linear((4, 5, 3)))
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == writers.NEW_FILE_MODE


# --- options -----------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_input_arguments(parser)
    return parser.parse_args(argv)


def test_options_parse_conventions() -> None:
    base = ["--rgb", "c.png", "--depth", "d.png"]
    assert convention_from_args(parse(base)) == DepthConvention.metric()
    assert convention_from_args(parse([*base, "--depth-scale", "0.001"])) == DepthConvention(
        "scaled", scale=0.001
    )
    assert convention_from_args(parse([*base, "--disparity", "2.5"])).focal_baseline == 2.5
    conv = convention_from_args(parse([*base, "--inverse-depth", "0.5:20"]))
    assert (conv.kind, conv.near_m, conv.far_m) == ("inverse", 0.5, 20.0)
    assert parse(base).resize_depth is False
    assert parse([*base, "--resize-depth"]).resize_depth is True


@pytest.mark.parametrize(
    "extra",
    [
        ["--inverse-depth", "5:1"],
        ["--inverse-depth", "abc"],
        ["--inverse-depth", "1:2:3"],
        ["--inverse-depth", "0:2"],
        ["--inverse-depth", "1:x"],
        ["--depth-scale", "0"],
        ["--depth-scale", "-1"],
        ["--depth-scale", "abc"],
        ["--depth-scale", "nan"],
        ["--disparity", "inf"],
        ["--disparity", "x"],
    ],
)
def test_option_value_errors(extra: list[str]) -> None:
    args = parse(["--rgb", "c.png", "--depth", "d.png", *extra])
    with pytest.raises(InputError) as excinfo:
        convention_from_args(args)
    assert extra[0] in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_option_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from realtime.cli import main

    # --depth is required unless --source names the inputs: one line, exit 2
    assert main(["render", "--rgb", "c.png", "--focus", "1", "-o", "o.png"]) == 2
    assert "--depth PATH is required" in capsys.readouterr().err
    assert main(["preview", "--rgb", "c.png", "--focus", "1"]) == 2
    assert "--depth PATH are required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["--rgb", "c", "--depth", "d", "--depth-scale", "1", "--disparity", "2"])


def test_load_inputs_tum() -> None:
    args = parse(["--rgb", str(TUM_COLOR), "--depth", str(TUM_DEPTH), "--depth-scale", "0.0002"])
    color, depth = load_inputs(args)
    assert color.shape == (480, 640, 3) and depth.shape == (480, 640)
    assert np.isfinite(color).all() and np.isfinite(depth).all() and (depth > 0).all()


def test_load_inputs_middlebury_disparity() -> None:
    args = parse(["--rgb", str(CONES_RGB), "--depth", str(CONES_DISP), "--disparity", "110"])
    color, depth = load_inputs(args)
    assert color.shape == (375, 450, 3) and depth.shape == (375, 450)
    assert np.isfinite(depth).all() and depth.min() == pytest.approx(2.0)


def test_load_inputs_size_mismatch(tmp_path: Path) -> None:
    rgb, depth = tmp_path / "c.npy", tmp_path / "d.npy"
    np.save(rgb, random_linear((5, 8, 3)))  # not the depth's aspect ratio
    small = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, np.nan, 7.0, 8.0], [9, 10, 11, 12]], np.float32)
    np.save(depth, small)
    with pytest.raises(InputError) as excinfo:
        load_inputs(parse(["--rgb", str(rgb), "--depth", str(depth)]))
    message = str(excinfo.value)
    assert "4x3" in message and "8x5" in message and "--resize-depth" in message
    assert_one_line_naming(excinfo, depth)
    color, z = load_inputs(parse(["--rgb", str(rgb), "--depth", str(depth), "--resize-depth"]))
    assert z.shape == (5, 8) and np.isfinite(z).all()
    np.testing.assert_array_equal(z[[0, 0, 4], [0, 7, 7]], [1.0, 4.0, 12.0])


def test_smaller_depth_of_the_same_picture_is_upsampled_as_asked(tmp_path: Path) -> None:
    """Depth at half the colour's size (the same aspect ratio): kept small and filled for
    the GPU's guided upsampling by default; resampled here for nearest and bilinear."""
    rgb, depth = tmp_path / "c.npy", tmp_path / "d.npy"
    np.save(rgb, random_linear((6, 8, 3)))
    small = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, np.nan, 7.0, 8.0], [9, 10, 11, 12]], np.float32)
    np.save(depth, small)
    args = ["--rgb", str(rgb), "--depth", str(depth)]
    _, z = load_inputs(parse(args))
    assert z.shape == (3, 4) and np.isfinite(z).all() and z[0, 0] == 1.0
    _, z = load_inputs(parse([*args, "--depth-upsample", "nearest"]))
    assert z.shape == (6, 8) and np.isfinite(z).all()
    np.testing.assert_array_equal(z[::2, ::2][[0, 0, 2], [0, 3, 3]], [1.0, 4.0, 12.0])
    _, z = load_inputs(parse([*args, "--depth-upsample", "bilinear"]))
    assert z.shape == (6, 8) and z[0, 0] == pytest.approx(1.0)
    # between texels 1 m and 2 m, a quarter of the way: the blend is in inverse depth
    assert z[0, 1] == pytest.approx(1 / (0.75 / 1.0 + 0.25 / 2.0))
    with pytest.raises(InputError, match="--depth-upsample cubic: expected one of"):
        load_inputs(parse([*args, "--depth-upsample", "cubic"]))


def test_load_inputs_checks_options_before_files(tmp_path: Path) -> None:
    args = parse(["--rgb", "missing.png", "--depth", "missing.png", "--depth-scale", "abc"])
    with pytest.raises(InputError, match="--depth-scale"):
        load_inputs(args)
    args = parse(["--rgb", str(tmp_path / "missing.png"), "--depth", str(TUM_DEPTH)])
    with pytest.raises(InputError, match="no such file"):
        load_inputs(args)
