"""Pyramid pass: the half-res setup texture filtered to wider boxes, for wide gathers."""

from __future__ import annotations

import moderngl

from realtime.gl.shaders import program
from realtime.passes.base import FullscreenPass, Size
from realtime.passes.constants import (
    LEVEL_COLUMNS,
    OUTER_START,
    PYRAMID_LEVELS,
    RING_SPACING,
)


def levels_needed(largest_coc_px: float) -> int:
    """Pyramid levels a gather over blur up to `largest_coc_px` reads: the kernel's level
    l >= 1 (spacing RING_SPACING * 2^l) starts at OUTER_START of its spacings, where some
    disc of that radius must reach for it to be read (gather.frag's level_reached)."""
    radius = 0.5 * largest_coc_px
    levels = 0
    while levels < PYRAMID_LEVELS and radius > OUTER_START * RING_SPACING * 2 ** (levels + 1):
        levels += 1
    return levels


def level_origin(level: int, size: Size) -> tuple[int, int]:
    """Where level `level` (0 = the half-res texture) of a half-res `size` lies in the
    Pyramid's texture: LEVEL_COLUMNS levels a row, in order (gather.frag's kernel_at
    places them the same way)."""
    return (level % LEVEL_COLUMNS) * size[0], (level // LEVEL_COLUMNS) * size[1]


def texture_size(size: Size) -> Size:
    """The Pyramid's texture for a half-res `size`: PYRAMID_LEVELS + 1 levels."""
    rows = -(-(PYRAMID_LEVELS + 1) // LEVEL_COLUMNS)
    return LEVEL_COLUMNS * size[0], rows * size[1]


class Pyramid(FullscreenPass):
    """One RGBA32F texture holding the half-res setup texture and its levels side by side
    (level_origin), all at half res: level l's texel j holds, at
    about the farthest depth among them, the mean of the 2^l x 2^l half-res texels
    centred on its lower-left corner; rgb linear, a = that farthest signed CoC
    (full-res px).

    A texture cannot be drawn into while it is read: a level whose level below lies in
    the texture is drawn into a scratch target and copied into its place; the next one is
    drawn from that scratch target straight into its place (so levels 1, 3, 5 need no
    copy).
    """

    shader = "pyramid.frag"
    outputs = ((4, "f4"),)  # the scratch level
    filter = moderngl.NEAREST

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        super().__init__(ctx, defines)
        self.copy = program(ctx, "copy.frag", defines=defines)
        self.copy_vao = ctx.vertex_array(self.copy, [])
        self.levels: moderngl.Texture | None = None
        self.levels_fbo: moderngl.Framebuffer | None = None

    def _levels(self, size: Size) -> moderngl.Texture:
        if self.levels is None or self.levels.size != texture_size(size):
            self._release_levels()
            self.levels = self.ctx.texture(texture_size(size), 4, dtype="f4")
            self.levels.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self.levels_fbo = self.ctx.framebuffer(color_attachments=[self.levels])
        return self.levels

    def _copy_into_place(self, source: moderngl.Texture, level: int) -> None:
        assert self.levels_fbo is not None
        origin = level_origin(level, source.size)
        self.levels_fbo.use()
        self.levels_fbo.viewport = (*origin, *source.size)
        source.use(0)
        self.copy["source"] = 0
        self.copy["origin"] = origin
        self.copy_vao.render(moderngl.TRIANGLES, vertices=3)

    def run(
        self, half_color: moderngl.Texture, levels: int = PYRAMID_LEVELS
    ) -> tuple[moderngl.Texture, int]:
        """The texture holding `half_color` and its first `levels` levels (the gather
        reads no coarser one than its largest kernel needs) and how many levels it
        holds: with none, `half_color` itself."""
        levels = min(levels, PYRAMID_LEVELS)
        if levels <= 0:
            return half_color, 0
        texture = self._levels(half_color.size)
        assert self.levels_fbo is not None
        self._copy_into_place(half_color, 0)
        size = half_color.size
        finer, finer_origin = half_color, (0, 0)
        for level in range(1, levels + 1):
            # level 1: the 2x2 texels around a corner; above: the four boxes of the
            # level below centred half a box (2^(l-2) texels) to either side
            half_box = 2 ** (level - 2) if level > 1 else 0
            uniforms = {
                "finer_origin": finer_origin,
                "last": (size[0] - 1, size[1] - 1),
                "offsets": (-max(half_box, 1), half_box),
            }
            if finer is not texture:
                # the level below lies elsewhere: draw this one straight into place
                origin = level_origin(level, size)
                self.bind({"finer": finer}, {**uniforms, "coarser_origin": origin})
                self.levels_fbo.use()
                self.levels_fbo.viewport = (*origin, *size)
                self.vao.render(moderngl.TRIANGLES, vertices=3)
                finer, finer_origin = texture, origin
            else:
                self.draw(size, {"finer": texture}, {**uniforms, "coarser_origin": (0, 0)})
                self._copy_into_place(self.output, level)
                finer, finer_origin = self.output, (0, 0)
        return texture, levels

    def _release_levels(self) -> None:
        if self.levels_fbo is not None:
            self.levels_fbo.release()
            self.levels_fbo = None
        if self.levels is not None:
            self.levels.release()
            self.levels = None

    def release(self) -> None:
        self._release_levels()
        super().release()
        self.copy_vao.release()
        self.copy.release()
