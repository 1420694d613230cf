"""Composite pass: foreground over bilaterally upsampled background, at full res."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Composite(FullscreenPass):
    """Full-res RGBA32F: linear RGB, a = 1."""

    shader = "composite.frag"
    outputs = ((4, "f4"),)

    def run(
        self,
        color: moderngl.Texture,
        depth: moderngl.Texture,
        foreground: moderngl.Texture,
        background: moderngl.Texture,
        sprites: tuple[moderngl.Texture, moderngl.Texture],
        reach: moderngl.Texture,
        coc_params: tuple[float, float],
    ) -> moderngl.Texture:
        inputs = {
            "color": color,
            "depth": depth,
            "foreground": foreground,
            "background": background,
            "sprites_fg": sprites[0],
            "sprites_bg": sprites[1],
            "reach": reach,
        }
        self.draw(color.size, inputs, {"coc_params": coc_params})
        return self.output
