"""Gather pass: two-layer scatter-as-gather over the ring kernels, at half res, from the
setup texture and its pyramid levels."""

from __future__ import annotations

from typing import cast

import moderngl

from realtime.gl.shaders import program
from realtime.passes.base import FullscreenPass
from realtime.passes.kernel import ring_walks, tap_distances


class Gather(FullscreenPass):
    """Two RGBA32F half-res targets.

    0 (foreground): rgb premultiplied, a = coverage (the share fg_share(CoC) of near discs);
    1 (background): rgb normalised, a = centre signed CoC (for the upsample).
    R32F (weight): the share of the discs reaching a pixel that lie behind the
    foreground layer's share of them (1 where no foreground is near): the
    background is normalised by it, and the composite scales sprites by it too.

    Programs from gather.frag, compiled as frames first need them: one that cross-fades
    between two kernels where a tile's radius asks for it (MOST_KERNELS 2) or one for
    frames whose blur never does (1), each for a circular aperture (a tap's distance is its
    ring) or a polygon (per-tap distances, POLYGON_APERTURE).
    """

    shader = "gather.frag"
    outputs = ((4, "f4"), (4, "f4"), (1, "f4"))

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        self.defines = defines
        super().__init__(ctx, self._defines(cross_fades=True, polygon=False))
        self.programs: dict[tuple[bool, bool], tuple[moderngl.Program, moderngl.VertexArray]] = {}
        self._add((True, False), self.program, self.vao)
        self.apertures: dict[tuple[bool, bool], tuple[int, float]] = {}

    def _defines(self, cross_fades: bool, polygon: bool) -> dict[str, object]:
        return {
            **self.defines,
            "MOST_KERNELS": 2 if cross_fades else 1,
            "POLYGON_APERTURE": int(polygon),
        }

    def _add(
        self, key: tuple[bool, bool], prog: moderngl.Program, vao: moderngl.VertexArray
    ) -> None:
        cast(moderngl.Uniform, prog["ring_walks"]).write(ring_walks().tobytes())
        self.programs[key] = (prog, vao)

    def _use(self, cross_fades: bool, blades: int, rotation_deg: float) -> None:
        """Draw with the program for this frame, its aperture's distances uploaded."""
        key = (cross_fades, blades != 0)
        if key not in self.programs:
            prog = program(self.ctx, self.shader, self.vertex, self._defines(*key))
            self._add(key, prog, self.ctx.vertex_array(prog, []))
        self.program, self.vao = self.programs[key]
        if key[1] and self.apertures.get(key) != (blades, rotation_deg):
            distances = tap_distances(blades, rotation_deg)
            cast(moderngl.Uniform, self.program["tap_distances"]).write(distances.tobytes())
            self.apertures[key] = (blades, rotation_deg)

    def run(
        self,
        setup: tuple[moderngl.Texture, moderngl.Texture],
        pyramid: tuple[moderngl.Texture, int],
        reach: moderngl.Texture,
        lens_shape: tuple[int, float],
        cross_fades: bool = True,
    ) -> tuple[moderngl.Texture, moderngl.Texture, moderngl.Texture]:
        """`setup`: the Setup pass's (half_color, highlight); `pyramid`: the Pyramid
        pass's texture and how many levels it holds; `lens_shape`: the aperture's blades
        (0: circular) and their rotation (degrees); `cross_fades`: whether a tile's radius
        may ask for two kernels (pyramid.cross_fades)."""
        half_color, highlight = setup
        levels, top_level = pyramid
        blades, rotation_deg = lens_shape
        self._use(cross_fades, blades, rotation_deg)
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
