"""A full-screen pass: one fragment shader drawn over one (or more) render targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import moderngl

from realtime.gl.shaders import program

Size = tuple[int, int]


class FullscreenPass:
    """Owns its program and output textures; reallocates them only when the size changes.

    Subclasses set `shader` (file name in shaders/) and `outputs` (a dtype and
    component count per colour attachment: (4, "f4") is RGBA32F) and call
    `draw`. A subclass's docstring is the one place its targets' format and
    channel layout are written down; the shaders that read them name the pass.
    """

    shader: str = ""
    vertex: str = "fullscreen.vert"
    geometry: str | None = None
    outputs: Sequence[tuple[int, str]] = ((4, "f4"),)  # (components, dtype) per attachment
    filter: int = moderngl.LINEAR

    def __init__(self, ctx: moderngl.Context, defines: Mapping[str, object] | None = None):
        self.ctx = ctx
        self.program = program(ctx, self.shader, self.vertex, defines, self.geometry)
        self.vao = ctx.vertex_array(self.program, [])
        self.size: Size = (0, 0)
        self.textures: list[moderngl.Texture] = []
        self.fbo: moderngl.Framebuffer | None = None

    def _allocate(self, size: Size) -> None:
        if size == self.size and self.fbo is not None:
            return
        self.release_targets()
        self.textures = []
        for components, dtype in self.outputs:
            tex = self.ctx.texture(size, components, dtype=dtype)
            tex.filter = (self.filter, self.filter)
            tex.repeat_x = tex.repeat_y = False
            self.textures.append(tex)
        self.fbo = self.ctx.framebuffer(color_attachments=self.textures)
        self.size = size

    @property
    def output(self) -> moderngl.Texture:
        """The first colour attachment."""
        return self.textures[0]

    def draw(
        self,
        size: Size,
        inputs: Mapping[str, moderngl.Texture],
        uniforms: Mapping[str, object] | None = None,
    ) -> None:
        """Bind `inputs` to the sampler uniforms of the same names and draw the
        full-screen triangle at `size`."""
        self._allocate(size)
        assert self.fbo is not None
        self.bind(inputs, uniforms)
        self.fbo.use()
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def bind(
        self, inputs: Mapping[str, moderngl.Texture], uniforms: Mapping[str, object] | None = None
    ) -> None:
        """Bind `inputs` to the sampler uniforms of the same names and set `uniforms`."""
        for unit, (name, tex) in enumerate(inputs.items()):
            tex.use(unit)
            self.set(name, unit)
        for name, value in (uniforms or {}).items():
            self.set(name, value)

    def uniform(self, name: str) -> moderngl.Uniform:
        return cast(moderngl.Uniform, self.program[name])

    def set(self, name: str, value: object) -> None:
        """Set a uniform; names the compiler optimised away are ignored."""
        if name in self.program:
            self.uniform(name).value = value

    def release_targets(self) -> None:
        if self.fbo is not None:
            self.fbo.release()
        for tex in self.textures:
            tex.release()
        self.fbo = None
        self.textures = []

    def release(self) -> None:
        self.release_targets()
        self.vao.release()
        self.program.release()
