"""What a phone's portrait mode stores of a clean depth map (for measurements and tests).

An iPhone portrait HEIC holds its depth at about a fifth of the colour's resolution
(a 4032x3024 photo: 768x576), 8-bit, as inverse depth normalised between the nearest
and farthest depth of the picture (HEIF depth metadata d_min, d_max). The model: the
clean depth area-averaged over blocks of `factor` x `factor` pixels in inverse depth
(the camera's depth is a smooth estimate, not a point sample), then quantised to 8 bits
between the scene's nearest and farthest depth. Decode it with
`DepthConvention.inverse(near_m, far_m)`.
"""

from __future__ import annotations

import numpy as np

PHONE_FACTOR = 5  # colour pixels per depth texel, each way (iPhone: 4032 / 768 = 5.25)
PHONE_BITS = 8  # bits per stored depth sample


def phone_depth(clean_m: np.ndarray, factor: int = PHONE_FACTOR) -> tuple[np.ndarray, float, float]:
    """(codes, near_m, far_m): the clean depth (HxW metres, all valid, H and W multiples
    of `factor`) as the phone stores it, uint8 (H/factor)x(W/factor), 255 = near_m."""
    z = np.asarray(clean_m, dtype=np.float64)
    h, w = z.shape
    if h % factor or w % factor:
        raise ValueError(f"{w}x{h} is not a multiple of {factor}")
    near, far = float(z.min()), float(z.max())
    inverse = (1.0 / z).reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    top = 2**PHONE_BITS - 1
    v = (inverse - 1.0 / far) / (1.0 / near - 1.0 / far)
    return np.rint(v * top).astype(np.uint8), near, far


__all__ = ["PHONE_BITS", "PHONE_FACTOR", "phone_depth"]
