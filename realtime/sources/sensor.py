"""Depth-sensor models: what a real RGB-D camera makes of a clean depth map.

`sensor_depth(model, clean, colour, k, seed, fx_px)` is a pure function: the
same inputs give the same bytes, so a synthetic clip's frame k stays a pure
function of k. It returns what the camera would deliver, float32 metres with
NaN where the camera has no depth. The errors modelled are the ones that show
as halos and flicker in depth of field on sensor depth:

- noise growing with distance squared. A stereo camera measures disparity
  d = f_px * B / z with an RMS error of `subpixel` pixels, so the depth RMS is

      sigma_z = z^2 * subpixel / (f_px * B)

  (Grunnet-Jepsen, Sweetser, Woodfill, "Tuning depth cameras for best
  performance", Intel RealSense D400 series white paper, the depth RMS error
  formula; subpixel about 0.08 px on a well-textured target; baseline 50 mm
  on the D435). f_px is the focal length in pixels of the depth image itself:
  a depth map made at a lower resolution is noisier, as the paper says.
- occlusion shadows: depth is computed in the left imager's frame and needs
  the point seen by the right imager too, B to its right. A pixel is lost
  where a nearer surface to its right hides it from the right imager: the
  invalid band on the left side of near objects, as wide as the disparity
  difference f_px * B * (1/z_near - 1/z_far) pixels.
- holes on dark surfaces (too little texture or infrared return): a fraction
  of the pixels darker than a threshold lose their depth.
- depth edges offset from colour edges by 1-2 px: the residual of registering
  two cameras' images to each other.
- quantisation to the Z16 unit (1 mm by default); 0 and overflow mean no data.

One frame of latency (depth of frame k measured at time (k - 1) / fps) is a
matter of time, so the clip applies it (synthetic.py), not this function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.errors import InputError

Z16_MAX = 65535  # largest Z16 code; 0 means no data

# Rec. 709 luma weights for linear RGB: how dark a surface looks.
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


@dataclass(frozen=True)
class SensorModel:
    """The errors of one kind of depth camera (see the module docstring)."""

    baseline_m: float = 0.050  # stereo baseline B, metres (D435: 50 mm)
    subpixel: float = 0.08  # RMS disparity error, pixels (Intel's white paper: ~0.08)
    edge_shift_px: tuple[int, int] = (2, 1)  # depth content moved (right, down) vs colour, px
    dark_luma: float = 0.06  # linear luma below which a surface may lose its depth
    dark_dropout: float = 0.5  # fraction of such dark pixels without depth
    depth_unit_m: float = 0.001  # Z16 unit, metres per code (D4xx default; D405: 0.0001)
    lag_frames: int = 1  # depth of frame k shows time (k - lag_frames) / fps

    def noise_std_m(self, depth_m: np.ndarray | float, fx_px: float) -> np.ndarray:
        """Depth RMS error sigma_z = z^2 * subpixel / (f_px * B), metres."""
        z = np.asarray(depth_m, dtype=np.float64)
        return z * z * self.subpixel / (fx_px * self.baseline_m)


SENSOR_MODELS: dict[str, SensorModel] = {
    "realsense": SensorModel(),  # Intel RealSense D435-like
}


def sensor_model(name: str) -> SensorModel:
    """The model called `name`; InputError naming the known ones otherwise."""
    model = SENSOR_MODELS.get(name)
    if model is None:
        known = ", ".join(sorted(SENSOR_MODELS))
        raise InputError(f"unknown sensor model {name!r}; known: {known}")
    return model


def shift_image(image: np.ndarray, right: int, down: int) -> np.ndarray:
    """`image` with its content moved `right` columns and `down` rows, edges repeated."""
    h, w = image.shape[:2]
    rows = np.clip(np.arange(h) - down, 0, h - 1)
    cols = np.clip(np.arange(w) - right, 0, w - 1)
    return image[rows[:, None], cols[None, :]]


def occlusion_shadow(depth_m: np.ndarray, fx_px: float, baseline_m: float) -> np.ndarray:
    """Pixels (bool HxW) the right imager cannot see: hidden by nearer surfaces to their right.

    A point at column x and depth z appears in the right image at r = x - f_px * B / z.
    It is hidden when some pixel x' > x lands at or left of it (r(x') < r(x)): a
    reverse running minimum of r along each row.
    """
    z = np.asarray(depth_m, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        disparity = np.where(np.isfinite(z) & (z > 0), fx_px * baseline_m / z, 0.0)
    r = np.arange(z.shape[1], dtype=np.float64)[None, :] - disparity
    # min over x' > x: the running minimum from the right, shifted by one column
    from_right = np.minimum.accumulate(r[:, ::-1], axis=1)[:, ::-1]
    beyond = np.concatenate([from_right[:, 1:], np.full((z.shape[0], 1), np.inf)], axis=1)
    return beyond < r - 0.25  # a quarter pixel: slanted surfaces do not hide themselves


def quantise(depth_m: np.ndarray, unit_m: float) -> np.ndarray:
    """Depth rounded to the Z16 code and back to metres; NaN for 0 and overflow (no data)."""
    with np.errstate(invalid="ignore"):
        codes = np.rint(np.asarray(depth_m, dtype=np.float64) / unit_m)
    valid = np.isfinite(codes) & (codes > 0) & (codes <= Z16_MAX)
    return np.where(valid, codes * unit_m, np.nan).astype(np.float32)


def sensor_depth(
    model: SensorModel,
    clean_m: np.ndarray,
    color: np.ndarray,
    k: int,
    seed: int,
    fx_px: float,
) -> np.ndarray:
    """What the camera delivers for frame k: float32 metres, NaN = no data (module docstring).

    `clean_m` is the true depth at the moment the sensor measured (the clip applies
    the lag), `color` the linear colour image the depth is registered to, `fx_px`
    the focal length of the image in pixels. Deterministic in (inputs, k, seed).
    """
    if k < 0 or seed < 0:
        raise ValueError(f"frame index and seed must be >= 0, got {k}, {seed}")
    clean = np.asarray(clean_m, dtype=np.float64)
    if color.shape != (*clean.shape, 3):
        raise ValueError(f"colour {color.shape} does not match depth {clean.shape}")
    rng = np.random.default_rng([seed, k])
    right, down = model.edge_shift_px
    z = shift_image(clean, right, down)
    luma = shift_image(np.asarray(color, dtype=np.float32) @ LUMA, right, down)
    holes = occlusion_shadow(z, fx_px, model.baseline_m)
    holes |= (luma < model.dark_luma) & (rng.random(z.shape) < model.dark_dropout)
    noisy = z + rng.standard_normal(z.shape) * model.noise_std_m(z, fx_px)
    out = quantise(noisy, model.depth_unit_m)
    out[holes] = np.nan
    return out


__all__ = [
    "SENSOR_MODELS",
    "Z16_MAX",
    "SensorModel",
    "occlusion_shadow",
    "quantise",
    "sensor_depth",
    "sensor_model",
    "shift_image",
]
