"""Resample pass: colour and depth at a smaller scale, for adaptive-resolution frames.

The chain then runs on the smaller frame with the CoC computed for its width
(`Lens.coc_scale_bias(width)` is proportional to the width), so a scaled frame
is a softer version of the full one, with the same focus and blur in the
picture, not a different one.
"""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass, Size


def scaled_size(size: Size, scale: float) -> Size:
    """`size` times `scale`, rounded, at least 1x1."""
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


class Resample(FullscreenPass):
    """Two targets at the scaled size: 0, RGBA32F linear RGB (a = 1); 1, R32F depth, metres."""

    shader = "resample.frag"
    outputs = ((4, "f4"), (1, "f4"))
    filter = moderngl.NEAREST

    def run(
        self, color: moderngl.Texture, depth: moderngl.Texture, scale: float
    ) -> tuple[moderngl.Texture, moderngl.Texture]:
        size = scaled_size(color.size, scale)
        filtering = color.filter
        color.filter = (moderngl.LINEAR, moderngl.LINEAR)  # the footprint's bilinear taps
        self.draw(size, {"color": color, "depth": depth}, {"out_size": size})
        color.filter = filtering
        return self.textures[0], self.textures[1]
