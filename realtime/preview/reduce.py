"""A frame reduced to fewer pixels on the CPU: colour by area, depth without blending edges.

The preview and the show render what their window shows (realtime.preview.shown),
so a frame larger than the window is reduced once, when it is read, before it is
uploaded. Both reductions share one footprint: along an axis of n_in pixels
reduced to n_out, output pixel j covers input [j r, (j + 1) r), r = n_in / n_out,
and input pixel i takes part with the share of it that lies inside
(`area_taps`, exact in integers). The two axes are reduced one after the other.

Colour is the footprint's area-weighted mean in linear light, what a sensor of
fewer, larger pixels would record, so fine texture turns grey instead of aliasing.

Depth is reduced in inverse depth (where a blend of two depths is the depth whose
blur is the blend of theirs). A footprint whose inverse depths all lie within
EDGE_SPREAD of its nearest is one surface: it keeps their mean, so slopes stay
smooth and sensor noise averages out. Any other footprint straddles an edge and
takes the side that covers most of it: its nearest or its farthest inverse depth,
whichever their mean is closer to. An edge stays an edge; no surface is invented
between a foreground and what is behind it. Missing depth (0, NaN, inf, negative)
counts as infinitely far, as in the chain, and a footprint mostly missing stays
missing (0).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from realtime.passes.base import Size
from realtime.sources.images import decode_srgb_integers

EDGE_SPREAD = 0.05  # a footprint whose inverse depths spread more than this share of its
# nearest straddles an edge (a smooth surface spans far less over a few pixels)
BLOCK_PX = 2**20  # integer colour is decoded this many input pixels at a time

Taps = tuple[np.ndarray, np.ndarray]  # (input index, weight), each n_out x taps


def area_taps(n_in: int, n_out: int) -> Taps:
    """Input pixels and weights of each output pixel's footprint along one axis.

    Output pixel j is sum_k weight[j, k] * input[index[j, k]]; the weights are the
    shares of the footprint each input pixel covers (they add up to 1), 0 for the
    taps past its end. Computed in units of 1 / n_out input pixel, so exact.
    """
    if not 0 < n_out <= n_in:
        raise ValueError(f"cannot reduce {n_in} pixels to {n_out}")
    taps = -(-n_in // n_out) + 1  # a footprint of r pixels touches at most ceil(r) + 1
    j = np.arange(n_out, dtype=np.int64)[:, None]
    index = (j * n_in) // n_out + np.arange(taps, dtype=np.int64)[None, :]
    start = np.maximum(index * n_out, j * n_in)
    end = np.minimum((index + 1) * n_out, (j + 1) * n_in)
    weight = np.maximum(end - start, 0) / n_in
    return np.minimum(index, n_in - 1), weight.astype(np.float32)


def _along(weight: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """One column of `weight`, shaped to broadcast along `axis` of an ndim array."""
    shape = [1] * ndim
    shape[axis] = weight.shape[0]
    return weight.reshape(shape)


def _mean(a: np.ndarray, taps: Taps, axis: int) -> np.ndarray:
    """`a` reduced along `axis` to the footprints' weighted means."""
    index, weight = taps
    out = np.zeros(1, np.float32)
    for k in range(index.shape[1]):
        out = out + np.take(a, index[:, k], axis=axis) * _along(weight[:, k], axis, a.ndim)
    return out


def _extreme(
    a: np.ndarray, taps: Taps, axis: int, pick: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """`a` reduced along `axis` to the footprints' `pick` (np.minimum or np.maximum)."""
    index, weight = taps
    out = np.take(a, index[:, 0], axis=axis)  # the first tap is always inside
    for k in range(1, index.shape[1]):
        inside = _along(weight[:, k] > 0, axis, a.ndim)
        out = np.where(inside, pick(out, np.take(a, index[:, k], axis=axis)), out)
    return out


def area_average(color: np.ndarray, size: Size) -> np.ndarray:
    """Colour (HxWx3 linear float, or sRGB integer samples) reduced to `size` (w, h) by
    area, as linear float32."""
    h, w = color.shape[:2]
    out_w, out_h = size
    across = area_taps(w, out_w)
    rows = np.empty((h, out_w, 3), np.float32)
    step = max(1, BLOCK_PX // w)  # integer samples are decoded a block of rows at a time
    for y in range(0, h, step):
        block = color[y : y + step]
        if block.dtype.kind == "u":
            block = decode_srgb_integers(block)
        rows[y : y + step] = _mean(block.astype(np.float32, copy=False), across, 1)
    return np.ascontiguousarray(_mean(rows, area_taps(h, out_h), 0), dtype=np.float32)


def reduce_depth(depth: np.ndarray, size: Size) -> np.ndarray:
    """Depth (HxW metres) reduced to `size` (w, h): a surface's mean, at an edge the side
    covering most of the footprint (see the module's docstring); 0 where mostly missing."""
    valid = np.isfinite(depth) & (depth > 0)
    inverse = np.zeros(depth.shape, np.float32)
    np.divide(1.0, depth, out=inverse, where=valid)
    near = far = mean = inverse
    for axis, n_out in ((1, size[0]), (0, size[1])):
        taps = area_taps(inverse.shape[axis], n_out)
        near = _extreme(near, taps, axis, np.maximum)
        far = _extreme(far, taps, axis, np.minimum)
        mean = _mean(mean, taps, axis)
    edge = near - far > EDGE_SPREAD * near
    side = np.where(near - mean < mean - far, near, far)
    reduced = np.where(edge, side, mean)
    out = np.zeros(reduced.shape, np.float32)
    np.divide(1.0, reduced, out=out, where=reduced > 0)
    return out


def reduce_frame(color: np.ndarray, depth: np.ndarray, size: Size) -> tuple[np.ndarray, np.ndarray]:
    """(colour, depth) at most `size` (w, h): a larger colour reduced to it by area, a
    larger depth to it without blending edges; depth already no larger (a phone's, smaller
    than its colour) is kept for the chain's guided upsampling."""
    h, w = color.shape[:2]
    if (w, h) != size:
        color = area_average(color, size)
    if depth.shape[1] > size[0] or depth.shape[0] > size[1]:
        depth = reduce_depth(depth, size)
    return color, depth
