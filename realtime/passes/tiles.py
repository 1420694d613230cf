"""Tiles pass: min/max signed CoC per TILE_SIZE^2 block of full-res pixels."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass
from realtime.passes.constants import TILE_SIZE


def tile_grid(width: int, height: int) -> tuple[int, int]:
    """Tiles across and down a full-res image."""
    return -(-width // TILE_SIZE), -(-height // TILE_SIZE)


class Tiles(FullscreenPass):
    """Tile-res RGBA32F: (min signed CoC, max signed CoC, largest sprite |CoC| or 0, 0), px."""

    shader = "tiles.frag"
    outputs = ((4, "f4"),)
    filter = moderngl.NEAREST

    def run(
        self, half_color: moderngl.Texture, highlight: moderngl.Texture, full_size: tuple[int, int]
    ) -> moderngl.Texture:
        self.draw(tile_grid(*full_size), {"half_color": half_color, "highlight": highlight})
        return self.output
