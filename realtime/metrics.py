"""Image quality metrics, compared the way a viewer sees the images.

Both images are clipped to [0, 1] and sRGB-encoded before comparison, so
differences count as they appear on a display (a linear-light PSNR would be
dominated by HDR highlights and blind to errors in the shadows).
"""

from __future__ import annotations

from collections.abc import Iterable

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


RACK_STEP_LIMIT = 3.0 / 255.0  # a second temporal difference above this reads as a pop


def rack_jumps(frames: Iterable[np.ndarray], limit: float = RACK_STEP_LIMIT) -> dict[str, float]:
    """How unevenly a rack's frames change: the share of pixel-steps that jump.

    For each pixel and each frame k with neighbours k - 1 and k + 1, the second
    temporal difference of display luma, |v[k+1] - 2 v[k] + v[k-1]|: zero while
    a pixel changes at a steady rate (a linear rack moves every CoC at a steady
    rate), large where a discrete choice flips between two frames. Returns the
    share of those above `limit` (percent) and their 99.9th percentile (in
    1/255ths of the display range).
    """
    luma = np.array(LUMA_WEIGHTS)
    before: list[np.ndarray] = []
    steps: list[np.ndarray] = []
    for frame in frames:
        now = display(frame) @ luma
        if len(before) == 2:
            steps.append(np.abs(now - 2.0 * before[1] + before[0]).astype(np.float32))
        before = [*before[-1:], now]
    if not steps:
        raise ValueError("rack_jumps needs at least three frames")
    all_steps = np.stack(steps)
    return {
        "share_pct": float((all_steps > limit).mean() * 100.0),
        "p999": float(np.percentile(all_steps, 99.9) * 255.0),
    }
