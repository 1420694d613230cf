"""Guided depth upsampling: depth smaller than the colour (phone portrait photos store it at
a fifth of the colour's resolution, 8-bit) brought to the colour's size on the GPU, its
edges where the colour's are (shaders/depth_guide.frag, shaders/depth_upsample.frag).

Both passes address pixels in the whole frame's coordinates, so a tile's window
(realtime.tiling) gives the frame's pixels wherever the window holds the colour
within `reach_px` of them: the depth map itself is small and always whole.
"""

from __future__ import annotations

import math

import moderngl

from realtime.passes.base import FullscreenPass, Size
from realtime.passes.depth import EDGE_DW, MATCH_SIGMA

GUIDE_GRID = 8  # at most this many colour samples a side per depth texel's footprint
UPSAMPLE_SPAN = 4  # depth texels a side around each pixel that the upsampling weighs
# Tuned on phone-like depth of the ground-truth scenes (tests/test_depth_upsample.py):
# a wider gaussian (0.8, 1.2) lost up to 0.4 dB on the portrait; a colour-variance weight
# for mixed texels lost more than it won (their own colour mixes as their depth does);
# PLANE_RESIDUAL gave the same results from 0.04 to 0.12 and lost 2.6 dB at 0.16.
UPSAMPLE_SIGMA = 0.4  # depth texels: spatial gaussian of the upsampling
MATCH_FLOOR = 1e-3  # colour match of a texel that looks like nothing near (lights), vs 1
PLANE_RESIDUAL = 0.08  # an edge: the plane fit's RMS residual over this share of the range
EXTREME_POWER = 4.0  # at an edge, a texel's weight grows as |w - mid| / half-range to this


def grid_moment() -> float:
    """Sum of x^2 over the UPSAMPLE_SPAN x UPSAMPLE_SPAN grid, x centred (the plane fit's
    normal equations are diagonal on a full grid: slope = sum(x w) / this)."""
    centred = [i - (UPSAMPLE_SPAN - 1) / 2 for i in range(UPSAMPLE_SPAN)]
    return float(UPSAMPLE_SPAN * sum(x * x for x in centred))


def upsample_defines() -> dict[str, object]:
    """The #defines of both passes, from the constants above."""
    return {
        "GUIDE_GRID": GUIDE_GRID,
        "UPSAMPLE_SPAN": UPSAMPLE_SPAN,
        "UPSAMPLE_SIGMA": UPSAMPLE_SIGMA,
        "MATCH_SIGMA": MATCH_SIGMA,
        "EDGE_DW": EDGE_DW,
        "PLANE_RESIDUAL": PLANE_RESIDUAL,
        "GRID_MOMENT": grid_moment(),
        "MATCH_FLOOR": MATCH_FLOOR,
        "EXTREME_POWER": EXTREME_POWER,
    }


def hi_per_lo(depth_size: Size, frame_size: Size) -> tuple[float, float]:
    """Full-res pixels per depth texel along x and y."""
    return frame_size[0] / depth_size[0], frame_size[1] / depth_size[1]


def reach_px(depth_size: Size, frame_size: Size) -> int:
    """Full-res pixels around a pixel whose colour its upsampled depth depends on: the
    footprints of the UPSAMPLE_SPAN depth texels around it (padding for tiles)."""
    ratio = max(hi_per_lo(depth_size, frame_size))
    return math.ceil((UPSAMPLE_SPAN / 2 + 1) * ratio) + 1


class DepthGuide(FullscreenPass):
    """Depth resolution, RGBA32F: rgb = the mean over the depth texel's footprint of the
    colour compared, sqrt(c / (1 + c)); a = its inverse depth (1/m, 0 = no data)."""

    shader = "depth_guide.frag"
    outputs = ((4, "f4"),)
    filter = moderngl.NEAREST


class DepthUpsample(FullscreenPass):
    """Full res (the colour's window), R32F: depth in metres (0 where no depth is near)."""

    shader = "depth_upsample.frag"
    outputs = ((1, "f4"),)
    filter = moderngl.NEAREST


class GuidedUpsampler:
    """Low-res depth (metres) + full-res colour in, full-res depth (metres) out."""

    def __init__(self, ctx: moderngl.Context) -> None:
        defines = upsample_defines()
        self.guide = DepthGuide(ctx, defines)
        self.upsample = DepthUpsample(ctx, defines)

    def run(
        self,
        color: moderngl.Texture,
        depth: moderngl.Texture,
        frame_size: Size | None = None,
        window_origin: tuple[int, int] = (0, 0),
    ) -> moderngl.Texture:
        """Upsample `depth` (the whole frame's) to `color`'s size. `color` may be a window
        of a frame of `frame_size` (default: the colour's own size) whose texel 0 is
        pixel `window_origin` of the frame."""
        frame = frame_size if frame_size is not None else color.size
        ratio = hi_per_lo(depth.size, frame)
        # the depth texels whose footprints the window's pixels weigh, and a margin
        x0, y0 = window_origin
        x1, y1 = x0 + color.size[0], y0 + color.size[1]
        margin = UPSAMPLE_SPAN
        lo0 = (max(int(x0 / ratio[0]) - margin, 0), max(int(y0 / ratio[1]) - margin, 0))
        lo1 = (
            min(math.ceil(x1 / ratio[0]) + margin, depth.size[0]),
            min(math.ceil(y1 / ratio[1]) + margin, depth.size[1]),
        )
        uniforms = {
            "hi_per_lo": ratio,
            "lo_origin": lo0,
            "window_origin": window_origin,
        }
        grid = min(max(math.ceil(max(ratio)), 1), GUIDE_GRID)
        self.guide.draw(
            (lo1[0] - lo0[0], lo1[1] - lo0[1]),
            {"color": color, "depth": depth},
            {**uniforms, "grid": grid},
        )
        self.upsample.draw(color.size, {"color": color, "guide": self.guide.output}, uniforms)
        return self.upsample.output

    @property
    def passes(self) -> list[FullscreenPass]:
        return [self.guide, self.upsample]

    def release(self) -> None:
        for p in self.passes:
            p.release()
