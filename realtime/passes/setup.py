"""Setup pass: full-res colour + depth -> half-res colour with signed CoC."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass, Size


class Setup(FullscreenPass):
    """Two RGBA16F half-res targets, a = signed CoC diameter (full-res px, < 0 near).

    0: colour (rgb linear, highlights removed); 1: highlight excess to scatter.
    """

    shader = "setup.frag"
    outputs = ((4, "f4"), (4, "f4"))
    # Gather taps must not blend colours and CoCs across depth edges.
    filter = moderngl.NEAREST

    def run(self, prepared: moderngl.Texture) -> tuple[moderngl.Texture, moderngl.Texture]:
        w, h = prepared.size
        half: Size = ((w + 1) // 2, (h + 1) // 2)
        self.draw(half, {"prepared": prepared})
        return self.textures[0], self.textures[1]
