"""Dilate pass: per tile, the largest blur radius that can reach it."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Dilate(FullscreenPass):
    """Tile-res RGBA32F (reach): (fg radius, bg radius, flags, 0).

    fg, bg: the largest foreground and background blur radius (full-res px)
    that can reach the tile; flags: the tile's FLAG_* bits (constants.py) as a
    float, which pick its composite program.
    """

    shader = "dilate.frag"
    outputs = ((4, "f4"),)
    filter = moderngl.NEAREST

    def run(self, tiles: moderngl.Texture) -> moderngl.Texture:
        self.draw(tiles.size, {"tiles": tiles})
        return self.output
