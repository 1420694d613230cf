"""Depth registered to a colour camera by intrinsics and extrinsics, in numpy.

The geometry of librealsense's `rs2_deproject_pixel_to_point`,
`rs2_transform_point_to_point` and `rs2_project_point_to_pixel` (rsutil.h;
pixel centres at integer coordinates, rotation stored column-major), written
for whole images. `align_depth_to_color` does what `rs.align(rs.stream.color)`
does, deterministically and without a frameset (see realsense.py for why the
recording clip needs that): each depth pixel is a small square patch at its
depth; its corners are carried into the colour image and the colour pixels
whose centres fall inside take its depth, the nearest depth winning where
patches overlap. librealsense fills the corners' rounded rectangle instead,
which grows near surfaces by a pixel; here identical cameras map pixel to pixel.
The depth written is the point's z in the colour camera's frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.errors import InputError

MAX_SPAN_PX = 8  # a depth pixel covering more colour pixels than this per axis is dropped
DISTORTION_ITERATIONS = 10  # fixed-point steps to undo lens distortion (as librealsense)
# Models whose coefficients this module can apply; any model with all-zero coefficients works.
PROJECT_MODELS = ("none", "modified_brown_conrady", "inverse_brown_conrady", "brown_conrady")
DEPROJECT_MODELS = ("none", "inverse_brown_conrady", "brown_conrady")


@dataclass(frozen=True)
class CameraModel:
    """One camera's image geometry (librealsense's rs2_intrinsics)."""

    width: int  # pixels
    height: int  # pixels
    fx: float  # focal length, pixels
    fy: float  # focal length, pixels
    ppx: float  # principal point, column, pixels (pixel centres at integers)
    ppy: float  # principal point, row, pixels (row 0 at the top)
    model: str = "none"  # distortion model name, e.g. "inverse_brown_conrady"
    coeffs: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)  # k1, k2, p1, p2, k3

    @property
    def distorted(self) -> bool:
        return self.model != "none" and any(c != 0.0 for c in self.coeffs)


@dataclass(frozen=True)
class Extrinsics:
    """A rigid transform p' = R p + t between two cameras' frames (metres)."""

    rotation: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)  # column-major
    translation_m: tuple[float, float, float] = (0.0, 0.0, 0.0)  # metres

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Transform Nx3 points."""
        r = np.asarray(self.rotation, dtype=np.float64).reshape(3, 3).T  # R, from column-major
        return points @ r.T + np.asarray(self.translation_m, dtype=np.float64)


def _radial(c: tuple[float, ...], r2: np.ndarray) -> np.ndarray:
    return 1.0 + c[0] * r2 + c[1] * r2 * r2 + c[4] * r2 * r2 * r2


def _tangential(c: tuple[float, ...], x: np.ndarray, y: np.ndarray, r2: np.ndarray) -> tuple:
    return 2 * c[2] * x * y + c[3] * (r2 + 2 * x * x), 2 * c[3] * x * y + c[2] * (r2 + 2 * y * y)


def project(camera: CameraModel, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(column, row) of Nx3 camera-frame points."""
    z = points[:, 2]
    x, y = points[:, 0] / z, points[:, 1] / z
    if camera.distorted:
        c = camera.coeffs
        if camera.model not in PROJECT_MODELS:
            raise InputError(f"cannot project through a {camera.model} lens model")
        r2 = x * x + y * y
        f = _radial(c, r2)
        if camera.model == "brown_conrady":  # tangential terms on the undistorted point
            dx, dy = _tangential(c, x, y, r2)
            x, y = x * f + dx, y * f + dy
        else:  # modified / inverse Brown-Conrady: tangential terms on the scaled point
            x, y = x * f, y * f
            dx, dy = _tangential(c, x, y, r2)
            x, y = x + dx, y + dy
    return x * camera.fx + camera.ppx, y * camera.fy + camera.ppy


def deproject(camera: CameraModel, u: np.ndarray, v: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Nx3 camera-frame points of pixels (u, v) at z-depths z (metres)."""
    x = (u - camera.ppx) / camera.fx
    y = (v - camera.ppy) / camera.fy
    if camera.distorted:
        c = camera.coeffs
        if camera.model not in DEPROJECT_MODELS:
            raise InputError(f"cannot deproject through a {camera.model} lens model")
        x0, y0 = x, y
        for _ in range(DISTORTION_ITERATIONS):
            r2 = x * x + y * y
            inv = 1.0 / _radial(c, r2)
            if camera.model == "inverse_brown_conrady":
                dx, dy = _tangential(c, x / inv, y / inv, r2)
            else:
                dx, dy = _tangential(c, x, y, r2)
            x, y = (x0 - dx) * inv, (y0 - dy) * inv
    return np.stack([x * z, y * z, z], axis=-1)


def align_depth_to_color(
    depth_m: np.ndarray,
    depth_camera: CameraModel,
    color_camera: CameraModel,
    depth_to_color: Extrinsics,
) -> np.ndarray:
    """Depth (HxW metres, NaN or <= 0 = no data) seen from the colour camera, at its size.

    Colour pixels no depth pixel covers are NaN (as rs.align leaves them 0).
    """
    depth = np.asarray(depth_m, dtype=np.float64)
    if depth.shape != (depth_camera.height, depth_camera.width):
        raise InputError(
            f"depth is {depth.shape[1]}x{depth.shape[0]}, its intrinsics say "
            f"{depth_camera.width}x{depth_camera.height}"
        )
    rows, cols = np.nonzero(np.isfinite(depth) & (depth > 0))
    z = depth[rows, cols]
    corners = []
    for offset in (-0.5, 0.5):  # top-left and bottom-right corner of each depth pixel
        points = deproject(depth_camera, cols + offset, rows + offset, z)
        corners.append(project(color_camera, depth_to_color.apply(points)))
    (u0, v0), (u1, v1) = corners
    zc = depth_to_color.apply(deproject(depth_camera, cols.astype(np.float64), rows, z))[:, 2]
    # colour pixels whose centres lie in [corner0, corner1): columns ceil(u0) .. ceil(u1) - 1
    x0 = np.ceil(np.minimum(u0, u1)).astype(np.int64)
    x1 = np.ceil(np.maximum(u0, u1)).astype(np.int64) - 1
    y0 = np.ceil(np.minimum(v0, v1)).astype(np.int64)
    y1 = np.ceil(np.maximum(v0, v1)).astype(np.int64) - 1
    keep = (x1 - x0 < MAX_SPAN_PX) & (y1 - y0 < MAX_SPAN_PX) & (zc > 0)
    x0, x1, y0, y1, zc = x0[keep], x1[keep], y0[keep], y1[keep], zc[keep]
    width, height = color_camera.width, color_camera.height
    out = np.full(height * width, np.inf)
    span_x = int((x1 - x0).max(initial=-1)) + 1
    span_y = int((y1 - y0).max(initial=-1)) + 1
    for dy in range(span_y):
        for dx in range(span_x):
            x, y = x0 + dx, y0 + dy
            inside = (x <= x1) & (y <= y1) & (x >= 0) & (y >= 0) & (x < width) & (y < height)
            np.minimum.at(out, y[inside] * width + x[inside], zc[inside])
    out[np.isinf(out)] = np.nan
    return out.reshape(height, width).astype(np.float32)


__all__ = [
    "CameraModel",
    "Extrinsics",
    "align_depth_to_color",
    "deproject",
    "project",
]
