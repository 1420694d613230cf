"""Dilate pass: per tile, the largest blur radius that can reach it."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Dilate(FullscreenPass):
    """Tile texel: RGBA16F, (fg radius, bg radius (full-res px), sprites land? 0/1, narrow? 0/1)."""

    shader = "dilate.frag"
    outputs = ((4, "f4"),)
    filter = moderngl.NEAREST

    def run(self, tiles: moderngl.Texture) -> moderngl.Texture:
        self.draw(tiles.size, {"tiles": tiles})
        return self.output
