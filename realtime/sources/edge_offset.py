"""Sensor depth whose edges all sit the same few pixels off the colour's: measured, undone.

Two cameras registered to each other (a depth sensor and its colour camera, a phone's
two lenses) keep a residual offset when their calibration is off: every depth edge sits
the same (dx, dy) pixels from the colour edge it belongs to, and smooth depth (a floor,
a wall at an angle) is off by as much. The depth conditioning's refine pass snaps edges
within its window but cannot move smooth depth, and it pays for every pixel it moves.
So before it, the offset is measured on the frame and the depth moved back by it.

Measuring. At each pixel where inverse depth w = 1/z steps (a central difference
above EDGE_GRADIENT along an axis, larger than across it), the colour's gradient along
that axis is read d = -MAX_OFFSET_PX .. MAX_OFFSET_PX pixels back: the mean over the
edge pixels, as a function of d, peaks where the colour edges are. Edges are split by
which side is near: a stereo sensor also grows near surfaces by a pixel or two (edge
fattening), which moves the two kinds of edge apart (the near-on-the-right kind one
way, the other kind the other way) where an offset moves both alike. A kind counts if
it has MIN_EDGE_PIXELS and a clear peak, PEAK_GAIN times its curve's median (colour
edges that follow the depth edges). Holes (no data) count as infinitely far: most lie
on the background (occlusion shadows), so a near surface's edge beside its shadow is
where the depth puts that surface's edge, and is measured; the shadow's far border,
which no colour edge follows, only flattens its kind's curve. The offset on an axis is
the mean of the counted kinds' peaks (rounded to nearest, halves toward 0), so
fattening (left to the refine pass) does not pass for an offset where both kinds
count. No correction is made where no kind counts, where the kinds' peaks lie further
apart than fattening moves them (a repeated pattern), or where x measured again knowing
y moves by more than a pixel: a wrong move costs more than none.

Each frame is measured on its own, so a clip's frame k stays a function of frame k.
"""

from __future__ import annotations

import math

import numpy as np

MAX_OFFSET_PX = 6  # largest offset measured per axis, px
EDGE_GRADIENT = 0.02  # central difference of inverse depth (1/m per px) that marks an edge
MIN_EDGE_PIXELS = 64  # edge pixels of each kind an axis needs to be measured
MAX_EDGE_PIXELS = 20000  # edge pixels of each kind read at most (evenly strided beyond)
MAX_FATTENING_PX = 2  # near surfaces grown by stereo matching, px at most
PEAK_GAIN = 2.0  # a kind's peak over its curve's median for the peak to count


def guide_colour(color: np.ndarray) -> np.ndarray:
    """Colour compared as the depth passes compare it: linear colour as sqrt(c / (1 + c));
    integer codes (sRGB, already perceptual) as their share of full scale."""
    if color.dtype.kind == "u":
        return color[..., :3].astype(np.float32) / np.iinfo(color.dtype).max
    c = np.clip(np.nan_to_num(color[..., :3].astype(np.float32)), 0.0, None)
    return np.sqrt(c / (1.0 + c))


def _kind_peak(
    guide: np.ndarray, ys: np.ndarray, xs: np.ndarray, axis: int, across: int
) -> tuple[int, float]:
    """For edge pixels (ys, xs) of one kind: the offset (px) at which the colour's gradient
    along `axis`, read that far back (and `across` px back across the axis), peaks; and
    the peak over the curve's median."""
    stride = -(-len(ys) // MAX_EDGE_PIXELS)
    ys, xs = ys[::stride], xs[::stride]
    curve = np.empty(2 * MAX_OFFSET_PX + 1)
    for i, d in enumerate(range(-MAX_OFFSET_PX, MAX_OFFSET_PX + 1)):
        y, x = (ys - d, xs - across) if axis == 0 else (ys - across, xs - d)
        ahead = guide[y + 1, x] if axis == 0 else guide[y, x + 1]
        behind = guide[y - 1, x] if axis == 0 else guide[y, x - 1]
        curve[i] = np.abs(ahead - behind).sum(axis=-1).mean()
    best = int(np.argmax(curve))
    return best - MAX_OFFSET_PX, float(curve[best] / max(float(np.median(curve)), 1e-9))


def _edge_kinds(w: np.ndarray, axis: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The edge pixels (ys, xs) along `axis` (1: x, 0: y) of each kind, near side ahead
    then behind, away from the border by as much as the reads reach."""
    r = 2 * MAX_OFFSET_PX + 1  # reads reach an offset along and one across
    inner = w[r - 1 : w.shape[0] - r + 1, r - 1 : w.shape[1] - r + 1]
    # central differences over the inner window (one pixel of margin on each side)
    dx = 0.5 * (inner[1:-1, 2:] - inner[1:-1, :-2])
    dy = 0.5 * (inner[2:, 1:-1] - inner[:-2, 1:-1])
    along, sideways = (dx, dy) if axis == 1 else (dy, dx)
    edge = (np.abs(along) > EDGE_GRADIENT) & (np.abs(along) > np.abs(sideways))
    kinds = []
    for near_ahead in (True, False):  # w grows along the axis: the near side lies ahead
        ys, xs = np.nonzero(edge & ((along > 0) == near_ahead))
        kinds.append((ys + r, xs + r))
    return kinds


def _axis_offset(
    kinds: list[tuple[np.ndarray, np.ndarray]], guide: np.ndarray, axis: int, across: int
) -> int:
    """The offset of the depth's edges (`kinds`, from _edge_kinds) along `axis`, px, 0 when
    unmeasured, given the offset across it (`across` px): a slanted edge moved across the
    axis looks moved along it too."""
    peaks = []  # of each kind of edge with a clear peak
    for ys, xs in kinds:
        if len(ys) < MIN_EDGE_PIXELS:
            continue  # too few edges of this kind to tell
        peak, gain = _kind_peak(guide, ys, xs, axis, across)
        if gain >= PEAK_GAIN:
            peaks.append(peak)
    if not peaks or max(peaks) - min(peaks) > 2 * MAX_FATTENING_PX:
        return 0  # nothing clear, or kinds too far apart for fattening (repeated patterns)
    mean = sum(peaks) / len(peaks)
    return int(math.copysign(math.ceil(abs(mean) - 0.5), mean))  # nearest, halves toward 0


def depth_edge_offset(color: np.ndarray, depth: np.ndarray) -> tuple[int, int]:
    """(right, down): how far the depth's content sits from the colour's, px; (0, 0) where
    it cannot be told. `depth`: metres at the colour's size, NaN, inf or <= 0 where the
    sensor had no data."""
    h, w = depth.shape
    if min(h, w) <= 2 * (2 * MAX_OFFSET_PX + 1) or color.shape[:2] != depth.shape:
        return (0, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # no data counts as infinitely far (w = 0): see the module docstring
        inverse = np.where(np.isfinite(depth) & (depth > 0), 1.0 / depth, 0.0)
    inverse = inverse.astype(np.float32)
    guide = guide_colour(color)
    x_edges, y_edges = _edge_kinds(inverse, 1), _edge_kinds(inverse, 0)
    first = _axis_offset(x_edges, guide, 1, 0)
    down = _axis_offset(y_edges, guide, 0, first)
    right = _axis_offset(x_edges, guide, 1, down)  # x again, knowing y
    if abs(right - first) > 1:
        return (0, 0)  # knowing y moved x's peak: the peaks are not one offset's
    return (right, down)


def undo_offset(depth: np.ndarray, right: int, down: int) -> np.ndarray:
    """`depth` with its content moved back by (right, down) px, edges repeated."""
    if right == 0 and down == 0:
        return depth
    h, w = depth.shape
    rows = np.clip(np.arange(h) + down, 0, h - 1)
    cols = np.clip(np.arange(w) + right, 0, w - 1)
    return depth[rows[:, None], cols[None, :]]
