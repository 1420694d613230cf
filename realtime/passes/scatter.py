"""Scatter pass: highlight sprites (points) added into half-res layer targets."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Scatter(FullscreenPass):
    """Two RGBA16F half-res targets, additive: 0 foreground sprites, 1 background sprites.

    One point per half-res texel; the vertex stage culls all but the
    highlights the setup pass split off.
    """

    shader = "scatter.frag"
    vertex = "scatter.vert"
    outputs = ((4, "f2"), (4, "f2"))

    def run(
        self,
        half_color: moderngl.Texture,
        highlight: moderngl.Texture,
        coc_params: tuple[float, float],
        aperture: tuple[int, float],
    ) -> tuple[moderngl.Texture, moderngl.Texture]:
        size = half_color.size
        self._allocate(size)
        assert self.fbo is not None
        self.fbo.use()
        self.fbo.clear(0.0, 0.0, 0.0, 0.0)
        half_color.use(0)
        highlight.use(1)
        self.set("half_color", 0)
        self.set("highlight", 1)
        self.set("blades", aperture[0])
        self.set("blade_rotation", aperture[1])
        self.ctx.enable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        self.ctx.blend_func = moderngl.ONE, moderngl.ONE
        self.vao.render(moderngl.POINTS, vertices=size[0] * size[1])
        self.ctx.disable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        return self.textures[0], self.textures[1]
