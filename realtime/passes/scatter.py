"""Scatter pass: highlight sprites (points) added into the gather's layers."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Scatter(FullscreenPass):
    """Adds sprites into the gather's two half-res targets (rgb only, alpha kept).

    One point per half-res texel; the vertex stage culls all but the
    highlights the setup pass split off. Owns no targets of its own.
    """

    shader = "scatter.frag"
    vertex = "scatter.vert"

    def run(
        self,
        layers: moderngl.Framebuffer,
        half_color: moderngl.Texture,
        highlight: moderngl.Texture,
        aperture: tuple[int, float],
    ) -> None:
        half_color.use(0)
        highlight.use(1)
        self.set("half_color", 0)
        self.set("highlight", 1)
        self.set("blades", aperture[0])
        self.set("blade_rotation", aperture[1])
        layers.use()
        self.ctx.enable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        # rgb += sprite; alpha (coverage, centre CoC) stays as the gather wrote it
        self.ctx.blend_func = moderngl.ONE, moderngl.ONE, moderngl.ZERO, moderngl.ONE  # type: ignore[assignment]
        w, h = half_color.size
        self.vao.render(moderngl.POINTS, vertices=w * h)
        self.ctx.disable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        self.ctx.blend_func = moderngl.DEFAULT_BLENDING  # type: ignore[assignment]
