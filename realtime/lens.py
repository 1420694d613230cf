"""Thin-lens model: circle of confusion (CoC) from depth.

Derivation. A lens of focal length f focused at distance zf images a point at
depth z to a blur disc on the sensor of diameter

    c = A * f * |z - zf| / (z * (zf - f)),   A = f / N  (aperture diameter)

(all lengths in one unit). Since (z - zf) / z = zf * (1/zf - 1/z), the signed
diameter in pixels is affine in inverse depth:

    coc_px(z) = K * (1/zf - 1/z),   K = A * f * zf / (zf - f) / sensor_width * image_width

negative in front of the focal plane, positive behind, tending to K / zf at
infinity. Shaders evaluate it as one multiply-add: coc = bias + scale / z with
bias = K / zf and scale = -K. In artistic mode the user sets the blur at
infinity directly (K / zf = max_blur_px) and the lens constants are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from realtime.errors import InputError

MM_PER_M = 1000.0
# The largest CoC diameter the pass chain draws (its cost bound), px: as far as the gather
# kernel reaches, twice the outer edge of its coarsest level (3.5 spacings of 64 px;
# realtime.passes.constants, PYRAMID_LEVELS and KERNEL_RINGS; tests/test_passes.py checks)
MAX_COC_LIMIT_PX = 448.0


@dataclass(frozen=True)
class Lens:
    """A thin lens and its focus; every length in the unit its name says."""

    focal_length_mm: float = 50.0  # focal length f
    f_number: float = 2.0  # N: aperture diameter is f / N
    sensor_width_mm: float = 36.0  # width of the sensor the image spans
    focus_m: float = 2.0  # distance to the focal plane, metres
    artistic_blur_px: float | None = None  # if set: CoC diameter at infinity, lens ignored
    max_coc_px: float | None = None  # clamp CoC diameters to this; None: the lens's own blur
    blades: int = 0  # aperture blades; 0 = circular
    blade_rotation_deg: float = 0.0  # rotation of a bladed aperture

    def __post_init__(self) -> None:
        if not self.f_number > 0:
            raise InputError(f"f-number must be positive, got {self.f_number}")
        if not self.focal_length_mm > 0:
            raise InputError(f"focal length must be positive, got {self.focal_length_mm} mm")
        if not self.sensor_width_mm > 0:
            raise InputError(f"sensor width must be positive, got {self.sensor_width_mm} mm")
        if not self.focus_m > self.focal_length_mm / MM_PER_M:
            raise InputError(
                f"focus distance {self.focus_m} m must be beyond the focal length "
                f"({self.focal_length_mm} mm)"
            )
        if self.artistic_blur_px is not None and not self.artistic_blur_px >= 0:
            raise InputError(f"artistic blur must be >= 0 px, got {self.artistic_blur_px}")
        if self.max_coc_px is not None and not self.max_coc_px > 0:
            raise InputError(f"max CoC must be positive, got {self.max_coc_px} px")
        if self.blades != 0 and not 3 <= self.blades <= 16:
            raise InputError(f"blades must be 0 (circular) or 3..16, got {self.blades}")

    @property
    def aperture_mm(self) -> float:
        """Diameter of the entrance pupil, A = f / N."""
        return self.focal_length_mm / self.f_number

    def coc_constant_px(self, image_width: int) -> float:
        """K in coc_px(z) = K * (1/zf - 1/z), for an image `image_width` pixels wide."""
        if self.artistic_blur_px is not None:
            return self.artistic_blur_px * self.focus_m
        f_m = self.focal_length_mm / MM_PER_M
        return (
            self.aperture_mm
            * f_m
            * self.focus_m
            / (self.focus_m - f_m)
            / self.sensor_width_mm
            * image_width
        )

    def coc_scale_bias(self, image_width: int) -> tuple[float, float]:
        """(scale, bias) with coc_px = bias + scale / z: the uniforms of the CoC pass."""
        k = self.coc_constant_px(image_width)
        return -k, k / self.focus_m

    @property
    def clamp_px(self) -> float:
        """The clamp the pass chain draws with: max_coc_px, at most MAX_COC_LIMIT_PX."""
        if self.max_coc_px is None:
            return MAX_COC_LIMIT_PX
        return min(self.max_coc_px, MAX_COC_LIMIT_PX)

    def coc_px(self, depth_m: np.ndarray | float, image_width: int) -> np.ndarray:
        """Signed CoC diameter in pixels (< 0 in front of the focal plane), clamped to
        max_coc_px if one is set."""
        scale, bias = self.coc_scale_bias(image_width)
        coc = bias + scale / np.asarray(depth_m, dtype=np.float64)
        if self.max_coc_px is None:
            return coc
        return np.clip(coc, -self.max_coc_px, self.max_coc_px)

    def largest_coc_px(self, depth_range_m: tuple[float, float], image_width: int) -> float:
        """The largest |CoC| (px, unclamped) over depths in [near, far] (far may be inf):
        the CoC is monotonic in depth, so at one of the two ends."""
        scale, bias = self.coc_scale_bias(image_width)
        near, far = depth_range_m
        return max(abs(bias + scale / near), abs(bias + scale / far))

    def with_focus(self, focus_m: float) -> Lens:
        """The same lens focused at another distance."""
        return replace(self, focus_m=focus_m)
