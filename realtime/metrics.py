"""Image quality metrics, compared the way a viewer sees the images.

Both images are clipped to [0, 1] and sRGB-encoded before comparison, so
differences count as they appear on a display (a linear-light PSNR would be
dominated by HDR highlights and blind to errors in the shadows).
"""

from __future__ import annotations

import numpy as np

from realtime.sources.images import LUMA_WEIGHTS, linear_to_srgb


def display(linear_rgb: np.ndarray) -> np.ndarray:
    """Linear light -> sRGB-encoded display values in [0, 1] (float64)."""
    return linear_to_srgb(np.clip(linear_rgb, 0.0, 1.0)).astype(np.float64)


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of display values (peak 1)."""
    mse = float(np.mean((display(image) - display(reference)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def _blur(x: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    radius = int(3 * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    pad = np.pad(x, radius, mode="reflect")
    rows = sum(w * pad[:, i : i + x.shape[1]] for i, w in enumerate(taps))
    return sum(w * rows[i : i + x.shape[0], :] for i, w in enumerate(taps))


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004, Gaussian window sigma 1.5) of display luma."""
    luma = np.array(LUMA_WEIGHTS)
    a = display(image) @ luma
    b = display(reference) @ luma
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = _blur(a), _blur(b)
    var_a = _blur(a * a) - mu_a**2
    var_b = _blur(b * b) - mu_b**2
    cov = _blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))
