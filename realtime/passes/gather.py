"""Gather pass: two-layer scatter-as-gather over the ring kernel, at half res."""

from __future__ import annotations

import moderngl

from realtime.passes.base import FullscreenPass
from realtime.passes.kernel import ring_kernel


class Gather(FullscreenPass):
    """Two RGBA32F half-res targets.

    0 (foreground): rgb premultiplied, a = coverage (the share fg_share(CoC) of near discs);
    1 (background): rgb normalised, a = centre signed CoC (for the upsample).
    """

    shader = "gather.frag"
    outputs = ((4, "f4"), (4, "f4"))

    def __init__(self, ctx: moderngl.Context, defines: dict[str, object]):
        super().__init__(ctx, defines)
        self.aperture: tuple[int, float] | None = None

    def set_aperture(self, blades: int, rotation_deg: float) -> None:
        """Upload the kernel for this aperture shape (only when it changes)."""
        if self.aperture != (blades, rotation_deg):
            self.uniform("ring_taps").write(ring_kernel(blades, rotation_deg).tobytes())
            self.aperture = (blades, rotation_deg)

    def run(
        self, half_color: moderngl.Texture, reach: moderngl.Texture, blades: int
    ) -> tuple[moderngl.Texture, moderngl.Texture]:
        self.draw(half_color.size, {"half_color": half_color, "reach": reach}, {"blades": blades})
        return self.textures[0], self.textures[1]
