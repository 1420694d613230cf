"""Scatter pass: highlight sprites (points) into two full-res additive layers."""

from __future__ import annotations

import moderngl

from realtime.lens import MAX_COC_LIMIT_PX
from realtime.passes.base import FullscreenPass, Size
from realtime.passes.constants import SPRITE_HALF_MIN


class Scatter(FullscreenPass):
    """Two RGBA32F full-res targets and two half-res ones, additive: rgb sprite light
    per full-res px; a = 0 (foreground) or the lights' weight in a normalised gather
    (background: per full-res px, the sum of cover / disc area).

    0: sprites in front of the focal plane (CoC <= -SCATTER_MIN_COC); 1: the others.
    Sprites of |CoC| from SPRITE_HALF_MIN move to the half-res pair (`half_res`),
    wholly from SPRITE_HALF_FULL: a large disc costs a quarter of the pixels there
    and its edge, a few px wide, is as clean.

    One point per tile; the geometry stage turns the highlights the setup
    pass split off into point sprites.
    """

    shader = "scatter.frag"
    vertex = "scatter.vert"
    geometry = "scatter.geom"
    outputs = ((4, "f4"), (4, "f4"))

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        super().__init__(ctx, defines)
        self.half_res: tuple[moderngl.Texture, moderngl.Texture] | None = None
        self.half_fbo: moderngl.Framebuffer | None = None
        self.half_drawn = True  # whether the half-res layers may hold sprites

    def _allocate(self, size: Size) -> None:
        fresh = size != self.size or self.fbo is None
        super()._allocate(size)
        if fresh:
            self._release_half()
            half = ((size[0] + 1) // 2, (size[1] + 1) // 2)
            textures = []
            for _ in range(2):
                tex = self.ctx.texture(half, 4, dtype="f4")
                tex.repeat_x = tex.repeat_y = False
                textures.append(tex)
            self.half_res = (textures[0], textures[1])
            self.half_fbo = self.ctx.framebuffer(color_attachments=textures)
            self.half_drawn = True

    def run(
        self,
        prepared: moderngl.Texture,
        setup: tuple[moderngl.Texture, moderngl.Texture],
        tiles: moderngl.Texture,
        aperture: tuple[int, float],
        largest_coc: float = MAX_COC_LIMIT_PX,
    ) -> tuple[moderngl.Texture, ...]:
        """(full-res fg, full-res bg, half-res fg, half-res bg) sprite layers.

        `setup`: the Setup pass's (half_color, highlight); `largest_coc`: the frame's
        largest |CoC| (px): below SPRITE_HALF_MIN nothing is drawn at half res.
        """
        self._allocate(prepared.size)
        assert self.fbo is not None and self.half_fbo is not None and self.half_res is not None
        for unit, (name, tex) in enumerate(
            (
                ("prepared", prepared),
                ("half_color", setup[0]),
                ("highlight", setup[1]),
                ("tiles", tiles),
            )
        ):
            tex.use(unit)
            self.set(name, unit)
        self.set("full_size", prepared.size)
        self.set("blades", aperture[0])
        self.set("blade_rotation", aperture[1])
        self.ctx.enable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        self.ctx.blend_func = moderngl.ONE, moderngl.ONE
        w, h = tiles.size
        draw_half = largest_coc >= SPRITE_HALF_MIN
        for fbo, half_res in ((self.fbo, 0), (self.half_fbo, 1)):
            if half_res and not draw_half:
                if self.half_drawn:  # clear what an earlier frame drew there
                    fbo.use()
                    fbo.clear(0.0, 0.0, 0.0, 0.0)
                    self.half_drawn = False
                continue
            fbo.use()
            fbo.clear(0.0, 0.0, 0.0, 0.0)
            self.set("half_res", half_res)
            self.vao.render(moderngl.POINTS, vertices=w * h)
            self.half_drawn = self.half_drawn or half_res == 1
        self.ctx.disable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
        self.ctx.blend_func = moderngl.DEFAULT_BLENDING  # type: ignore[assignment]
        return (self.textures[0], self.textures[1], *self.half_res)

    def _release_half(self) -> None:
        if self.half_fbo is not None:
            self.half_fbo.release()
            self.half_fbo = None
        for tex in self.half_res or ():
            tex.release()
        self.half_res = None

    def release_targets(self) -> None:
        self._release_half()
        super().release_targets()
