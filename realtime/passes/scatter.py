"""Scatter pass: highlight sprites (points) into two full-res additive layers."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass


class Scatter(FullscreenPass):
    """Two RGBA32F full-res targets, additive: rgb sprite light per px, a = 0.

    0: sprites in front of the focal plane (CoC <= -SCATTER_MIN_COC); 1: the others.

    One point per tile; the geometry stage turns the highlights the setup
    pass split off into point sprites.
    """

    shader = "scatter.frag"
    vertex = "scatter.vert"
    geometry = "scatter.geom"
    outputs = ((4, "f4"), (4, "f4"))

    def run(
        self,
        prepared: moderngl.Texture,
        highlight: moderngl.Texture,
        tiles: moderngl.Texture,
        aperture: tuple[int, float],
    ) -> tuple[moderngl.Texture, moderngl.Texture]:
        self._allocate(prepared.size)
        assert self.fbo is not None
        self.fbo.use()
        self.fbo.clear(0.0, 0.0, 0.0, 0.0)
        prepared.use(0)
        highlight.use(1)
        self.set("prepared", 0)
        self.set("highlight", 1)
        tiles.use(2)
        self.set("tiles", 2)
        self.set("full_size", prepared.size)
        self.set("blades", aperture[0])
        self.set("blade_rotation", aperture[1])
        self.ctx.enable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        self.ctx.blend_func = moderngl.ONE, moderngl.ONE
        w, h = tiles.size
        self.vao.render(moderngl.POINTS, vertices=w * h)
        self.ctx.disable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        self.ctx.blend_func = moderngl.DEFAULT_BLENDING  # type: ignore[assignment]
        return self.textures[0], self.textures[1]
