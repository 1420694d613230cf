"""Depth maps in, as float32 metres with NaN where the file has no data.

A depth file says nothing reliable about its own units, so the caller states a
DepthConvention (the front ends build it from --depth-scale, --disparity or
--inverse-depth). Integer maps without a unit are refused rather than guessed.

Invalid samples: 0, negative, NaN and infinite depth, and disparity 0. The
renderer needs a finite depth everywhere, so `depth_for_color` fills holes
(realtime.sources.holes) and fits the depth to the colour: the same size, or a
smaller depth of the same picture that the GPU upsamples guided by the colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from realtime.errors import InputError
from realtime.sources.holes import fill_invalid_depth
from realtime.sources.images import (
    IMAGEIO_EXTENSIONS,
    TIFF_EXTENSIONS,
    PathLike,
    check_file,
    read_exr_channels,
    read_samples,
)

DepthKind = Literal["metric", "scaled", "disparity", "inverse"]
UPSAMPLE_MODES = ("guided", "nearest", "bilinear")  # --depth-upsample: depth smaller than colour
ASPECT_TOLERANCE = 0.01  # relative aspect-ratio difference that still counts as one picture
DEPTH_KINDS: tuple[str, ...] = ("metric", "scaled", "disparity", "inverse")
DEPTH_EXTENSIONS = (*IMAGEIO_EXTENSIONS, *TIFF_EXTENSIONS, ".exr", ".npy", ".pfm")
EXR_DEPTH_CHANNELS = ("Z", "Y", "R")  # the first present is the depth, else the only channel

DEPTH_ROWS = 1024  # rows converted to metres at a time (bounds the float64 intermediates)


@dataclass(frozen=True)
class DepthConvention:
    """How a depth file's samples map to metres; the field a kind uses must be set."""

    kind: DepthKind = "metric"  # metric float | scaled integer | disparity px | inverse
    scale: float | None = None  # "scaled": metres per stored unit (0.001 = millimetres)
    focal_baseline: float | None = None  # "disparity": f_px * baseline_m; z = this / disparity
    near_m: float | None = None  # "inverse": depth where the normalised map is 1
    far_m: float | None = None  # "inverse": depth where the normalised map is 0

    def __post_init__(self) -> None:
        if self.kind not in DEPTH_KINDS:
            raise InputError(
                f"depth kind must be one of {', '.join(DEPTH_KINDS)}, got {self.kind!r}"
            )
        needs = {
            "metric": (),
            "scaled": ("scale",),
            "disparity": ("focal_baseline",),
            "inverse": ("near_m", "far_m"),
        }[self.kind]
        for name in ("scale", "focal_baseline", "near_m", "far_m"):
            value = getattr(self, name)
            if name in needs:
                if value is None or not np.isfinite(value) or not value > 0:
                    raise InputError(
                        f"depth {name} must be a positive number for {self.kind} depth, got {value}"
                    )
            elif value is not None:
                raise InputError(f"depth {name} does not apply to {self.kind} depth")
        if self.kind == "inverse" and not self.near_m < self.far_m:  # type: ignore[operator]
            raise InputError(
                f"inverse depth needs near < far, got near {self.near_m} m, far {self.far_m} m"
            )

    @classmethod
    def metric(cls) -> DepthConvention:
        """Float samples already in metres."""
        return cls("metric")

    @classmethod
    def scaled(cls, scale: float) -> DepthConvention:
        """Samples times `scale` are metres (0.001 for millimetres, 0.0002 for TUM)."""
        return cls("scaled", scale=scale)

    @classmethod
    def disparity(cls, focal_baseline: float) -> DepthConvention:
        """Samples are disparity in pixels; depth = focal_baseline / disparity."""
        return cls("disparity", focal_baseline=focal_baseline)

    @classmethod
    def inverse(cls, near_m: float, far_m: float) -> DepthConvention:
        """Samples are normalised inverse depth, 1 at near_m, 0 at far_m."""
        return cls("inverse", near_m=near_m, far_m=far_m)


def _read_depth_samples(p: Path) -> np.ndarray:
    """The depth channel of a file, HxW in its stored dtype."""
    ext = p.suffix.lower()
    if ext == ".exr":
        channels = read_exr_channels(p)
        name = next((c for c in EXR_DEPTH_CHANNELS if c in channels), None)
        if name is None:
            if len(channels) != 1:
                raise InputError(
                    f"{p}: EXR has no Z, Y or R channel and several others "
                    f"({', '.join(channels)}); cannot tell which is depth"
                )
            name = next(iter(channels))
        return channels[name]
    if ext not in DEPTH_EXTENSIONS:
        raise InputError(
            f"{p}: unsupported depth file type {ext or '(none)'!r}; "
            f"use one of {', '.join(DEPTH_EXTENSIONS)}"
        )
    raw = read_samples(p)
    if raw.ndim == 3:
        if ext == ".npy" and raw.shape[2] != 1:
            raise InputError(f"{p}: depth array has shape {raw.shape}, expected HxW")
        raw = raw[..., 0]  # grey stored as RGB (JPEG, 8-bit maps): the first channel
    if raw.dtype.kind not in "uif":
        raise InputError(f"{p}: unsupported depth sample type {raw.dtype}")
    return raw


def _normalised_inverse(raw: np.ndarray) -> np.ndarray:
    """A normalised inverse-depth map v in 0..1 (NaN where invalid), float64.

    Integer maps are divided by their dtype's maximum. Float maps are used as
    they are when they lie in 0..1; otherwise (raw network output such as
    MiDaS .pfm) they are stretched min..max to 0..1, as MiDaS does itself.
    """
    if raw.dtype.kind in "ui":
        v = raw / np.float64(np.iinfo(raw.dtype).max)
        return np.where(v >= 0, v, np.nan)
    v = raw.astype(np.float64)
    v[~np.isfinite(v) | (v < 0)] = np.nan
    if np.isnan(v).all():
        return v
    lo, hi = np.nanmin(v), np.nanmax(v)
    if hi > 1.0:
        v = (v - lo) / (hi - lo) if hi > lo else np.where(np.isnan(v), np.nan, 1.0)
    return v


def depth_to_metres(raw: np.ndarray, convention: DepthConvention) -> np.ndarray:
    """Stored samples to float32 metres, NaN where invalid (no file checks here).

    Converted DEPTH_ROWS at a time, except normalised inverse depth (stretched by
    the whole map's range); every sample is converted on its own either way.
    """
    if convention.kind == "inverse" or len(raw) <= DEPTH_ROWS:
        return _metres(raw, convention)
    out = np.empty(raw.shape, dtype=np.float32)
    for y in range(0, len(raw), DEPTH_ROWS):
        out[y : y + DEPTH_ROWS] = _metres(raw[y : y + DEPTH_ROWS], convention)
    return out


def _metres(raw: np.ndarray, convention: DepthConvention) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if convention.kind == "metric":
            z = raw.astype(np.float64)
        elif convention.kind == "scaled":
            z = raw * np.float64(convention.scale)
        elif convention.kind == "disparity":
            d = raw.astype(np.float64)
            z = np.where(d > 0, np.float64(convention.focal_baseline) / d, np.nan)
        else:
            near, far = np.float64(convention.near_m), np.float64(convention.far_m)
            v = _normalised_inverse(raw)
            z = 1.0 / (1.0 / far + v * (1.0 / near - 1.0 / far))
        z = z.astype(np.float32)
    z[~np.isfinite(z) | (z <= 0)] = np.nan
    return z


def load_depth(path: PathLike, convention: DepthConvention) -> np.ndarray:
    """Load a depth map as float32 HxW metres, NaN where invalid, row 0 at the top.

    Formats: 8/16-bit PNG, JPEG (first channel), integer or float TIFF, .npy
    (HxW), .exr (channel Z, Y or R, or the only one), .pfm. Integer samples
    with the "metric" convention are refused: their unit must be given.
    """
    p = check_file(path)
    raw = _read_depth_samples(p)
    if convention.kind == "metric" and raw.dtype.kind in "ui":
        raise InputError(
            f"{p}: depth is stored as integers ({raw.dtype}) with no unit; pass --depth-scale "
            "(e.g. 0.001 for millimetres, 0.0002 for TUM), or --disparity / --inverse-depth"
        )
    z = depth_to_metres(raw, convention)
    if np.isnan(z).all():
        raise InputError(f"{p}: no valid depth (every sample is 0, negative, NaN or infinite)")
    return z


def resample_depth(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resample to height x width: depths are never blended across edges."""
    depth = np.asarray(depth)
    h, w = depth.shape
    ys = ((2 * np.arange(height) + 1) * h) // (2 * height)  # source row under each pixel centre
    xs = ((2 * np.arange(width) + 1) * w) // (2 * width)
    return np.ascontiguousarray(depth[ys[:, None], xs[None, :]], dtype=np.float32)


def is_smaller_picture(depth_size: tuple[int, int], color_size: tuple[int, int]) -> bool:
    """Whether a depth map of `depth_size` (width, height) is the colour's picture at a
    lower resolution (a phone's depth): no larger on either side, smaller on one, the
    same aspect ratio within ASPECT_TOLERANCE. Such depth is upsampled on the GPU."""
    (dw, dh), (cw, ch) = depth_size, color_size
    if dw > cw or dh > ch or (dw, dh) == (cw, ch):
        return False
    return abs((dw / dh) / (cw / ch) - 1.0) <= ASPECT_TOLERANCE


def resample_depth_bilinear(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resample (all valid depth) to height x width, in inverse depth, where a
    blend of two depths is the depth whose blur is the blend of theirs."""
    w = 1.0 / np.asarray(depth, dtype=np.float64)
    h0, w0 = w.shape
    ys = np.clip((np.arange(height) + 0.5) * h0 / height - 0.5, 0, h0 - 1)
    xs = np.clip((np.arange(width) + 0.5) * w0 / width - 0.5, 0, w0 - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h0 - 1), np.minimum(x0 + 1, w0 - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = w[y0][:, x0] * (1 - fx) + w[y0][:, x1] * fx
    bottom = w[y1][:, x0] * (1 - fx) + w[y1][:, x1] * fx
    return np.ascontiguousarray(1.0 / (top * (1 - fy) + bottom * fy), dtype=np.float32)


def depth_at_color_size(depth: np.ndarray, color: np.ndarray) -> np.ndarray:
    """`depth` at the colour's size for work on the CPU (picking focus at a pixel): smaller
    depth, which the GPU upsamples guided by the colour, resampled nearest here."""
    height, width = color.shape[:2]
    if depth.shape == (height, width):
        return depth
    return resample_depth(depth, height, width)


def depth_for_color(
    depth: np.ndarray,
    color: np.ndarray,
    resize: bool,
    depth_name: str,
    color_name: str,
    upsample: str = "guided",
) -> np.ndarray:
    """`depth` fit for `color`, every pixel valid: the one check all inputs share.

    Depth that is the colour's picture at a lower resolution (`is_smaller_picture`)
    is upsampled as `upsample` says: "guided" keeps it small, for the GPU to upsample
    guided by the colour (realtime.passes.upsample); "nearest" and "bilinear" (in
    inverse depth) resample it here. Any other size mismatch is an InputError unless
    `resize` (then nearest-neighbour resampling, never blending depths across edges).
    Invalid pixels are filled by `fill_invalid_depth`, guided by the colour.
    """
    height, width = color.shape[:2]
    smaller = is_smaller_picture((depth.shape[1], depth.shape[0]), (width, height))
    if depth.shape != (height, width) and not smaller:
        dh, dw = depth.shape
        if not resize:
            raise InputError(
                f"{depth_name}: depth is {dw}x{dh} but {color_name} is {width}x{height}; "
                "pass --resize-depth to resample the depth to the colour size"
            )
        depth = resample_depth(depth, height, width)
    try:
        if not smaller:
            return fill_invalid_depth(depth, color)
        filled = fill_invalid_depth(depth)  # at the depth's own size, before upsampling
    except InputError as e:
        raise InputError(f"{depth_name}: {e}") from e
    if upsample == "nearest":
        return resample_depth(filled, height, width)
    if upsample == "bilinear":
        return resample_depth_bilinear(filled, height, width)
    return filled


__all__ = [
    "DEPTH_EXTENSIONS",
    "DEPTH_KINDS",
    "DepthConvention",
    "DepthKind",
    "depth_to_metres",
    "depth_at_color_size",
    "depth_for_color",
    "fill_invalid_depth",
    "is_smaller_picture",
    "load_depth",
    "resample_depth",
    "resample_depth_bilinear",
    "UPSAMPLE_MODES",
]
