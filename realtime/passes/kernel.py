"""Aperture shape and the ring kernel that samples it (pure numpy)."""

from __future__ import annotations

import math

import numpy as np

from realtime.passes.constants import KERNEL_RINGS, kernel_taps, slight_offsets


def polygon_radius(angle: np.ndarray, blades: int, rotation_rad: float) -> np.ndarray:
    """Radius of a regular polygon with circumradius 1 in direction `angle`.

    For a polygon of n sides the distance to the edge at angle t from the
    middle of a side is cos(pi / n) / cos(t); t is the angle folded into
    [-pi/n, pi/n] about the nearest side's middle. blades = 0 is a circle.
    """
    if blades == 0:
        return np.ones_like(angle)
    sector = 2 * math.pi / blades
    t = np.mod(angle - rotation_rad, sector) - sector / 2
    return math.cos(math.pi / blades) / np.cos(t)


def ring_step(k: int) -> tuple[float, float]:
    """Ring k's first tap angle and the step between its 8k taps (radians): odd rings
    start half a step round, so that neighbouring rings interleave."""
    step = 2 * math.pi / (8 * k)
    return 0.5 * (k % 2) * step, step


def ring_walks() -> np.ndarray:
    """Rows (x, y, cos, sin) per ring k = 0..KERNEL_RINGS (row 0 unused): the first tap
    in units of the ring spacing and the turn from each tap to the next (gather.frag walks
    a ring by turning; tap_distances follows the same angles)."""
    rows = np.zeros((KERNEL_RINGS + 1, 4), dtype=np.float32)
    for k in range(1, KERNEL_RINGS + 1):
        first, step = ring_step(k)
        rows[k] = (k * math.cos(first), k * math.sin(first), math.cos(step), math.sin(step))
    return rows


def tap_distances(blades: int = 0, rotation_deg: float = 0.0) -> np.ndarray:
    """Each tap's distance from the centre in aperture-shape radii, centre first, ring by
    ring (ring k: 8k taps at radius k spacings, from ring_step's angles).

    The distance is k scaled into units of the aperture shape's radius in the direction
    from the sample to the centre (a disc covers the centre when that distance is at most
    the sample's blur radius, in spacings): k itself on a circular aperture.
    """
    distances = [0.0]
    for k in range(1, KERNEL_RINGS + 1):
        first, step = ring_step(k)
        towards_centre = first + np.arange(8 * k) * step + math.pi
        shape = polygon_radius(towards_centre, blades, math.radians(rotation_deg))
        distances.extend(k / shape)
    assert len(distances) == kernel_taps()
    return np.array(distances, dtype=np.float32)


def slight_orbits() -> np.ndarray:
    """Rows (x, y, distance) of the slight-focus window (constants.slight_offsets) less its
    centre, one per orbit of four taps a quarter turn apart ((x, y), (-y, x), ...), nearest
    first: a disc of radius r reaches no tap farther than r + 0.5, so a tile whose largest
    radius is r stops at the first such orbit (composite.frag)."""
    rows = sorted((math.hypot(x, y), y, x) for x, y in slight_offsets() if x > 0 and y >= 0)
    assert 4 * len(rows) + 1 == len(slight_offsets())  # the window is symmetric under quarter turns
    return np.array([(x, y, d) for d, y, x in rows], dtype=np.float32)
