"""Tiled rendering (realtime.tiling): tiles equal the untiled render; any size renders or says why.

The seam test renders one frame whole and in 128 px tiles, with blurred
foreground edges and highlight sprites across the seams and at the windows'
edges, and bounds the difference: float rounding in float output, and in 8-bit
output a code that flips by one only where a value sits on a rounding boundary.
With a tile less of padding the same test sees the seams.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime.cli import main
from realtime.errors import InputError
from realtime.frameloop import FrameLoop, StillFrames
from realtime.lens import Lens
from realtime.passes.constants import TILE_SIZE, dilate_tiles
from realtime.passes.pyramid import levels_needed
from realtime.pipeline import Compositor
from realtime.sources.depth import DEPTH_ROWS, DepthConvention, _metres, depth_to_metres
from realtime.sources.images import decode_srgb_integers, linear_to_srgb, load_color
from realtime.tiling import (
    BYTES_PER_WINDOW_PX,
    TiledComposite,
    TilePlan,
    Tiling,
    grid_px,
    padding_px,
)

DATA = Path(__file__).parent / "data"
TUM = ["--rgb", str(DATA / "tum/color.png"), "--depth", str(DATA / "tum/depth.png")]
TUM += ["--depth-scale", "0.0002", "--focal-length", "35", "--f-number", "1.4", "--focus", "2.2"]
SEAM_TILE = 128  # tile side of the seam test
FLOAT_TOLERANCE = 1e-4  # tiled vs untiled, |difference| / max(1, |value|) (measured 2.9e-5)
FLIPPED_CODES = 5e-4  # fraction of 8-bit pixels that may differ, by one code (measured 9e-5)
NO_LIMIT = 1 << 40  # a memory budget nothing reaches
LIGHTS = 0.01  # fraction of the seam scene's pixels that are lights
DEPTHS_M = (0.3, 0.5, 2.0, 3.0, 50.0)  # depths of the seam scene's blocks (focus at 2 m)


def seam_scene(
    width: int = 600, height: int = 400, depths: tuple[float, ...] = DEPTHS_M
) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of 8 px at random depths: in front of focus at the largest CoC, in focus,
    behind it; so blurred foreground edges cross every seam, and at every window's edge
    the chain's reach is used in full. Lights everywhere, on the seams and on windows'
    edges, become sprites."""
    rng = np.random.default_rng(7)
    blocks = rng.choice(depths, size=(height // 8 + 1, width // 8 + 1))
    depth = np.kron(blocks, np.ones((8, 8)))[:height, :width].astype(np.float32)
    color = rng.uniform(0.0, 0.5, (height, width, 3)).astype(np.float32)
    lights = rng.uniform(size=(height, width)) < LIGHTS
    color[lights] = rng.uniform(2.0, 40.0, (int(lights.sum()), 3))
    return color, depth


LENS = Lens(focal_length_mm=50, f_number=1.0, focus_m=2.0, max_coc_px=64.0)


def tiled(
    comp: Compositor, color: np.ndarray, depth: np.ndarray, tile: int, lens: Lens = LENS
) -> np.ndarray:
    h, w = depth.shape
    plan = Tiling(16384, NO_LIMIT, tile).plan(w, h, lens.clamp_px)
    assert plan.count > 1
    times = dict.fromkeys(("input", "gpu", "readback"), 0.0)
    return TiledComposite(comp, color, depth, lens, plan, times).assemble()


def codes(linear: np.ndarray) -> np.ndarray:
    return np.rint(linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255).astype(np.int32)


# --- the plan ---------------------------------------------------------------------------


def test_padding_is_the_dilate_reach_and_a_tile() -> None:
    for max_coc in (1.0, 8.0, 32.0, 33.0, 64.0, 100.0):
        pad = padding_px(max_coc)
        assert grid_px(max_coc) == TILE_SIZE
        assert pad == TILE_SIZE * (dilate_tiles(max_coc) + 1) and pad % TILE_SIZE == 0
        assert pad >= max_coc / 2 + TILE_SIZE  # the largest radius, and then a tile
    # Past 112 px the gather reads pyramid boxes wider than a tile: the padding
    # is a multiple of them and holds one more.
    for max_coc, grid in ((128.0, 2 * TILE_SIZE), (250.0, 4 * TILE_SIZE), (448.0, 4 * TILE_SIZE)):
        pad = padding_px(max_coc)
        assert grid_px(max_coc) == grid and pad % grid == 0
        assert pad >= TILE_SIZE * (dilate_tiles(max_coc) + 1) + grid


def test_tiles_cover_the_frame_once_on_the_chains_grid() -> None:
    plan = TilePlan((600, 400), (128, 128), padding_px(64))
    hits = np.zeros((400, 600), np.int32)
    for band in plan.bands():
        for tile in band:
            x0, y0, x1, y1 = tile.keep
            wx0, wy0, wx1, wy1 = tile.window
            hits[y0:y1, x0:x1] += 1
            assert x0 % TILE_SIZE == 0 and y0 % TILE_SIZE == 0
            assert wx0 % TILE_SIZE == 0 and wy0 % TILE_SIZE == 0
            assert (wx0, wy0) == (max(0, x0 - plan.pad), max(0, y0 - plan.pad))
            assert (wx1, wy1) == (min(600, x1 + plan.pad), min(400, y1 + plan.pad))
    assert (hits == 1).all() and plan.count == 5 * 4 and plan.pad == 64


def test_automatic_tiles_fit_the_gpu_limit_and_the_budget() -> None:
    assert Tiling(16384, NO_LIMIT).fits(16384, 100)
    strip = Tiling(16384, NO_LIMIT).plan(20000, 8, 64.0)
    assert len(strip.bands()) == 1 and max(strip.window_size) <= 16384
    budget = 400 * 2**20
    plan = Tiling(16384, budget).plan(8000, 6000, 64.0)
    w, h = plan.window_size
    assert w * h * BYTES_PER_WINDOW_PX <= budget and plan.count > 1
    assert not Tiling(16384, budget).fits(8000, 6000)
    with pytest.raises(InputError, match="max-memory"):
        Tiling(16384, 2**20).plan(8000, 6000, 64.0)
    with pytest.raises(InputError, match="limit of 1024 px"):
        Tiling(1024, NO_LIMIT, 1024).plan(4000, 3000, 64.0)  # 1024 + padding > 1024


# --- the seams -------------------------------------------------------------------------


def float_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a - b| / max(1, |b|): float rounding is relative above 1 (HDR lights)."""
    return float((np.abs(a - b) / np.maximum(1.0, np.abs(b))).max())


def test_tiled_render_equals_the_untiled_render(compositor: Compositor) -> None:
    color, depth = seam_scene()
    whole = compositor.render(color, depth, LENS)
    # Highlights split off as sprites, next to the seams at x = 128, 256, ... (texel 64, ...).
    highlights = np.frombuffer(compositor.setup.textures[1].read(), np.float32)
    seams = highlights.reshape(200, 300, 4)[:, 63:300:64, :3].sum(axis=2)
    assert (seams > 0).sum() >= 10
    assert LENS.coc_px(DEPTHS_M[0], 600) == -LENS.max_coc_px  # the largest blur, in front
    parts = tiled(compositor, color, depth, SEAM_TILE)
    assert np.isfinite(parts).all()
    assert float_difference(parts, whole) <= FLOAT_TOLERANCE
    flipped = np.abs(codes(parts) - codes(whole))
    assert flipped.max() <= 1 and (flipped.max(axis=2) > 0).mean() <= FLIPPED_CODES


def test_a_tile_less_padding_shows_seams(
    compositor: Compositor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With D - 1 tiles of padding (a tile less than the dilate reach), blur and lights
    at a window's edge reach the kept pixels differently: the padding is needed."""
    import realtime.tiling

    color, depth = seam_scene()
    whole = compositor.render(color, depth, LENS)
    monkeypatch.setattr(realtime.tiling, "PAD_EXTRA_TILES", -1)
    assert float_difference(tiled(compositor, color, depth, SEAM_TILE), whole) > 0.01


LARGE_BLUR = replace(LENS, max_coc_px=250.0)  # 0.2 m at 1024 px: 328 px of blur, clamped
LARGE_DEPTHS_M = (0.2, 0.5, 2.0, 3.0, 50.0)


def test_large_blur_tiles_equal_the_untiled_render(compositor: Compositor) -> None:
    """At 250 px the gather reads pyramid level 5, boxes of 64 px: padding that holds
    them renders the frame's pixels, whether windows align to the boxes or only to
    tiles (every level keeps every half-res texel, so no level has a grid of its own)."""
    color, depth = seam_scene(1024, 512, LARGE_DEPTHS_M)
    whole = compositor.render(color, depth, LARGE_BLUR)
    assert levels_needed(LARGE_BLUR.clamp_px) == 5 and grid_px(LARGE_BLUR.clamp_px) == 64
    assert float_difference(tiled(compositor, color, depth, 256, LARGE_BLUR), whole) <= (
        FLOAT_TOLERANCE
    )
    # windows on the tile grid only (240 px = 15 tiles): 2.9e-5 measured (a pyramid of
    # decimated levels, whose texels lie on a grid, differed by 0.075 here)
    plan = TilePlan((1024, 512), (240, 240), padding_px(LARGE_BLUR.clamp_px))
    times = dict.fromkeys(("input", "gpu", "readback"), 0.0)
    parts = TiledComposite(compositor, color, depth, LARGE_BLUR, plan, times).assemble()
    assert float_difference(parts, whole) <= FLOAT_TOLERANCE


def test_cli_tiles_match_the_untiled_render(tmp_path: Path) -> None:
    for name, extra in (("whole", []), ("tiled", ["--tile-size", "128"])):
        for ext in ("png", "npy"):
            assert main(["render", *TUM, *extra, "-o", str(tmp_path / f"{name}.{ext}")]) == 0
    png = [iio.imread(tmp_path / f"{n}.png").astype(np.int32) for n in ("whole", "tiled")]
    assert np.abs(png[0] - png[1]).max() <= 1
    assert (np.abs(png[0] - png[1]).max(axis=2) > 0).mean() <= FLIPPED_CODES
    npy = [np.load(tmp_path / f"{n}.npy") for n in ("whole", "tiled")]
    assert float_difference(npy[1], npy[0]) <= FLOAT_TOLERANCE


def test_rack_in_tiles_with_breathing_matches_the_untiled_rack(tmp_path: Path) -> None:
    rack = [*TUM[:6], "--rack", "1.2:3.5", "--duration", "0.25", "--fps", "12", "--breathing", "1"]
    for name, extra in (("whole", []), ("tiled", ["--tile-size", "256"])):
        out = tmp_path / name / "f_%02d.npy"
        assert main(["render", *rack, *extra, "-o", str(out)]) == 0
    for k in range(3):
        a, b = (np.load(tmp_path / n / f"f_{k:02d}.npy") for n in ("whole", "tiled"))
        assert float_difference(b, a) <= FLOAT_TOLERANCE


# --- any size ----------------------------------------------------------------------------


def test_a_frame_wider_than_the_gpu_limit_renders(tmp_path: Path) -> None:
    color = np.tile(np.linspace(0, 1, 20000, dtype=np.float32)[None, :, None], (8, 1, 3))
    depth = np.full((8, 20000), 4.0, np.float32)
    depth[:, ::100] = 1.0
    np.save(tmp_path / "c.npy", color)
    np.save(tmp_path / "d.npy", depth)
    out = tmp_path / "o.png"
    args = ["render", "--rgb", str(tmp_path / "c.npy"), "--depth", str(tmp_path / "d.npy")]
    assert main([*args, "--focus", "2", "--f-number", "1.4", "-o", str(out)]) == 0
    assert iio.imread(out).shape == (8, 20000, 3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--tile-size", "100"], "--tile-size 100: expected a positive multiple of 16"),
        (["--max-memory", "lots"], "--max-memory lots: expected a size"),
        (["--tile-size", "16384"], "over the GPU's limit of"),
    ],
)
def test_frames_that_cannot_render_say_so_in_one_line(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    color = np.zeros((20, 17000, 3), np.float32)
    np.save(tmp_path / "c.npy", color)
    np.save(tmp_path / "d.npy", np.full((20, 17000), 4.0, np.float32))
    args = ["render", "--rgb", str(tmp_path / "c.npy"), "--depth", str(tmp_path / "d.npy")]
    assert main([*args, "--focus", "2", *options, "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not list(tmp_path.glob("o*")) and not list(tmp_path.glob(".o*"))


def test_a_frame_loop_without_tiles_refuses_frames_past_the_gpu_limit(
    compositor: Compositor,
) -> None:
    frames = StillFrames(np.zeros((1, 16400, 3), np.float32), np.ones((1, 16400), np.float32))
    with pytest.raises(InputError, match="larger than the GPU.s limit of 10922 px"):
        FrameLoop(compositor, frames).compose(0, LENS)


# --- host memory -------------------------------------------------------------------------


def test_integer_colour_is_kept_as_its_samples_and_decodes_alike() -> None:
    samples = load_color(DATA / "tum/color.png", keep_integers=True)
    assert samples.dtype == np.uint8 and samples.shape == (480, 640, 3)
    np.testing.assert_array_equal(decode_srgb_integers(samples), load_color(DATA / "tum/color.png"))


def test_depth_converted_in_strips_equals_the_whole_conversion() -> None:
    raw = np.random.default_rng(2).integers(0, 5000, (DEPTH_ROWS * 2 + 5, 7), dtype=np.uint16)
    for convention in (DepthConvention.scaled(0.001), DepthConvention.disparity(50.0)):
        np.testing.assert_array_equal(depth_to_metres(raw, convention), _metres(raw, convention))
