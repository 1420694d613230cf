"""Gather pass: two-layer scatter-as-gather over the nested ring kernel, at half res, from
the setup texture and its pyramid levels."""

from __future__ import annotations

from typing import cast

import moderngl

from realtime.gl.shaders import program
from realtime.passes.base import FullscreenPass
from realtime.passes.kernel import ring_spans, ring_walks, tap_scales


class Gather(FullscreenPass):
    """Two RGBA32F half-res targets.

    0 (foreground): rgb premultiplied, a = coverage (the share fg_share(CoC) of near discs);
    1 (background): rgb normalised, a = centre signed CoC (for the upsample).
    R32F (weight): the share of the discs reaching a pixel that lie behind the
    foreground layer's share of them (1 where no foreground is near): the
    background is normalised by it, and the composite scales sprites by it too.

    Programs from gather.frag, compiled as frames first need them: one for a circular
    aperture (a tap's annulus is its ring's) and one for a polygon (scaled tap by tap,
    POLYGON_APERTURE).
    """

    shader = "gather.frag"
    outputs = ((4, "f4"), (4, "f4"), (1, "f4"))

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        self.defines = defines
        super().__init__(ctx, self._defines(polygon=False))
        self.programs: dict[bool, tuple[moderngl.Program, moderngl.VertexArray]] = {}
        self._add(False, self.program, self.vao)
        self.aperture: tuple[int, float] | None = None  # the polygon program's scales'

    def _defines(self, polygon: bool) -> dict[str, object]:
        return {**self.defines, "POLYGON_APERTURE": int(polygon)}

    def _add(self, polygon: bool, prog: moderngl.Program, vao: moderngl.VertexArray) -> None:
        cast(moderngl.Uniform, prog["ring_walks"]).write(ring_walks().tobytes())
        cast(moderngl.Uniform, prog["ring_spans"]).write(ring_spans().tobytes())
        self.programs[polygon] = (prog, vao)

    def _use(self, blades: int, rotation_deg: float) -> None:
        """Draw with the program for this aperture, a polygon's tap scales uploaded."""
        polygon = blades != 0
        if polygon not in self.programs:
            prog = program(self.ctx, self.shader, self.vertex, self._defines(polygon))
            self._add(polygon, prog, self.ctx.vertex_array(prog, []))
        self.program, self.vao = self.programs[polygon]
        if polygon and self.aperture != (blades, rotation_deg):
            scales = tap_scales(blades, rotation_deg)
            cast(moderngl.Uniform, self.program["tap_scales"]).write(scales.tobytes())
            self.aperture = (blades, rotation_deg)

    def run(
        self,
        setup: tuple[moderngl.Texture, moderngl.Texture],
        pyramid: tuple[moderngl.Texture, int],
        reach: moderngl.Texture,
        lens_shape: tuple[int, float],
    ) -> tuple[moderngl.Texture, moderngl.Texture, moderngl.Texture]:
        """`setup`: the Setup pass's (half_color, highlight); `pyramid`: the Pyramid
        pass's texture and how many levels it holds; `lens_shape`: the aperture's blades
        (0: circular) and their rotation (degrees)."""
        half_color, highlight = setup
        levels, top_level = pyramid
        blades, rotation_deg = lens_shape
        self._use(blades, rotation_deg)
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
        for prog, vao in self.programs.values():
            vao.release()
            prog.release()
