"""Pyramid pass: mip levels of the half-res setup texture, for wide gathers."""

from __future__ import annotations

import math

import moderngl

from realtime.passes.base import FullscreenPass, Size
from realtime.passes.constants import (
    BACKGROUND_LEVEL_ROUND,
    KERNEL_RINGS,
    PYRAMID_LEVELS,
    RING_SPACING,
)


def level_sizes(size: Size, levels: int = PYRAMID_LEVELS) -> list[Size]:
    """Sizes of the mip levels below `size`, each half (rounded down, at least 1), up to
    `levels` of them or the 1x1 level, whichever comes first (GL has none past it)."""
    sizes: list[Size] = []
    w, h = size
    while len(sizes) < levels and (w, h) != (1, 1):
        w, h = max(1, w // 2), max(1, h // 2)
        sizes.append((w, h))
    return sizes


def levels_needed(largest_coc_px: float) -> int:
    """Pyramid levels a gather over blur up to `largest_coc_px` reads: gather.frag's
    kernel_for at the largest radius, its background's rounding (BACKGROUND_LEVEL_ROUND)."""
    spacing = max(RING_SPACING, 0.5 * largest_coc_px / KERNEL_RINGS)
    level = math.floor(math.log2(spacing / RING_SPACING) + BACKGROUND_LEVEL_ROUND)
    return min(PYRAMID_LEVELS, level)


class Pyramid(FullscreenPass):
    """Fills mip levels 1..PYRAMID_LEVELS of the Setup pass's half_color texture (which
    allocates them): level l, RGBA32F at 1 / 2^l of half res, rgb linear, the mean of the
    2x2 texels below at about the farthest one's depth; a = that farthest signed CoC
    (full-res px).

    GL cannot draw into a mip level through moderngl, so each level is drawn into a
    scratch target of its size and copied in through a pixel buffer (on a GPU the copy
    stays on the GPU).
    """

    shader = "pyramid.frag"
    outputs = ()
    filter = moderngl.NEAREST

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        super().__init__(ctx, defines)
        self.fbos: list[moderngl.Framebuffer] = []
        self.buffer: moderngl.Buffer | None = None

    def _levels(self, sizes: list[Size]) -> None:
        if [t.size for t in self.textures] == sizes:
            return
        self.release_targets()
        for size in sizes:
            tex = self.ctx.texture(size, 4, dtype="f4")
            self.textures.append(tex)
            self.fbos.append(self.ctx.framebuffer(color_attachments=[tex]))
        if sizes:
            self.buffer = self.ctx.buffer(reserve=sizes[0][0] * sizes[0][1] * 16)

    def run(self, half_color: moderngl.Texture, levels: int = PYRAMID_LEVELS) -> int:
        """Fill the first `levels` levels of `half_color` (which must have them; the
        gather reads no coarser level than its largest kernel needs); returns how many
        it filled."""
        self._levels(level_sizes(half_color.size))
        half_color.use(0)
        self.set("finer", 0)
        filled = min(levels, len(self.fbos))
        for level, fbo in enumerate(self.fbos[:filled], start=1):
            self.set("finer_level", level - 1)
            fbo.use()
            self.vao.render(moderngl.TRIANGLES, vertices=3)
            assert self.buffer is not None
            fbo.read_into(self.buffer, components=4, dtype="f4")
            half_color.write(self.buffer, level=level)
        return filled

    def release_targets(self) -> None:
        for fbo in self.fbos:
            fbo.release()
        self.fbos = []
        if self.buffer is not None:
            self.buffer.release()
            self.buffer = None
        super().release_targets()
