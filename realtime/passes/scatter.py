"""Scatter pass: highlight sprites (points) into two full-res additive layers."""

from __future__ import annotations

import moderngl

from realtime.gl.shaders import program
from realtime.lens import MAX_COC_LIMIT_PX
from realtime.passes.base import FullscreenPass, Size
from realtime.passes.constants import HALF_TILE, SPRITE_HALF_MIN, TILE_SIZE


class Scatter(FullscreenPass):
    """Two RGBA32F full-res targets and two half-res ones, additive: rgb sprite light
    per full-res px; a = 0 (foreground) or the lights' weight in a normalised gather
    (background: per full-res px, the sum of cover / disc area).

    0: sprites in front of the focal plane (CoC <= -SCATTER_MIN_COC); 1: the others.
    Sprites of |CoC| from SPRITE_HALF_MIN move to the half-res pair (`half_res`),
    wholly from SPRITE_HALF_FULL: a large disc costs a quarter of the pixels there
    and its edge, a few px wide, is as clean. From SPRITE_MERGE_MIN (wholly from
    SPRITE_MERGE_FULL) the sprites of each 2x2 group of half-res texels are drawn
    there as one disc, its edge ramping over the group's spread: a light a few
    texels wide then costs one disc, not one per texel.

    One point per tile; the geometry stage turns the highlights the setup
    pass split off into point sprites. The layers are zeroed only in the tiles
    the dilate pass flags SPRITES (sprite_tiles.vert): the composite reads
    them nowhere else, and zeroing four RGBA32F targets whole costs more than
    drawing the sprites.
    """

    shader = "scatter.frag"
    vertex = "scatter.vert"
    geometry = "scatter.geom"
    outputs = ((4, "f4"), (4, "f4"))

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        super().__init__(ctx, defines)
        self.zero = program(ctx, "zero.frag", "sprite_tiles.vert", defines)
        self.zero_vao = ctx.vertex_array(self.zero, [])
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
        reach: moderngl.Texture,
        aperture: tuple[int, float],
        largest_coc: float = MAX_COC_LIMIT_PX,
    ) -> tuple[moderngl.Texture, ...]:
        """(full-res fg, full-res bg, half-res fg, half-res bg) sprite layers, zero (or
        sprites) in the tiles `reach` (Dilate) flags SPRITES; elsewhere undefined.

        `setup`: the Setup pass's (half_color, highlight); `largest_coc`: the frame's
        largest |CoC| (px): below SPRITE_HALF_MIN nothing is drawn at half res.
        """
        self._allocate(prepared.size)
        assert self.fbo is not None and self.half_fbo is not None and self.half_res is not None
        w, h = tiles.size
        draw_half = largest_coc >= SPRITE_HALF_MIN
        inputs = {"prepared": prepared, "half_color": setup[0], "highlight": setup[1]}
        uniforms = {
            "full_size": prepared.size,
            "blades": aperture[0],
            "blade_rotation": aperture[1],
        }
        for fbo, half_res in ((self.fbo, 0), (self.half_fbo, 1)):
            if half_res and not draw_half:
                if self.half_drawn:  # clear what an earlier frame drew there
                    fbo.use()
                    fbo.clear(0.0, 0.0, 0.0, 0.0)
                    self.half_drawn = False
                continue
            # the composite reads the half-res layers bilinearly, one texel past a tile
            tile_px, margin = (HALF_TILE, 1) if half_res else (TILE_SIZE, 0)
            self._zero_sprite_tiles(fbo, reach, tile_px, margin)
            # bound after the zeroing, whose program took texture unit 0
            self.bind({**inputs, "tiles": tiles}, {**uniforms, "half_res": half_res})
            self.ctx.enable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
            self.ctx.blend_func = moderngl.ONE, moderngl.ONE
            self.vao.render(moderngl.POINTS, vertices=w * h)
            self.ctx.disable(moderngl.BLEND | moderngl.PROGRAM_POINT_SIZE)
            self.ctx.blend_func = moderngl.DEFAULT_BLENDING  # type: ignore[assignment]
            self.half_drawn = self.half_drawn or half_res == 1
        return (self.textures[0], self.textures[1], *self.half_res)

    def _zero_sprite_tiles(
        self, fbo: moderngl.Framebuffer, reach: moderngl.Texture, tile_px: int, margin: int
    ) -> None:
        """Zero `fbo`'s targets over the SPRITES tiles of `reach` (tiles of `tile_px`
        target px, widened by `margin` px on every side), then draw into all of it."""
        size = fbo.size
        grid = (reach.size[0] * tile_px, reach.size[1] * tile_px)
        fbo.viewport = (0, 0, *grid)  # every tile's centre inside, as in the composite
        fbo.use()
        reach.use(0)
        self.zero["reach"] = 0
        self.zero["grid_size"] = grid
        self.ctx.point_size = tile_px + 2 * margin
        self.zero_vao.render(moderngl.POINTS, vertices=reach.size[0] * reach.size[1])
        fbo.viewport = (0, 0, *size)
        fbo.use()

    def _release_half(self) -> None:
        if self.half_fbo is not None:
            self.half_fbo.release()
            self.half_fbo = None
        for tex in self.half_res or ():
            tex.release()
        self.half_res = None

    def release(self) -> None:
        super().release()
        self.zero_vao.release()
        self.zero.release()

    def release_targets(self) -> None:
        self._release_half()
        super().release_targets()
