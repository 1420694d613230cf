"""Dilate pass: per tile, the largest blur radius that can reach it."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Dilate(FullscreenPass):
    """Tile-res RGBA32F (reach): (fg radius, bg radius, flags, nearest).

    fg, bg: the largest foreground and background blur radius (full-res px)
    that can reach the tile; flags: the tile's FLAG_* bits (constants.py) as a
    float, which pick its composite program; nearest: the smallest signed CoC
    over every tile the frame's largest blur reaches from it (no near disc lies
    within the gather's kernel when it is above -LAYER_MIN_COC).
    """

    shader = "dilate.frag"
    outputs = ((4, "f4"),)
    filter = moderngl.NEAREST

    def run(self, tiles: moderngl.Texture, reach_tiles: int) -> moderngl.Texture:
        """`reach_tiles`: how many tiles out to look (dilate_tiles of the largest blur)."""
        self.draw(tiles.size, {"tiles": tiles}, {"reach_tiles": reach_tiles})
        return self.output
