"""The setup, tiles and dilate passes against the same reductions in numpy.

Each pass runs alone on a tiny hand-made input texture and is read back as
float32 (`fbo.read(dtype="f4")`); the numpy references below restate the rules
of shaders/setup.frag, tiles.frag and dilate.frag in array form, and a few
hand-derived values pin the references themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import moderngl
import numpy as np
import pytest

from realtime.passes.base import FullscreenPass
from realtime.passes.constants import (
    FG_MIN,
    FLAG_NARROW,
    FLAG_SLIGHT,
    FLAG_SPRITES,
    HDR_MIN,
    HIGHLIGHT_MIN,
    NARROW_COC,
    PYRAMID_LEVELS,
    REACH_RAMP,
    SCATTER_BEHIND_FULL_COC,
    SCATTER_BEHIND_MIN_COC,
    SCATTER_FULL_COC,
    SCATTER_MIN_COC,
    SLIGHT_COC,
    TILE_SIZE,
    dilate_tiles,
    shader_defines,
    slight_offsets,
)
from realtime.passes.dilate import Dilate
from realtime.passes.kernel import slight_orbits
from realtime.passes.pyramid import Pyramid, level_origin
from realtime.passes.setup import Setup
from realtime.passes.tiles import Tiles, tile_grid

MAX_COC = 64.0  # a 64 px blur reaches, with the phase-in ramp, dilate_tiles(64) = 3 tiles out
LUMA = np.array([0.2126, 0.7152, 0.0722])  # sums to 1: a grey's luma is its value
# (dx, dy) of the 12 border pixels of the 4x4 block around a 2x2 block, as setup.frag lists them
RING = [(-1, -1), (0, -1), (1, -1), (2, -1), (-1, 2), (0, 2), (1, 2), (2, 2)]
RING += [(-1, 0), (-1, 1), (2, 0), (2, 1)]

MakeTexture = Callable[[np.ndarray], moderngl.Texture]
Passes = tuple[Setup, Tiles, Dilate]


@pytest.fixture
def texture(ctx: moderngl.Context) -> Iterator[MakeTexture]:
    """Upload an HxWx4 array as an RGBA32F texture (row 0 = texel row 0); released after."""
    made: list[moderngl.Texture] = []

    def make(rgba: np.ndarray) -> moderngl.Texture:
        h, w = rgba.shape[:2]
        data = np.ascontiguousarray(rgba, dtype=np.float32).tobytes()
        made.append(ctx.texture((w, h), 4, data, dtype="f4"))
        return made[-1]

    yield make
    for tex in made:
        tex.release()


@pytest.fixture
def passes(ctx: moderngl.Context) -> Iterator[Passes]:
    defines = shader_defines(MAX_COC)
    made = (Setup(ctx, defines), Tiles(ctx, defines), Dilate(ctx, defines))
    yield made
    for p in made:
        p.release()


def read(p: FullscreenPass, attachment: int = 0) -> np.ndarray:
    """A pass's output as HxWx4 float32, read through its framebuffer."""
    assert p.fbo is not None
    w, h = p.size
    data = p.fbo.read(components=4, attachment=attachment, dtype="f4")
    return np.frombuffer(data, dtype=np.float32).reshape(h, w, 4)


# --- setup ------------------------------------------------------------------------------


def setup_reference(prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """setup.frag in numpy: (half colour, highlight), each (H+1)//2 x (W+1)//2 x 4."""
    h, w = prepared.shape[:2]
    hh, hw = (h + 1) // 2, (w + 1) // 2

    def at(dx: int, dy: int) -> np.ndarray:
        """prepared at 2 * texel + (dx, dy) for every half-res texel, clamped to the image."""
        ys = np.clip(2 * np.arange(hh) + dy, 0, h - 1)
        xs = np.clip(2 * np.arange(hw) + dx, 0, w - 1)
        return prepared[ys[:, None], xs[None, :]].astype(np.float64)

    block = np.stack([at(dx, dy) for dy in (0, 1) for dx in (0, 1)])
    coc = block[..., 3]
    nearest = coc.min(axis=0)
    # weight 1 within the tolerance, fading to 0 at twice it
    keep = np.clip(2.0 - (coc - nearest) / (1.0 + 0.25 * np.abs(nearest)), 0.0, 1.0)
    mean = (block[..., :3] * keep[..., None]).sum(axis=0) / keep.sum(axis=0)[..., None]

    ring = np.stack([at(dx, dy)[..., :3] for dx, dy in RING])
    ring_mean, ring_min = ring.mean(axis=0), ring.min(axis=0)
    luma = mean @ LUMA
    peak = luma > 2.0 * (ring_mean @ LUMA) + HIGHLIGHT_MIN
    hot = (luma > HDR_MIN) & (2.0 * (ring_min @ LUMA) < luma)
    # the share of a highlight scattered: over its side's band (in front, behind)
    low = np.where(nearest < 0, SCATTER_MIN_COC, SCATTER_BEHIND_MIN_COC)
    high = np.where(nearest < 0, SCATTER_FULL_COC, SCATTER_BEHIND_FULL_COC)
    u = np.clip((np.abs(nearest) - low) / (high - low), 0, 1)
    scattered = u * u * (3.0 - 2.0 * u)  # smoothstep: the share of a highlight scattered
    split = (scattered > 0.0) & (peak | hot)
    floor = np.where(hot[..., None], np.minimum(mean, ring_min), ring_mean)
    excess = np.where(split[..., None], scattered[..., None] * np.maximum(mean - floor, 0.0), 0.0)
    return np.dstack([mean - excess, nearest]), np.dstack([excess, keep.sum(axis=0) / 4])


# Colours go through at most 12 float32 additions and one division on the GPU (each
# rounding by 2^-24 relative); values stay below 8, so 1e-5 absolute covers it. The CoC
# channel is a min of the inputs, exact.
COLOR_TOL = {"rtol": 1e-6, "atol": 1e-5}


def test_setup_keeps_the_nearest_coc_and_averages_only_its_depth(
    passes: Passes, texture: MakeTexture
) -> None:
    """7x5 with a depth edge, |CoC| < SCATTER_MIN_COC: no highlight is split off."""
    coc = np.array(
        [
            [-3.0, -3.0, -3.0, 2.0, 2.0, 2.0, 2.0],
            [-3.0, -3.0, -1.25, 2.0, 2.0, 2.0, 2.0],
            [-3.0, -1.0, 2.0, 2.0, 0.5, 0.5, 0.5],
            [-2.5, -2.5, 2.0, 2.0, 0.5, 0.5, 0.5],
            [-2.5, -2.5, 0.0, 0.0, 0.5, 0.5, -0.5],
        ],
        np.float32,
    )
    rgb = np.random.default_rng(1).uniform(0.0, 1.0, (5, 7, 3)).astype(np.float32)
    prepared = np.dstack([rgb, coc])
    setup = passes[0]
    setup.run(texture(prepared))
    half, highlight = read(setup, 0), read(setup, 1)
    want_half, want_highlight = setup_reference(prepared)

    assert half.shape == (3, 4, 4)  # odd sizes round up
    np.testing.assert_array_equal(half[..., 3], want_half[..., 3])
    np.testing.assert_allclose(half[..., :3], want_half[..., :3], **COLOR_TOL)
    np.testing.assert_allclose(highlight, want_highlight, **COLOR_TOL)
    assert not highlight[..., :3].any()
    # By hand: texel (1, 0) covers CoCs -3, 2 / -1.25, 2: the nearest is -3, the tolerance
    # 1 + 0.25 * 3 = 1.75 keeps -1.25 (exactly at the limit) and drops both 2s.
    assert half[0, 1, 3] == -3.0
    np.testing.assert_allclose(half[0, 1, :3], (rgb[0, 2] + rgb[1, 2]) / 2, **COLOR_TOL)
    # Texel (0, 1): -3, -1 / -2.5, -2.5; -1 lies 2 from the nearest, past the tolerance 1.75:
    # its weight has faded to 2 - 2 / 1.75 (0 at twice the tolerance).
    w = 2.0 - 2.0 / 1.75
    want = (rgb[2, 0] + rgb[3, 0] + rgb[3, 1] + w * rgb[2, 1]) / (3.0 + w)
    np.testing.assert_allclose(half[1, 0, :3], want, **COLOR_TOL)
    # Texel (3, 2) lies past both edges: its four taps clamp to pixel (6, 4).
    assert half[2, 3, 3] == coc[4, 6]
    np.testing.assert_allclose(half[2, 3, :3], rgb[4, 6], **COLOR_TOL)


def test_setup_splits_off_isolated_highlights_of_blurred_pixels(
    passes: Passes, texture: MakeTexture
) -> None:
    """Grey dots on a dark ground: split off where the CoC reaches SCATTER_MIN_COC only."""
    dark, peak, hot = 0.05, 0.8, 5.0
    grey = np.full((8, 16), dark, np.float32)
    coc = np.full((8, 16), SCATTER_FULL_COC + 2.0, np.float32)  # scattered whole
    coc[:, 12:] = 2.0  # below both sides' bands: dots stay in the gathered colour
    grey[2:4, 2:4] = peak  # texel (1, 1): brighter than twice its ring, below HDR_MIN
    grey[2:4, 6:8] = hot  # texel (3, 1): above HDR_MIN and twice the darkest ring pixel too
    grey[1, 5] = 0.5  # in that texel's ring: its mean is no longer its darkest pixel
    grey[2:4, 12:14] = hot  # texel (6, 1): as bright, but nearly in focus
    prepared = np.dstack([grey, grey, grey, coc])
    setup = passes[0]
    setup.run(texture(prepared))
    half, highlight = read(setup, 0), read(setup, 1)
    want_half, want_highlight = setup_reference(prepared)

    np.testing.assert_allclose(half, want_half, **COLOR_TOL)
    np.testing.assert_allclose(highlight, want_highlight, **COLOR_TOL)
    np.testing.assert_array_equal(highlight[..., 3], 1.0)  # one depth: whole blocks kept
    assert np.argwhere(highlight[..., :3].any(axis=2)).tolist() == [[1, 1], [1, 3]]
    # By hand: the peak keeps its ring's mean (dark); the hot dot keeps its darkest ring pixel.
    np.testing.assert_allclose(highlight[1, 1, :3], peak - dark, **COLOR_TOL)
    np.testing.assert_allclose(highlight[1, 3, :3], hot - dark, **COLOR_TOL)
    np.testing.assert_allclose(half[1, 1, :3], dark, **COLOR_TOL)
    np.testing.assert_allclose(half[1, 6, :3], hot, **COLOR_TOL)  # not split


# --- tiles ------------------------------------------------------------------------------


def test_lights_behind_focus_are_sprites_before_the_layers_take_them(
    passes: Passes, texture: MakeTexture
) -> None:
    """A light behind the focal plane at CoC LAYER_MIN_COC (where the layers start to
    draw a pixel) is scattered whole; one as far in front is not scattered at all (the
    slight-focus resolve draws it whole there). A gathered light spreads by a texel or
    two, which an HDR light shows as a bright ring: at max CoC 8 the demo scene's lights
    ringed that way (35.0 dB) until lights behind were scattered from 4 px (44.4 dB)."""
    from realtime.passes.constants import LAYER_MIN_COC

    dark, hot = 0.05, 50.0
    grey = np.full((8, 16), dark, np.float32)
    coc = np.full((8, 16), LAYER_MIN_COC, np.float32)
    coc[:, 8:] = -LAYER_MIN_COC
    grey[2:4, 2:4] = hot  # texel (1, 1): behind
    grey[2:4, 10:12] = hot  # texel (5, 1): in front
    setup = passes[0]
    setup.run(texture(np.dstack([grey, grey, grey, coc])))
    half, highlight = read(setup, 0), read(setup, 1)
    np.testing.assert_allclose(highlight[1, 1, :3], hot - dark, **COLOR_TOL)
    np.testing.assert_allclose(half[1, 1, :3], dark, **COLOR_TOL)
    assert not highlight[1, 5, :3].any() and half[1, 5, 0] == pytest.approx(hot)


def tiles_reference(half: np.ndarray, highlight: np.ndarray, full: tuple[int, int]) -> np.ndarray:
    """tiles.frag in numpy: per tile (min CoC, max CoC, largest sprite |CoC|, 0)."""
    gw, gh = tile_grid(*full)
    step = TILE_SIZE // 2  # half-res texels per tile side
    out = np.zeros((gh, gw, 4), np.float32)
    for ty in range(gh):
        for tx in range(gw):
            block = np.s_[ty * step : (ty + 1) * step, tx * step : (tx + 1) * step]
            coc = half[block][..., 3]
            lit = highlight[block][..., :3].sum(axis=-1) > 0
            sprite = np.abs(coc[lit]).max(initial=0.0)
            out[ty, tx] = (min(coc.min(), MAX_COC), max(coc.max(), -MAX_COC), sprite, 0.0)
    return out


@pytest.mark.parametrize("full", [(40, 24), (33, 17)])
def test_tiles_hold_the_coc_range_and_largest_sprite(
    passes: Passes, texture: MakeTexture, full: tuple[int, int]
) -> None:
    """A full-res size that is not a multiple of TILE_SIZE: the last tiles are partial."""
    w, h = (full[0] + 1) // 2, (full[1] + 1) // 2
    rng = np.random.default_rng(2)
    # Quarter-pixel CoCs: exact in float32, so min and max compare exactly.
    coc = np.round(rng.uniform(-MAX_COC, MAX_COC, (h, w)) * 4) / 4
    half = np.dstack([rng.uniform(0, 1, (h, w, 3)), coc])
    highlight = np.zeros((h, w, 4))
    highlight[..., 3] = 1.0  # the share of each block kept (not read here)
    lit = rng.uniform(size=(h, w)) < 0.1
    highlight[lit, :3] = rng.uniform(0.1, 2.0, (int(lit.sum()), 3))
    # Tile (0, 0): one lit texel (CoC -40) beside an unlit one whose larger CoC must not count.
    highlight[:8, :8, :3] = 0.0
    half[0, 0, 3] = -MAX_COC
    half[0, 1, 3] = -40.0
    highlight[0, 1, :3] = (0.5, 0.0, 0.0)
    # The last texel lies in the last, partial tile (a single texel for 33x17).
    half[h - 1, w - 1, 3] = MAX_COC
    highlight[h - 1, w - 1, :3] = (0.0, 1.0, 0.0)
    tiles = passes[1]
    tiles.run(texture(half), texture(highlight), full)
    got = read(tiles)
    want = tiles_reference(half, highlight, full)

    assert got.shape == (*tile_grid(*full)[::-1], 4)
    np.testing.assert_array_equal(got, want)
    assert got[0, 0, 2] == 40.0
    assert got[-1, -1, 1] == got[-1, -1, 2] == MAX_COC


# --- pyramid ---------------------------------------------------------------------------


def pyramid_reference(finer: np.ndarray, level: int) -> np.ndarray:
    """pyramid.frag in numpy, one level from the one below, at the same size: texel i
    combines four texels of that level, i - 1 and i on each axis (level 1) or i -+ a
    half box, 2^(l-2) (above), clamped to its edges: the farthest CoC of the four and
    the mean colour of those at about that depth (weights fading 1 -> 0 between one and
    two tolerances)."""
    h, w = finer.shape[:2]
    offsets = (-1, 0) if level == 1 else (-(2 ** (level - 2)), 2 ** (level - 2))
    out = np.zeros((h, w, 4))
    for y in range(h):
        for x in range(w):
            four = np.array(
                [
                    finer[min(max(y + dy, 0), h - 1), min(max(x + dx, 0), w - 1)]
                    for dy in offsets
                    for dx in offsets
                ],
                np.float64,
            )
            kept = four[:, 3].max()
            weight = np.clip(2.0 - np.abs(four[:, 3] - kept) / (1.0 + 0.25 * abs(kept)), 0, 1)
            out[y, x] = (*(four[:, :3] * weight[:, None]).sum(0) / weight.sum(), kept)
    return out


def test_pyramid_levels_keep_the_farthest_depth_of_each_box(ctx: moderngl.Context) -> None:
    """Every level of a 19x13 texture with a depth edge, against the numpy reduction."""
    rng = np.random.default_rng(4)
    h, w = 13, 19
    coc = np.where(np.arange(w)[None, :] < 7, -12.0, 40.0) + rng.uniform(0, 3, (h, w))
    coc[5:8, 12:15] = 0.5  # a sharp patch inside the background
    level0 = np.dstack([rng.uniform(0, 1, (h, w, 3)), coc]).astype(np.float32)
    half_color = ctx.texture((w, h), 4, level0.tobytes(), dtype="f4")
    pyramid = Pyramid(ctx, shader_defines(MAX_COC))
    try:
        texture, levels = pyramid.run(half_color)
        rows = -(-(PYRAMID_LEVELS + 1) // 2)  # half-res texture and levels, two a row
        assert levels == PYRAMID_LEVELS and texture.size == (2 * w, rows * h)
        texels = np.frombuffer(texture.read(), np.float32).reshape(rows * h, 2 * w, 4)
        want = level0.astype(np.float64)
        for level in range(PYRAMID_LEVELS + 1):
            if level > 0:
                want = pyramid_reference(want, level)
            x, y = level_origin(level, (w, h))
            got = texels[y : y + h, x : x + w]
            np.testing.assert_array_equal(got[..., 3], want[..., 3].astype(np.float32))
            np.testing.assert_allclose(got[..., :3], want[..., :3], rtol=1e-5, atol=1e-5)
        level1 = texels[:h, w:]
        # level 1's texel (13, 5) is the box of half-res rows 4-5, columns 12-13: half
        # the sharp patch, half background; (13, 6): rows 5-6, all patch
        assert level1[5, 13, 3] > 40.0 and level1[6, 13, 3] == 0.5
    finally:
        pyramid.release()
        half_color.release()


def test_pyramid_is_the_setup_texture_itself_where_no_level_is_needed(
    ctx: moderngl.Context,
) -> None:
    half_color = ctx.texture((8, 6), 4, dtype="f4")
    pyramid = Pyramid(ctx, shader_defines(MAX_COC))
    try:
        texture, levels = pyramid.run(half_color, 0)
        assert texture is half_color and levels == 0
    finally:
        pyramid.release()
        half_color.release()


# --- dilate -----------------------------------------------------------------------------


def hidden_reach(coc: float) -> float:
    """dof_common.glsl's hidden_reach: how far a sample behind a pixel of this CoC reaches it."""
    return 0.5 * abs(coc) + max(-coc - FG_MIN, 0.0) * MAX_COC


def phased(radius: float, gap: float) -> float:
    """A neighbour's radius as it counts: in full once it spans the gap, phased in before."""
    return radius * min(max((radius - gap) / REACH_RAMP + 1.0, 0.0), 1.0)


def dilate_reference(tiles: np.ndarray) -> np.ndarray:
    """dilate.frag in numpy: per tile (fg radius, bg radius, flags, 0)."""
    gh, gw = tiles.shape[:2]
    d = dilate_tiles(MAX_COC)
    out = np.zeros((gh, gw, 4))
    for ty in range(gh):
        for tx in range(gw):
            own_lo, own_hi = (float(v) for v in tiles[ty, tx, :2])
            fg = max(-own_lo, 0.0) / 2
            bg = max(abs(own_lo), abs(own_hi)) / 2
            sprites, lo, hi, nearest = False, own_lo, own_hi, own_lo
            for dy in range(-d, d + 1):
                for dx in range(-d, d + 1):
                    ny, nx = ty + dy, tx + dx
                    if not (0 <= ny < gh and 0 <= nx < gw):
                        continue
                    n_lo, n_hi, n_sprite = (float(v) for v in tiles[ny, nx, :3])
                    nearest = min(nearest, n_lo)
                    gap = TILE_SIZE * math.hypot(max(abs(dx) - 1, 0), max(abs(dy) - 1, 0))
                    fg = max(fg, phased(max(-n_lo, 0.0) / 2, gap))
                    bg = max(bg, phased(min(max(n_hi, 0.0) / 2, hidden_reach(own_lo)), gap))
                    sprites |= n_sprite > 0 and n_sprite / 2 + 1 > gap
                    if max(abs(dx), abs(dy)) <= 1:
                        lo, hi = min(lo, n_lo), max(hi, n_hi)
            least_blur = min(abs(lo), abs(hi)) if lo > 0 or hi < 0 else 0.0
            narrow = hi - lo < NARROW_COC + 0.25 * least_blur
            all_sharp = lo > -FG_MIN and hi < FG_MIN
            slight = not (hi < -SLIGHT_COC or lo > SLIGHT_COC or all_sharp)
            flags = FLAG_SPRITES * sprites | FLAG_NARROW * narrow | FLAG_SLIGHT * slight
            out[ty, tx] = (fg, bg, flags, nearest)
    return out


def tile_ranges(ranges: dict[tuple[int, int], tuple[float, float, float]]) -> np.ndarray:
    """A 5x4 tile grid, in focus (CoC 0 to 0.5) except at the given (x, y) tiles."""
    tiles = np.zeros((4, 5, 4), np.float32)
    tiles[..., 1] = 0.5
    for (x, y), value in ranges.items():
        tiles[y, x, :3] = value
    return tiles


def run_dilate(passes: Passes, texture: MakeTexture, tiles: np.ndarray) -> np.ndarray:
    """Dilate `tiles`, check the result against the numpy reference and return it."""
    dilate = passes[2]
    dilate.run(texture(tiles), dilate_tiles(MAX_COC))
    got = read(dilate)
    want = dilate_reference(tiles)
    # Radii are halves of the inputs, scaled by the phase-in ramp (one float32 rounding or
    # two); flags compare exactly.
    np.testing.assert_allclose(got[..., :2], want[..., :2], rtol=1e-6)
    np.testing.assert_array_equal(got[..., 2:], want[..., 2:])
    return got


def test_dilate_spreads_blur_to_the_tiles_it_reaches(passes: Passes, texture: MakeTexture) -> None:
    assert dilate_tiles(MAX_COC) == 3
    tiles = tile_ranges(
        {
            (0, 1): (-40.0, 0.5, 0.0),  # foreground, radius 20 px
            (4, 1): (2.0, 50.0, 0.0),  # background radius 25 px; its nearest CoC is 2
            (3, 1): (1.0, 10.0, 0.0),  # behind focus up to 10: farther samples reach within 5
            (3, 0): (-6.0, 0.5, 0.0),  # holds a pixel in front of focus: all behind shows
            (4, 3): (-3.0, 0.5, 0.0),  # slight foreground: spreads 1.5 px, into its neighbours
            (2, 3): (0.0, 0.5, 20.0),  # a sprite of radius 10 px
        }
    )
    got = run_dilate(passes, texture, tiles)
    fg, bg, flags = got[..., 0], got[..., 1], got[..., 2].astype(int)

    # The foreground reaches every tile one tile over (gap 0) and two tiles straight over
    # (gap 16 px < 20) in full; two tiles diagonally (16 sqrt 2 = 22.6 px, beyond its reach
    # by 2.6 px of the REACH_RAMP of 8) it phases in: 20 * (1 - 2.6 / 8); three over, not.
    diagonal = 20.0 * (1.0 - (16.0 * math.sqrt(2.0) - 20.0) / REACH_RAMP)
    np.testing.assert_allclose(
        fg,
        [
            [20, 20, 20, 3, 3],
            [20, 20, 20, 3, 3],
            [20, 20, 20, 1.5, 1.5],
            [20, 20, diagonal, 1.5, 1.5],
        ],
        rtol=1e-6,
    )
    assert bg[1, 4] == 25.0  # its own farthest
    # Samples behind a pixel reach it only within its own radius (5 for the farthest, 10):
    # the 50 beside does not widen this tile's gather.
    assert bg[1, 3] == 5.0
    assert bg[0, 3] == 25.0  # but through a pixel in front of focus every background shows
    assert bg[3, 4] == 25.0  # likewise (-3, two tiles straight down: 16 px gap < 25 px)
    assert bg[2, 1] == 0.25  # in focus: a blurred background stays behind
    sprites = (flags & FLAG_SPRITES) > 0
    np.testing.assert_array_equal(sprites[2:, 1:4], True)  # one tile around the sprite
    assert sprites.sum() == 6  # 10 px (and its 1 px rim) does not cross a 16 px gap


def test_dilate_flags_narrow_and_slight_tiles(passes: Passes, texture: MakeTexture) -> None:
    tiles = tile_ranges({})
    tiles[:2, :2, :2] = 10.0  # far, evenly blurred
    tiles[:2, 2, :2] = (10.0, 13.0)  # spread 3 < 1 + 10 / 4 beside the blur of 10
    tiles[:2, 4, :2] = (0.0, 0.25)
    tiles[2:, :2, :2] = -10.0  # near, evenly blurred
    got = run_dilate(passes, texture, tiles)
    flags = got[..., 2].astype(int)
    narrow, slight = (flags & FLAG_NARROW) > 0, (flags & FLAG_SLIGHT) > 0

    assert not (flags & FLAG_SPRITES).any()
    assert narrow[0, 0] and not slight[0, 0]  # all 10: one blur, none near the focus band
    assert narrow[0, 1]  # 10..13 around it: within 1 + 0.25 * 10
    assert not narrow[0, 2] and slight[0, 2]  # 0..13 around it: blur meets focus
    assert narrow[0, 4] and not slight[0, 4]  # all in focus (0..0.5)
    assert narrow[3, 0] and not slight[3, 0]  # all -10: the near side likewise
    assert not narrow[2, 1] and slight[2, 1]  # -10 beside +10


def test_slight_orbits_cover_the_window_nearest_first_so_a_tile_stops_at_its_reach() -> None:
    # composite.frag reads the centre, then each orbit's four taps a quarter turn apart,
    # and leaves the loop at the first orbit a tile's largest radius r cannot reach
    # (distance >= r + 0.5): every orbit it skips must be as far
    orbits = slight_orbits()
    distance = orbits[:, 2]
    taps = {(0, 0)}
    for x, y, _ in orbits.astype(int):
        for _ in range(4):
            taps.add((x, y))
            x, y = -y, x
    assert taps == set(slight_offsets())
    # the pixels within SLIGHT_COC / 2 + 0.5 = 4 px of the centre: the 9x9 window less
    # eight pixels at each corner
    assert len(taps) == 49
    np.testing.assert_allclose(distance, np.hypot(orbits[:, 0], orbits[:, 1]), rtol=1e-6)
    assert (np.diff(distance) >= 0).all()
    # a tile whose largest blur is 1 px (r = 0.5) reads the pixel alone; 2 px, its 3x3 block
    assert int((distance < 0.5 + 0.5).sum()) == 0 and int((distance < 1.0 + 0.5).sum()) == 2


def test_the_nested_gather_kernel_tiles_the_plane_out_to_the_largest_blur() -> None:
    """Level 0's rings and each coarser level's annuli meet without gap or overlap (in px,
    level l's spacing RING_SPACING * 2^l), their taps' areas add up to the annuli's, and
    the coarsest level reaches the largest blur the chain draws."""
    from realtime.lens import MAX_COC_LIMIT_PX
    from realtime.passes.constants import (
        CENTRE_TAP_AREA,
        KERNEL_RINGS,
        OUTER_START,
        RING_SPACING,
        kernel_taps,
        level_rings,
    )
    from realtime.passes.kernel import ring_spans, ring_walks, tap_scales
    from realtime.passes.pyramid import levels_needed

    edge = 0.5 * RING_SPACING  # the centre tap's disc, px
    area = CENTRE_TAP_AREA * RING_SPACING**2
    for level in range(PYRAMID_LEVELS + 1):
        spacing = RING_SPACING * 2**level
        for _, inner, outer, _ in level_rings(level):
            assert inner * spacing == pytest.approx(edge)  # starts where the last ring ended
            edge = outer * spacing
            area += math.pi * (outer**2 - inner**2) * spacing**2
    assert area == pytest.approx(math.pi * edge**2)
    assert edge == (KERNEL_RINGS + 0.5) * RING_SPACING * 2**PYRAMID_LEVELS
    assert edge >= MAX_COC_LIMIT_PX / 2 and levels_needed(MAX_COC_LIMIT_PX) == PYRAMID_LEVELS
    assert OUTER_START * 2 == KERNEL_RINGS + 0.5  # a level starts where the finer one ends
    # the tables: one row per ring of level 0, then of the coarser levels; tap areas
    spans = ring_spans()
    rows = level_rings(0) + level_rings(1)
    assert len(spans) == len(ring_walks()) == len(rows)
    for (_, inner, outer, taps), (s_in, s_out, tap_area, s_taps) in zip(rows, spans, strict=True):
        assert (s_in, s_out, s_taps) == (inner, outer, taps)
        assert tap_area * taps == pytest.approx(math.pi * (outer**2 - inner**2), rel=1e-6)
    assert spans[0][2] == pytest.approx(CENTRE_TAP_AREA)  # level 0's taps stand for pi / 4
    # first taps lie on their ring's middle radius
    radii = np.hypot(ring_walks()[:, 0], ring_walks()[:, 1])
    np.testing.assert_allclose(radii, 0.5 * (spans[:, 0] + spans[:, 1]), rtol=1e-6)
    # a circle scales no tap; a hexagon's scales lie between 1 and 1 / cos(30 degrees)
    assert (tap_scales() == 1.0).all() and len(tap_scales()) == kernel_taps()
    hexagon = tap_scales(6, 0.0)
    assert hexagon.min() >= 1.0 - 1e-6 and hexagon.max() <= 1 / math.cos(math.pi / 6) + 1e-6
