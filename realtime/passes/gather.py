"""Gather pass: two-layer scatter-as-gather over the ring kernels, at half res, from the
setup texture and its pyramid levels."""

from __future__ import annotations

from typing import cast

import moderngl

from realtime.gl.shaders import program
from realtime.passes.base import FullscreenPass
from realtime.passes.kernel import ring_kernel


class Gather(FullscreenPass):
    """Two RGBA32F half-res targets.

    0 (foreground): rgb premultiplied, a = coverage (the share fg_share(CoC) of near discs);
    1 (background): rgb normalised, a = centre signed CoC (for the upsample).
    R32F (weight): the share of the discs reaching a pixel that lie behind the
    foreground layer's share of them (1 where no foreground is near): the
    background is normalised by it, and the composite scales sprites by it too.

    Two programs from gather.frag: one cross-fades between two kernels where a tile's
    radius asks for it (MOST_KERNELS 2), one for frames whose blur never does (1).
    """

    shader = "gather.frag"
    outputs = ((4, "f4"), (4, "f4"), (1, "f4"))

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        super().__init__(ctx, {**defines, "MOST_KERNELS": 2})
        single = program(ctx, self.shader, self.vertex, {**defines, "MOST_KERNELS": 1})
        self.programs = (single, self.program)  # indexed by whether the frame cross-fades
        self.vaos = (ctx.vertex_array(single, []), self.vao)
        self.aperture: tuple[int, float] | None = None

    def set_aperture(self, blades: int, rotation_deg: float) -> None:
        """Upload the kernel for this aperture shape (only when it changes)."""
        if self.aperture != (blades, rotation_deg):
            taps = ring_kernel(blades, rotation_deg).tobytes()
            for prog in self.programs:
                cast(moderngl.Uniform, prog["ring_taps"]).write(taps)
            self.aperture = (blades, rotation_deg)

    def run(
        self,
        setup: tuple[moderngl.Texture, moderngl.Texture],
        pyramid: tuple[moderngl.Texture, int],
        reach: moderngl.Texture,
        blades: int,
        cross_fades: bool = True,
    ) -> tuple[moderngl.Texture, moderngl.Texture, moderngl.Texture]:
        """`setup`: the Setup pass's (half_color, highlight); `pyramid`: the Pyramid
        pass's texture and how many levels it holds; `cross_fades`:
        whether a tile's radius may ask for two kernels (pyramid.cross_fades)."""
        half_color, highlight = setup
        levels, top_level = pyramid
        self.program, self.vao = self.programs[cross_fades], self.vaos[cross_fades]
        inputs = {
            "half_color": half_color,
            "highlight": highlight,
            "levels": levels,
            "reach": reach,
        }
        self.draw(half_color.size, inputs, {"blades": blades, "top_level": top_level})
        return self.textures[0], self.textures[1], self.textures[2]

    def release(self) -> None:
        self.release_targets()
        for vao, prog in zip(self.vaos, self.programs, strict=True):
            vao.release()
            prog.release()
