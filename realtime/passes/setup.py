"""Setup pass: the prepared full-res image -> half-res colour and highlights, with signed CoC."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass, Size


class Setup(FullscreenPass):
    """Two RGBA32F half-res targets; a = signed CoC diameter of the block's nearest pixel.

    0 (half_color): rgb linear, the mean of the 2x2 block's pixels near that
    depth, highlights removed; a = signed CoC (full-res px, < 0 in front of focus).
    1 (highlight): rgb excess to scatter as a sprite (0 if none); a = the share of the
    block at that depth (the sum of its pixels' weights / 4): the foreground gather
    counts an edge texel's disc by it.
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
