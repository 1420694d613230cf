"""Dilate pass: per tile, the largest blur radius that can reach it."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Dilate(FullscreenPass):
    """Tile texel: RG16F, (foreground radius, background radius) in full-res px."""

    shader = "dilate.frag"
    outputs = ((2, "f2"),)
    filter = moderngl.NEAREST

    def run(self, tiles: moderngl.Texture) -> moderngl.Texture:
        self.draw(tiles.size, {"tiles": tiles})
        return self.output
