"""Prepare pass: full-res colour and signed CoC in one RGBA32F texture."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Prepare(FullscreenPass):
    """Full-res RGBA32F: rgb linear (the input, exactly), a = signed CoC diameter (px)."""

    shader = "prepare.frag"
    outputs = ((4, "f4"),)
    filter = moderngl.NEAREST

    def run(
        self, color: moderngl.Texture, depth: moderngl.Texture, coc_params: tuple[float, float]
    ) -> moderngl.Texture:
        self.draw(color.size, {"color": color, "depth": depth}, {"coc_params": coc_params})
        return self.output
