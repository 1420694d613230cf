"""Frames of any size: the pass chain run on overlapping tiles, stitched into bands of rows.

A frame wider or taller than the GPU's texture and viewport limit cannot be one
texture, and the chain's working set grows with the frame (about
BYTES_PER_WINDOW_PX a pixel). Such a frame is cut into tiles; each tile is the
chain run on a *window* of the input, the tile padded on every side by
`padding_px(max_coc)` (clipped at the frame's edges), and only the tile is
kept. Tiles are produced a band (a row of tiles) at a time, top to bottom, so
writers can stream the output in strips.

Why a tile equals the same pixels of the whole render. The chain is
translation-invariant on the grids it uses: the half-res 2x2 blocks and the
TILE_SIZE tiles (the pyramid's levels keep every half-res texel). Window
origins are multiples of TILE_SIZE (tiles and the padding are), so a window's
grids are the frame's; CoCs take the whole frame's width
(`Compositor.render_textures(image_width=...)`). What differs is only what lies
beyond a window's inner edge, where the passes clamp or skip. Counting
what each pass reads, with D = dilate_tiles(max_coc) and R = max_coc / 2 <= 16 D
the largest blur radius (px), from such an edge:

    setup      a half-res texel: the CoC of its own 2x2 block (exact everywhere),
               colour and highlight from the ring around it: the edge texel may differ
    tiles      min/max CoC exact everywhere; the highlight flag of tile 0 may differ
    dilate     tiles within D, none past the edge for tiles >= D: their radii are
               exact, their flags (tile 0's highlight) from tile D + 1 on
    pyramid    level l's texel is the box of 2^(l+1) px around a half-res texel
               corner (at most G = grid_px(max_coc) wide, a multiple of TILE_SIZE):
               only boxes within G / 2 px of the edge may differ
    gather     its tile's radii and taps within R / 2 half-res texels (8 D): exact
               from tile D on, but for the first texel of tile D, whose widest tap
               reaches the edge texel; taps read pyramid boxes up to G px wide,
               so where G > TILE_SIZE the padding holds one G more
    scatter    a sprite covers pixels within R + 1 px of its centre: sprites from
               the edge texel (or from beyond the edge) end before px R + 3 < 16 (D + 1)
    composite  full-res taps within SLIGHT_COC / 2 (prepare is exact everywhere),
               its tile's flags, and the half-res layers bilinearly, one texel into
               each neighbour tile: the last texel of tile D, not its first

so from tile D + 1 on every pixel is the frame's: `padding_px = TILE_SIZE * (D + 1)`,
rounded up to G (plus G where the gather reads boxes wider than a tile)
(with D tiles, a highlight at a window's edge shows: tests/test_tiling.py). Sprites
add up in the order of their tiles (row-major over the window, the same order as
over the frame), so their sums are the same sums. Left is float rounding where
the GPU turns a texel position into a texture coordinate and back (the gather's
taps, the layers' bilinear weights, sprite centres): coordinates relative to a
smaller texture round differently. Float outputs differ by that rounding (a few
1e-5 of a value); 8-bit codes flip by one where a value sits on a code boundary.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from realtime.errors import InputError
from realtime.lens import Lens
from realtime.passes.constants import TILE_SIZE, dilate_tiles
from realtime.passes.pyramid import levels_needed, texture_size

if TYPE_CHECKING:
    import moderngl

    from realtime.passes.depth import DepthConditioner
    from realtime.passes.upsample import GuidedUpsampler
    from realtime.pipeline import Compositor

# Chain memory per window pixel, bytes: inputs RGB32F + R32F (16), prepare and
# composite RGBA32F (32), two scatter layers (32), half-res setup and gather (4 x
# RGBA32F / 4 = 16), the pyramid's levels (up to 6 x RGBA32F / 4 = 24), plus the host
# copies of a window's upload and readback (~44); llvmpipe measured 115-150 without
# the pyramid's levels (windows of 3072 down to 1024 px).
BYTES_PER_WINDOW_PX = 164
PAD_EXTRA_TILES = 1  # padding tiles beyond the dilate reach (see the module docstring)
# Default --max-memory: 1/N of physical memory (1 GiB of 24 GiB). An 8000x6000 still (35 mm
# f/1.4) peaked at 3.24 GB resident with 1/16 (windows of 3088 px) and 2.47 GB with 1 GiB
# (the whole process grows ~1.6x the chain budget on llvmpipe); 1/24 keeps it under 3 GB.
DEFAULT_MEMORY_SHARE = 24
MIN_MEMORY_BYTES = 64 * 2**20  # default --max-memory on a machine that does not say its memory


def grid_px(max_coc_px: float) -> int:
    """What tiles and padding are multiples of: TILE_SIZE, or the widest pyramid box the
    gather reads for this blur (2^(l+1) px at level l) where that is larger (the padding
    then holds one more)."""
    return max(TILE_SIZE, 2 ** (levels_needed(max_coc_px) + 1))


def padding_px(max_coc_px: float) -> int:
    """Pixels of input around a tile that can reach it (see the module docstring)."""
    pad = TILE_SIZE * (dilate_tiles(max_coc_px) + PAD_EXTRA_TILES)
    grid = grid_px(max_coc_px)
    if grid == TILE_SIZE:
        return pad
    return _floor_tile(pad + grid - 1, grid) + grid  # the window's outermost texel may differ


def default_memory_bytes() -> int:
    """The default chain budget: 1/DEFAULT_MEMORY_SHARE of this machine's memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return MIN_MEMORY_BYTES
    return max(MIN_MEMORY_BYTES, total // DEFAULT_MEMORY_SHARE)


def max_side_px(ctx: moderngl.Context) -> int:
    """The largest window side this context renders: its viewport and texture limits
    (GL_MAX_VIEWPORT_DIMS, GL_MAX_TEXTURE_SIZE), the latter for the Pyramid's texture,
    which holds half-res copies of a window side by side (pyramid.texture_size)."""
    info = ctx.info
    viewport = info["GL_MAX_VIEWPORT_DIMS"]
    texture = info["GL_MAX_TEXTURE_SIZE"]
    # a window of side `texture` has levels of half that: they take max(levels) texels
    levels = texture_size((texture // 2, texture // 2))
    side = texture * texture // max(levels)
    return int(min(side, texture, *viewport))


@dataclass(frozen=True)
class TileOptions:
    """What the user asked for (--tile-size, --max-memory); `resolve` adds the GPU's limit."""

    tile_px: int | None = None  # forced tile side, a multiple of TILE_SIZE; None: automatic
    memory_bytes: int | None = None  # chain memory per window; None: default_memory_bytes()

    def resolve(self, ctx: moderngl.Context) -> Tiling:
        """The limits on this context."""
        memory = self.memory_bytes if self.memory_bytes is not None else default_memory_bytes()
        return Tiling(max_side_px(ctx), memory, self.tile_px)


@dataclass(frozen=True)
class Tiling:
    """How frames are split: the limits tiles must fit, or a forced size."""

    max_side_px: int  # largest window side the GPU takes (max_side_px(ctx))
    memory_bytes: int  # chain memory one window may use (--max-memory)
    tile_px: int | None = None  # forced tile side (--tile-size), a multiple of TILE_SIZE

    def fits(self, width: int, height: int) -> bool:
        """Whether a width x height frame renders whole (no tiles)."""
        if self.tile_px is not None:
            return max(width, height) <= min(self.tile_px, self.max_side_px)
        return (
            max(width, height) <= self.max_side_px
            and width * height * BYTES_PER_WINDOW_PX <= self.memory_bytes
        )

    def plan(self, width: int, height: int, max_coc_px: float, extra_px: int = 0) -> TilePlan:
        """The tiles of a frame that does not fit; InputError if none can hold its blur.
        `extra_px`: input the depth at a window's pixel depends on (guided upsampling),
        added to the padding."""
        grid = grid_px(max_coc_px)
        pad = padding_px(max_coc_px) + _floor_tile(extra_px + grid - 1, grid)
        if self.tile_px is not None:
            side = max(grid, _floor_tile(self.tile_px, grid))
            tile = (side, side)
        else:
            tile = self._auto(width, height, pad, grid)
        plan = TilePlan((width, height), tile, pad)
        w, h = plan.window_size
        if max(w, h) > self.max_side_px:
            raise InputError(
                f"{width}x{height} frame: tiles of {tile[0]}x{tile[1]} px need windows of "
                f"{w}x{h} px ({pad} px of blur around each), over the GPU's limit of "
                f"{self.max_side_px} px; lower --tile-size or --max-coc"
            )
        return plan

    def _auto(self, width: int, height: int, pad: int, grid: int) -> tuple[int, int]:
        """The tile shape with the least padding whose window fits the limits."""
        area = self.memory_bytes // BYTES_PER_WINDOW_PX
        side = min(self.max_side_px, math.isqrt(area))
        square = _floor_tile(side - 2 * pad, grid)
        if square < grid:
            need = (grid + 2 * pad) ** 2 * BYTES_PER_WINDOW_PX
            raise InputError(
                f"{width}x{height} frame: tiles padded by {pad} px of blur on each side need "
                f"windows of at least {grid + 2 * pad} px and {need / 2**20:.0f} MiB; "
                f"the limits are {self.max_side_px} px and --max-memory "
                f"{self.memory_bytes / 2**20:.0f} MiB (lower --max-coc or raise --max-memory)"
            )
        candidates = [(square, square)]
        # One band (or one column) when the frame's height (width) fits a window.
        if height <= self.max_side_px:
            band = _floor_tile(min(self.max_side_px, area // height) - 2 * pad, grid)
            if band >= grid:
                candidates.append((band, height))
        if width <= self.max_side_px:
            column = _floor_tile(min(self.max_side_px, area // width) - 2 * pad, grid)
            if column >= grid:
                candidates.append((width, column))
        return min(candidates, key=lambda t: TilePlan((width, height), t, pad).work_px)


def _floor_tile(px: int, grid: int = TILE_SIZE) -> int:
    """`px` rounded down to a multiple of `grid`."""
    return px // grid * grid


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), px


@dataclass(frozen=True)
class Tile:
    """One tile: the pixels it keeps and the window of input it is rendered from."""

    keep: Rect  # output pixels this tile gives, in frame coordinates
    window: Rect  # input pixels it is rendered from: keep padded, clipped to the frame


@dataclass(frozen=True)
class TilePlan:
    """A frame cut into tiles of `tile` px, each rendered from a window `pad` px larger."""

    size: tuple[int, int]  # (width, height) of the frame
    tile: tuple[int, int]  # (width, height) of a tile; multiples of TILE_SIZE unless whole
    pad: int  # padding around each tile, px (padding_px)

    def __post_init__(self) -> None:
        for t, n in zip(self.tile, self.size, strict=True):
            if t <= 0 or (t < n and t % TILE_SIZE):
                raise ValueError(f"tile side {t} must be a positive multiple of {TILE_SIZE}")

    def _spans(self, axis: int) -> list[tuple[int, int, int, int]]:
        """(keep0, keep1, window0, window1) along one axis."""
        n, t = self.size[axis], self.tile[axis]
        return [
            (a, min(a + t, n), max(0, a - self.pad), min(n, a + t + self.pad))
            for a in range(0, n, t)
        ]

    def bands(self) -> list[list[Tile]]:
        """Rows of tiles, top to bottom, each left to right."""
        cols = self._spans(0)
        return [
            [Tile((x0, y0, x1, y1), (wx0, wy0, wx1, wy1)) for x0, x1, wx0, wx1 in cols]
            for y0, y1, wy0, wy1 in self._spans(1)
        ]

    @property
    def count(self) -> int:
        """Tiles in the plan."""
        return len(self._spans(0)) * len(self._spans(1))

    @property
    def window_size(self) -> tuple[int, int]:
        """The largest window, (width, height) px."""
        w = max(b - a for _, _, a, b in self._spans(0))
        h = max(b - a for _, _, a, b in self._spans(1))
        return w, h

    @property
    def work_px(self) -> int:
        """Pixels the chain runs over, all windows together."""
        w = sum(b - a for _, _, a, b in self._spans(0))
        h = sum(b - a for _, _, a, b in self._spans(1))
        return w * h


def read_region(texture: moderngl.Texture, rect: Rect) -> np.ndarray:
    """Rows y0..y1, columns x0..x1 of an RGBA float texture as float32 RGB (row 0 first)."""
    x0, y0, x1, y1 = rect
    fbo = texture.ctx.framebuffer(color_attachments=[texture])
    try:
        data = fbo.read(viewport=(x0, y0, x1 - x0, y1 - y0), components=3, dtype="f4")
    finally:
        fbo.release()
    return np.frombuffer(data, dtype=np.float32).reshape(y1 - y0, x1 - x0, 3)


class TiledComposite:
    """A frame's composite, rendered tile by tile as its bands are read.

    `bands()` yields (first row, rows HxWx3 float32 linear) top to bottom; each
    band is rendered when asked for, so only one band and one window are held.
    `color` is linear float32 or its sRGB integer samples (a quarter of the memory
    for 8-bit images), decoded a window at a time.
    Time goes to `times` ("input": window upload, "gpu": the chain, "readback").
    """

    def __init__(
        self,
        compositor: Compositor,
        color: np.ndarray,
        depth: np.ndarray,
        lens: Lens,
        plan: TilePlan,
        times: dict[str, float],
        upsampler: GuidedUpsampler | None = None,
        conditioner: DepthConditioner | None = None,
    ) -> None:
        """`depth` may be the frame's picture at a lower resolution; `upsampler` then
        brings each window's share of it to the window's size (the plan's padding must
        hold `realtime.passes.upsample.reach_px`). With a `conditioner`, each window's
        depth is conditioned as a picture of its own (no earlier frames; the padding must
        hold `realtime.passes.depth.reach_px` more)."""
        self.compositor = compositor
        self.color = color
        self.depth = depth
        self.lens = lens
        self.plan = plan
        self.times = times
        self.upsampler = upsampler
        self.conditioner = conditioner

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frame."""
        return self.plan.size

    def _add(self, stage: str, t0: float) -> float:
        now = time.perf_counter()
        self.times[stage] += now - t0
        return now

    def bands(self) -> Iterator[tuple[int, np.ndarray]]:
        """(y0, rows) of the output, top to bottom."""
        width = self.plan.size[0]
        comp = self.compositor
        smaller = self.depth.shape != self.color.shape[:2]
        for band in self.plan.bands():
            y0, y1 = band[0].keep[1], band[0].keep[3]
            out = np.empty((y1 - y0, width, 3), dtype=np.float32)
            for tile in band:
                t = time.perf_counter()
                wx0, wy0, wx1, wy1 = tile.window
                color = self.color[wy0:wy1, wx0:wx1]  # sRGB samples: decoded by upload
                if smaller:  # the whole (small) depth, upsampled for this window
                    assert self.upsampler is not None
                    color_tex, depth_tex = comp.upload(color, self.depth, self.plan.size)
                    depth_tex = self.upsampler.run(color_tex, depth_tex, self.plan.size, (wx0, wy0))
                    textures = (color_tex, depth_tex)
                else:
                    textures = comp.upload(color, self.depth[wy0:wy1, wx0:wx1])
                if self.conditioner is not None:
                    textures = (textures[0], self.conditioner.run(*textures, None))
                t = self._add("input", t)
                composite = comp.render_textures(*textures, self.lens, image_width=width)
                comp.ctx.finish()
                t = self._add("gpu", t)
                x0, ky0, x1, ky1 = tile.keep
                local = (x0 - wx0, ky0 - wy0, x1 - wx0, ky1 - wy0)
                out[:, x0:x1] = read_region(composite, local)
                self._add("readback", t)
            yield y0, out

    def assemble(self) -> np.ndarray:
        """The whole frame, HxWx3 float32 (for sinks that cannot take strips)."""
        width, height = self.plan.size
        out = np.empty((height, width, 3), dtype=np.float32)
        for y0, rows in self.bands():
            out[y0 : y0 + len(rows)] = rows
        return out


__all__ = [
    "BYTES_PER_WINDOW_PX",
    "Tile",
    "TileOptions",
    "TilePlan",
    "TiledComposite",
    "Tiling",
    "default_memory_bytes",
    "max_side_px",
    "padding_px",
    "read_region",
]
