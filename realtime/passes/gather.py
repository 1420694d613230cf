"""Gather pass: two-layer scatter-as-gather over the ring kernel, at half res, from the
setup texture and its pyramid levels."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass
from realtime.passes.kernel import ring_kernel


class Gather(FullscreenPass):
    """Two RGBA32F half-res targets.

    0 (foreground): rgb premultiplied, a = coverage (the share fg_share(CoC) of near discs);
    1 (background): rgb normalised, a = centre signed CoC (for the upsample).
    R32F (weight): the share of the discs reaching a pixel that lie behind the
    foreground layer's share of them (1 where no foreground is near): the
    background is normalised by it, and the composite scales sprites by it too.
    """

    shader = "gather.frag"
    outputs = ((4, "f4"), (4, "f4"), (1, "f4"))

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        super().__init__(ctx, defines)
        self.aperture: tuple[int, float] | None = None

    def set_aperture(self, blades: int, rotation_deg: float) -> None:
        """Upload the kernel for this aperture shape (only when it changes)."""
        if self.aperture != (blades, rotation_deg):
            self.uniform("ring_taps").write(ring_kernel(blades, rotation_deg).tobytes())
            self.aperture = (blades, rotation_deg)

    def run(
        self,
        setup: tuple[moderngl.Texture, moderngl.Texture],
        levels: int,
        reach: moderngl.Texture,
        blades: int,
    ) -> tuple[moderngl.Texture, moderngl.Texture, moderngl.Texture]:
        """`setup`: the Setup pass's (half_color, highlight), half_color with its first
        `levels` pyramid levels filled (the Pyramid pass)."""
        half_color, highlight = setup
        inputs = {"half_color": half_color, "highlight": highlight, "reach": reach}
        self.draw(half_color.size, inputs, {"blades": blades, "top_level": levels})
        return self.textures[0], self.textures[1], self.textures[2]
