"""The depth-of-field pass chain: prepare, setup, tiles, dilate, pyramid, gather + scatter,
composite.

`Compositor` renders numpy arrays (`render`) or GPU textures
(`render_textures`, used by the live preview without a CPU round trip).
Textures hold images top row first (texel row 0 = image row 0), the same
order as numpy; only a pass that draws to a window flips.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import moderngl
import numpy as np

from realtime.gl.context import create_offscreen_context, make_current
from realtime.lens import MAX_COC_LIMIT_PX, Lens
from realtime.passes.base import FullscreenPass
from realtime.passes.composite import Composite
from realtime.passes.constants import dilate_tiles, shader_defines
from realtime.passes.dilate import Dilate
from realtime.passes.gather import Gather
from realtime.passes.prepare import Prepare
from realtime.passes.pyramid import Pyramid, levels_needed
from realtime.passes.scatter import Scatter
from realtime.passes.setup import Setup
from realtime.passes.tiles import Tiles
from realtime.sources.depth import is_smaller_picture
from realtime.sources.images import decode_srgb_integers

UPLOAD_BLOCK_PX = 2**20  # integer colour is decoded and uploaded this many pixels at a time


class Compositor:
    """Thin-lens depth of field for RGB-D frames on one GL context."""

    def __init__(self, ctx: moderngl.Context | None = None):
        self.ctx = ctx if ctx is not None else create_offscreen_context()
        self.max_coc: float | None = None
        self._inputs: tuple[moderngl.Texture, moderngl.Texture] | None = None
        # nearest and farthest depth of the last upload (m; far is inf where depth is
        # missing, which counts as far away); None for textures made elsewhere
        self.depth_range: tuple[float, float] | None = None
        self.notify: Callable[[str], None] = _stderr_line  # the clamp notice, once
        self._clamp_noted = False

    def _build(self, max_coc: float) -> None:
        """Compile the passes for a CoC clamp (the clamp sets loop bounds)."""
        if self.max_coc == max_coc:
            return
        if self.max_coc is not None:
            for p in self.passes:
                p.release()
        defines = shader_defines(max_coc)
        self.prepare = Prepare(self.ctx, defines)
        self.setup = Setup(self.ctx, defines)
        self.pyramid = Pyramid(self.ctx, defines)
        self.tiles = Tiles(self.ctx, defines)
        self.dilate = Dilate(self.ctx, defines)
        self.gather = Gather(self.ctx, defines)
        self.scatter = Scatter(self.ctx, defines)
        self.composite = Composite(self.ctx, defines)
        self.max_coc = max_coc

    @property
    def passes(self) -> list[FullscreenPass]:
        return [
            self.prepare,
            self.setup,
            self.pyramid,
            self.tiles,
            self.dilate,
            self.gather,
            self.scatter,
            self.composite,
        ]

    def upload(
        self, color: np.ndarray, depth: np.ndarray, frame_size: tuple[int, int] | None = None
    ) -> tuple[moderngl.Texture, moderngl.Texture]:
        """Copy a linear RGB float image and a depth map (metres) into reused textures.

        The depth map may be the picture at a lower resolution (`is_smaller_picture`):
        its texture then has the depth's size, for `GuidedUpsampler` to bring to the
        colour's. `frame_size`: the whole frame's (width, height) when `color` is a
        window of it (tiles); such smaller depth is then the whole frame's. `color` may
        also be sRGB integer samples (load_color's keep_integers): they are decoded
        UPLOAD_BLOCK_PX pixels at a time, so no float copy of the whole is made.
        """
        h, w = color.shape[:2]
        dh, dw = depth.shape
        frame = frame_size if frame_size is not None else (w, h)
        if color.shape != (h, w, 3) or (
            (dh, dw) != (h, w) and not is_smaller_picture((dw, dh), frame)
        ):
            raise ValueError(f"colour {color.shape} and depth {depth.shape} differ in size")
        sizes = ((w, h), (dw, dh))
        if self._inputs is None or tuple(t.size for t in self._inputs) != sizes:
            if self._inputs is not None:
                for tex in self._inputs:
                    tex.release()
            color_tex = self.ctx.texture((w, h), 3, dtype="f4")
            depth_tex = self.ctx.texture((dw, dh), 1, dtype="f4")
            for tex in (color_tex, depth_tex):
                tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
                tex.repeat_x = tex.repeat_y = False
            self._inputs = (color_tex, depth_tex)
        if color.dtype.kind == "u":
            rows = max(1, UPLOAD_BLOCK_PX // w)
            for y in range(0, h, rows):
                block = decode_srgb_integers(color[y : y + rows])
                self._inputs[0].write(np.ascontiguousarray(block), viewport=(0, y, w, len(block)))
        else:  # numpy arrays are buffers: written without a bytes copy
            self._inputs[0].write(np.ascontiguousarray(color, dtype=np.float32))
        self._inputs[1].write(np.ascontiguousarray(depth, dtype=np.float32))
        self.depth_range = depth_range(depth)
        return self._inputs

    def largest_coc(self, lens: Lens, width: int) -> float | None:
        """The lens's largest |CoC| (px, unclamped) over the last upload's depths."""
        if self.depth_range is None:
            return None
        return lens.largest_coc_px(self.depth_range, width)

    def _check_clamp(self, lens: Lens, blur: float | None) -> None:
        """One line on stderr, the first time a clamp cuts the lens's blur."""
        if self._clamp_noted or blur is None or blur <= lens.clamp_px + 0.5:
            return
        self._clamp_noted = True
        cut = f"{blur:.0f} px to {lens.clamp_px:g} px ({1.0 - lens.clamp_px / blur:.0%} smaller)"
        if lens.max_coc_px is not None and lens.max_coc_px <= MAX_COC_LIMIT_PX:
            self.notify(f"note: --max-coc clamps this lens's largest blur from {cut}")
        else:
            self.notify(f"note: the chain's limit clamps this lens's largest blur from {cut}")

    def render_textures(
        self,
        color: moderngl.Texture,
        depth: moderngl.Texture,
        lens: Lens,
        after_pass: Callable[[str], None] | None = None,
        image_width: int | None = None,
    ) -> moderngl.Texture:
        """Run the chain on GPU textures; returns the composite (RGBA32F, linear).

        `after_pass(name)`, if given, is called after each pass is issued (the
        benchmark finishes and times each pass there). `image_width`: the whole
        frame's width when the textures hold one tile of it (realtime.tiling), since
        CoCs in pixels scale with it; default the textures' width.
        """
        done = after_pass or (lambda name: None)
        self._build(lens.clamp_px)
        width = image_width if image_width is not None else color.size[0]
        blur = self.largest_coc(lens, width)
        self._check_clamp(lens, blur)
        # this frame's largest blur: how far the dilate pass looks, how deep the pyramid goes
        largest = min(lens.clamp_px, blur if blur is not None else math.inf)
        coc_params = lens.coc_scale_bias(width)
        aperture = (lens.blades, math.radians(lens.blade_rotation_deg))
        prepared = self.prepare.run(color, depth, coc_params)
        done("prepare")
        half, highlight = self.setup.run(prepared)
        done("setup")
        tiles = self.tiles.run(half, highlight, color.size)
        done("tiles")
        reach = self.dilate.run(tiles, dilate_tiles(largest))
        done("dilate")
        pyramid = self.pyramid.run(half, levels_needed(largest))
        done("pyramid")
        fg, bg, weight = self.gather.run(
            (half, highlight),
            pyramid,
            reach,
            (lens.blades, lens.blade_rotation_deg),
        )
        done("gather")
        sprites = self.scatter.run(prepared, (half, highlight), tiles, reach, aperture, largest)
        done("scatter")
        out = self.composite.run(prepared, (fg, bg, weight), sprites, reach, lens.blades)
        done("composite")
        return out

    def render(self, color: np.ndarray, depth: np.ndarray, lens: Lens) -> np.ndarray:
        """Linear RGB (HxWx3 float32) + depth (HxW metres) -> linear RGB HxWx3 float32.

        Makes this compositor's context current first, so it is safe beside
        other contexts on the same thread.
        """
        make_current(self.ctx)
        color_tex, depth_tex = self.upload(color, depth)
        out = self.render_textures(color_tex, depth_tex, lens)
        return read_rgb(out)


def depth_range(depth: np.ndarray) -> tuple[float, float]:
    """(nearest, farthest) valid depth in metres; inf where some depth is missing (0, NaN,
    inf, negative), which the chain treats as far away."""
    valid = np.isfinite(depth) & (depth > 0)
    if not valid.any():
        return math.inf, math.inf
    far = float(depth[valid].max()) if valid.all() else math.inf
    return float(depth[valid].min()), far


def _stderr_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_rgb(texture: moderngl.Texture) -> np.ndarray:
    """Read an RGBA float texture back as HxWx3 float32."""
    w, h = texture.size
    data = np.frombuffer(texture.read(), dtype=np.float32).reshape(h, w, 4)
    return data[..., :3].copy()
