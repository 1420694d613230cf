"""Composite pass: the layers over the slight-focus resolve, one program per tile class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import moderngl

from realtime.gl.shaders import program
from realtime.passes.base import FullscreenPass
from realtime.passes.constants import TILE_FLAG_COMBINATIONS, TILE_SIZE
from realtime.passes.kernel import slight_orbits
from realtime.passes.tiles import tile_grid


class Composite(FullscreenPass):
    """Full-res RGBA32F: linear RGB, a = 1.

    Tiles are drawn as points TILE_SIZE px wide by programs compiled from
    composite.frag: one for tiles no blur reaches, one for each combination
    of the dilate pass's tile flags. Each program's vertex stage keeps only
    the tiles of its class.
    """

    shader = "composite.frag"
    vertex = "composite.vert"
    outputs = ((4, "f4"),)

    def __init__(self, ctx: moderngl.Context, defines: Mapping[str, object]):
        super().__init__(ctx, {**defines, "COPY_TILES": 1, "TILE_FLAGS": 0})
        blurred = [
            {**defines, "COPY_TILES": 0, "TILE_FLAGS": f} for f in range(TILE_FLAG_COMBINATIONS)
        ]
        self.programs = [self.program] + [
            program(ctx, self.shader, self.vertex, d) for d in blurred
        ]
        self.vaos = [self.vao] + [ctx.vertex_array(p, []) for p in self.programs[1:]]
        orbits = slight_orbits().tobytes()
        for prog in self.programs:
            if "slight_orbits" in prog:
                cast(moderngl.Uniform, prog["slight_orbits"]).write(orbits)
        self.program, self.vao = self.programs[0], self.vaos[0]

    def run(
        self,
        prepared: moderngl.Texture,
        layers: tuple[moderngl.Texture, moderngl.Texture, moderngl.Texture],
        sprites: tuple[moderngl.Texture, ...],
        reach: moderngl.Texture,
        blades: int,
    ) -> moderngl.Texture:
        inputs = {
            "prepared": prepared,
            "foreground": layers[0],
            "background": layers[1],
            "weight": layers[2],
            "sprites_fg": sprites[0],
            "sprites_bg": sprites[1],
            "sprites_half_fg": sprites[2],
            "sprites_half_bg": sprites[3],
            "reach": reach,
        }
        tiles_x, tiles_y = tile_grid(*prepared.size)
        grid = (tiles_x * TILE_SIZE, tiles_y * TILE_SIZE)
        self._allocate(prepared.size)
        assert self.fbo is not None
        # the viewport spans whole tiles, so every tile's centre lies inside it
        # (a point whose centre lies outside is not drawn)
        self.fbo.viewport = (0, 0, *grid)
        self.fbo.use()
        self.ctx.point_size = TILE_SIZE
        for prog, vao in zip(self.programs, self.vaos, strict=True):
            self.program, self.vao = prog, vao
            self.bind(inputs, {"grid_size": grid, "blades": blades})
            vao.render(moderngl.POINTS, vertices=tiles_x * tiles_y)
        return self.output

    def release(self) -> None:
        self.release_targets()
        for vao, prog in zip(self.vaos, self.programs, strict=True):
            vao.release()
            prog.release()
