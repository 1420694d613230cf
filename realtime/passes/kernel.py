"""Aperture shape and the ring kernel that samples it (pure numpy)."""

from __future__ import annotations

import math

import numpy as np

from realtime.passes.constants import kernel_taps, level_rings, slight_offsets


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


def ring_step(k: int, taps: int) -> tuple[float, float]:
    """Ring k's first tap angle and the step between its `taps` taps (radians): odd rings
    start half a step round, so that neighbouring rings interleave."""
    step = 2 * math.pi / taps
    return 0.5 * (k % 2) * step, step


def ring_rows() -> list[tuple[int, float, float, int]]:
    """The gather kernel's ring table: level 0's rings, then those of the coarser levels
    (constants.level_rings), each (k, inner, outer, taps), lengths in its level's spacings."""
    return level_rings(0) + level_rings(1)


def ring_walks() -> np.ndarray:
    """Rows (x, y, cos, sin) per ring_rows row: the first tap in units of the ring spacing
    and the turn from each tap to the next (gather.frag walks a ring by turning;
    tap_scales follows the same angles)."""
    rows = []
    for k, inner, outer, taps in ring_rows():
        first, step = ring_step(k, taps)
        radius = 0.5 * (inner + outer)
        rows.append(
            (radius * math.cos(first), radius * math.sin(first), math.cos(step), math.sin(step))
        )
    return np.array(rows, dtype=np.float32)


def ring_spans() -> np.ndarray:
    """Rows (inner, outer, tap area, taps) per ring_rows row: the ring's annulus (spacings),
    the area each of its taps stands for (spacings^2: the annulus shared by its taps, pi / 4
    on an uncut ring of level 0) and how many taps it has."""
    rows = [
        (inner, outer, math.pi * (outer * outer - inner * inner) / taps, taps)
        for _, inner, outer, taps in ring_rows()
    ]
    return np.array(rows, dtype=np.float32)


def tap_scales(blades: int = 0, rotation_deg: float = 0.0) -> np.ndarray:
    """Per tap of the kernel table (centre first, then ring_rows' rings tap by tap, at
    ring_step's angles): 1 / the aperture shape's radius in the direction from the tap to
    the centre. A disc covers the centre when the tap's distance, so scaled, is at most the
    disc's radius: a ring's annulus in aperture radii is its annulus times the scale (1 on
    a circular aperture)."""
    scales = [1.0]
    for k, _, _, taps in ring_rows():
        first, step = ring_step(k, taps)
        towards_centre = first + np.arange(taps) * step + math.pi
        scales.extend(1.0 / polygon_radius(towards_centre, blades, math.radians(rotation_deg)))
    assert len(scales) == kernel_taps()
    return np.array(scales, dtype=np.float32)


def slight_orbits() -> np.ndarray:
    """Rows (x, y, distance) of the slight-focus window (constants.slight_offsets) less its
    centre, one per orbit of four taps a quarter turn apart ((x, y), (-y, x), ...), nearest
    first: a disc of radius r reaches no tap farther than r + 0.5, so a tile whose largest
    radius is r stops at the first such orbit (composite.frag)."""
    rows = sorted((math.hypot(x, y), y, x) for x, y in slight_offsets() if x > 0 and y >= 0)
    assert 4 * len(rows) + 1 == len(slight_offsets())  # the window is symmetric under quarter turns
    return np.array([(x, y, d) for d, y, x in rows], dtype=np.float32)
