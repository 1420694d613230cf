"""The bench's baselines: the cost floor and the brute-force gather, one full-res pass each.

`rackfocus bench` measures the pass chain against these two; nothing else uses
them, so they live beside the bench, not in `realtime/passes/` (the chain), and
their shaders under shaders/bench/.
"""

from __future__ import annotations

import math

import moderngl

from realtime.lens import Lens
from realtime.passes.base import FullscreenPass


class _FullResPass(FullscreenPass):
    """Full-res RGBA32F: linear RGB, a = 1, drawn from the uploaded colour and depth."""

    outputs = ((4, "f4"),)

    def run(
        self,
        color: moderngl.Texture,
        depth: moderngl.Texture,
        lens: Lens,
        rows: tuple[int, int] | None = None,
    ) -> moderngl.Texture:
        """Draw the pass; `rows` = (first, count) restricts it to a band (scissor)."""
        uniforms = {
            "coc_params": lens.coc_scale_bias(color.size[0]),
            "blades": lens.blades,
            "blade_rotation": math.radians(lens.blade_rotation_deg),
        }
        if rows is not None:
            self.ctx.scissor = (0, rows[0], color.size[0], rows[1])
        self.draw(color.size, {"color": color, "depth": depth}, uniforms)
        self.ctx.scissor = None
        return self.output


class Floor(_FullResPass):
    """One full-res pass reading colour and depth and writing RGBA32F: the cost floor."""

    shader = "bench/floor.frag"


class BruteForce(_FullResPass):
    """Full-res gather over the whole largest CoC disc, with the pipeline's depth rules."""

    shader = "bench/brute.frag"
