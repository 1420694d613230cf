"""Holes in depth filled on the CPU: `fill_invalid_depth`, for files and for sensors when
nothing conditions their depth on the GPU.

A hole (0, negative, NaN or infinite depth) takes depth from valid neighbours,
preferring the farther and similarly coloured ones: holes at depth edges in sensor data
are mostly occlusion shadows, which lie on the background.
"""

from __future__ import annotations

import numpy as np

from realtime.errors import InputError
from realtime.sources.images import decode_srgb_integers

# Hole filling (see fill_invalid_depth). Weights are products of three factors:
#   spatial: bilinear weight of a coarse candidate at the hole's position;
#   far:     (d_far / d) ** FAR_PREFERENCE, d = 1/z, d_far the farthest candidate's:
#            a candidate 25% nearer than the farthest weighs 0.1, one at half the
#            distance 1e-3: blends within a surface, picks the far side at an edge;
#   colour:  exp(-|g_hole - g_candidate|^2 / (2 COLOR_SIGMA^2)) on sqrt(linear) colour,
#            a cheap perceptual encoding; strong enough to override the far preference
#            when the hole clearly looks like the nearer surface.
FAR_PREFERENCE = 10.0
COLOR_SIGMA = 0.1
FILL_BLOCK_PX = 2**21  # full-resolution pixels the fill reduces and fills at a time (rows)


def _quads(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """The four pixels of every 2x2 block (a must have even height and width)."""
    return a[0::2, 0::2], a[0::2, 1::2], a[1::2, 0::2], a[1::2, 1::2]


def _pad_even(a: np.ndarray, mode: str) -> np.ndarray:
    h, w = a.shape[:2]
    pad = [(0, h % 2), (0, w % 2)] + [(0, 0)] * (a.ndim - 2)
    if h % 2 == 0 and w % 2 == 0:
        return a
    if mode == "nan":
        return np.pad(a, pad, mode="constant", constant_values=np.nan)
    return np.pad(a, pad, mode="edge")


def _downsample(
    inv: np.ndarray, guide: np.ndarray | None, src: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """One pyramid level down: far-preferring blend of each block's valid inverse depths.

    inv: 1/z with NaN holes. guide: mean colour of the block (what a hole looks
    like). src: colour of the pixels the depth came from, blended with the same
    weights (what a candidate's depth looks like).
    """
    q = _quads(_pad_even(inv, "nan"))
    far = np.fmin(np.fmin(q[0], q[1]), np.fmin(q[2], q[3]))  # NaN only if the block has no data
    weights = [np.nan_to_num((far / d) ** FAR_PREFERENCE, nan=0.0) for d in q]
    wsum = weights[0] + weights[1] + weights[2] + weights[3]
    with np.errstate(invalid="ignore", divide="ignore"):
        inv_c = sum(w * np.nan_to_num(d) for w, d in zip(weights, q, strict=True)) / wsum
    if guide is None or src is None:
        return inv_c, None, None
    g = _quads(_pad_even(guide, "edge"))
    guide_c = (g[0] + g[1] + g[2] + g[3]) * np.float32(0.25)
    s = _quads(_pad_even(src, "edge"))
    with np.errstate(invalid="ignore", divide="ignore"):
        src_c = sum(w[..., None] * c for w, c in zip(weights, s, strict=True)) / wsum[..., None]
    # A block without data has no source colour yet (its fill sets one); the guide colour
    # stands in so that no NaN reaches the next level's sums.
    src_c = np.where((wsum > 0)[..., None], src_c, guide_c)
    return inv_c, guide_c, src_c


def _fill_from_coarse(
    inv: np.ndarray,
    guide: np.ndarray | None,
    src: np.ndarray | None,
    coarse_inv: np.ndarray,
    coarse_src: np.ndarray | None,
    need_src: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fill the holes of one level from the 4 bilinear neighbours in the filled level above."""
    hy, hx = np.nonzero(np.isnan(inv))
    guide_at = guide[hy, hx] if guide is not None else None
    values, cand_src, w, wsum = _hole_values(hy, hx, guide_at, coarse_inv, coarse_src)
    out = inv.copy()
    out[hy, hx] = values
    out_src = None
    if need_src and src is not None and cand_src is not None:
        out_src = src.copy()
        out_src[hy, hx] = np.einsum("kn,knc->nc", w, cand_src) / wsum[:, None]
    return out, out_src


def _hole_values(
    hy: np.ndarray,
    hx: np.ndarray,
    guide_at: np.ndarray | None,
    coarse_inv: np.ndarray,
    coarse_src: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Inverse depth of the holes at rows hy, columns hx (guide colours `guide_at`) from the
    coarse level; also their candidates' colours, weights and weight sums. Each hole on its
    own: the same values whether the holes come all at once or a block at a time."""
    hc, wc = coarse_inv.shape
    # Pixel centre y maps to coarse (y + 0.5) / 2 - 0.5: between rows (y-1)//2 and the next,
    # at fraction 0.75 for even y, 0.25 for odd y.
    y0, x0 = (hy - 1) // 2, (hx - 1) // 2
    ty = np.where(hy % 2 == 0, 0.75, 0.25).astype(np.float32)
    tx = np.where(hx % 2 == 0, 0.75, 0.25).astype(np.float32)
    ya, yb = np.clip(y0, 0, hc - 1), np.clip(y0 + 1, 0, hc - 1)
    xa, xb = np.clip(x0, 0, wc - 1), np.clip(x0 + 1, 0, wc - 1)
    cy = np.stack([ya, ya, yb, yb])
    cx = np.stack([xa, xb, xa, xb])
    spatial = np.stack([(1 - ty) * (1 - tx), (1 - ty) * tx, ty * (1 - tx), ty * tx])
    d = coarse_inv[cy, cx]  # (4, n), all finite and > 0
    log_w = np.log(spatial) + np.float32(FAR_PREFERENCE) * np.log(d.min(axis=0) / d)
    cand_src = None
    if guide_at is not None and coarse_src is not None:
        cand_src = coarse_src[cy, cx]  # (4, n, 3)
        diff = cand_src - guide_at[None]
        log_w -= np.einsum("knc,knc->kn", diff, diff) * np.float32(0.5 / COLOR_SIGMA**2)
    w = np.exp(log_w - log_w.max(axis=0))
    wsum = w.sum(axis=0)
    return (w * d).sum(axis=0) / wsum, cand_src, w, wsum


_GUIDE_LUTS: dict[int, np.ndarray] = {}


def _guide(color: np.ndarray) -> np.ndarray:
    """What the fill compares colours in: sqrt of linear colour clipped to 0..1, float32.

    Integer (sRGB) samples go through a table of their codes: no float copy of the image."""
    if color.dtype.kind == "u" and color.dtype.itemsize <= 2:
        bits = color.dtype.itemsize * 8
        if bits not in _GUIDE_LUTS:
            codes = np.arange(2**bits, dtype=color.dtype)
            _GUIDE_LUTS[bits] = _guide(decode_srgb_integers(codes))
        return _GUIDE_LUTS[bits][color]
    if color.dtype.kind == "u":
        color = decode_srgb_integers(color)
    return np.sqrt(np.clip(color, 0.0, 1.0), dtype=np.float32)


def _block_rows(width: int) -> int:
    """Rows of about FILL_BLOCK_PX pixels, an even number (blocks keep the 2x2 grid)."""
    return max(2, FILL_BLOCK_PX // max(width, 1) // 2 * 2)


def _first_level(
    inv: np.ndarray, color: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """`_downsample` of the full-resolution level, a block of rows at a time: the guide
    colour is made a block at a time, never for the whole image. Row blocks start on even
    rows, so every 2x2 block, and so every value, is the one a single call would give."""
    h, w = inv.shape
    hc, wc = (h + 1) // 2, (w + 1) // 2
    inv_c = np.empty((hc, wc), np.float32)
    guide_c = src_c = None
    if color is not None:
        guide_c = np.empty((hc, wc, 3), np.float32)
        src_c = np.empty((hc, wc, 3), np.float32)
    step = _block_rows(w)
    for y in range(0, h, step):
        g = _guide(color[y : y + step]) if color is not None else None
        block = _downsample(inv[y : y + step], g, g)
        rows = slice(y // 2, y // 2 + len(block[0]))
        inv_c[rows] = block[0]
        if guide_c is not None and src_c is not None:
            guide_c[rows], src_c[rows] = block[1], block[2]
    return inv_c, guide_c, src_c


def fill_invalid_depth(depth: np.ndarray, color: np.ndarray | None = None) -> np.ndarray:
    """Fill NaN, infinite and non-positive depth from valid neighbours; float32, all > 0.

    Valid pixels are returned unchanged. The fill is a pyramid (push-pull) in
    inverse depth: going down, each 2x2 block keeps a blend of its valid pixels
    weighted towards the farthest; going up, each hole takes a blend of its four
    coarse neighbours weighted by distance, by farness and, when `color` (HxWx3
    linear) is given, by colour similarity. Blends are soft, so a smooth surface
    fills smoothly, while across a depth edge the far (or the like-coloured) side
    wins, as occlusion shadows in sensor depth need. Vectorised numpy; about
    linear in the pixel count.
    """
    z = np.asarray(depth, dtype=np.float32)
    if z.ndim != 2:
        raise ValueError(f"depth must be HxW, got shape {z.shape}")
    valid = np.isfinite(z) & (z > 0)
    if not valid.any():
        raise InputError("depth map has no valid pixel (every value is 0, negative, NaN or inf)")
    if valid.all():
        return z.copy()
    if color is not None:
        color = np.asarray(color)
        if color.shape != (*z.shape, 3):
            raise ValueError(f"colour must be {z.shape[0]}x{z.shape[1]}x3, got {color.shape}")

    # The full-resolution level is never copied whole: it is reduced and filled in blocks of
    # rows (the guide colour only where it is read), which bounds the fill's memory to about
    # twice the depth map's at any size.
    inv = np.full(z.shape, np.nan, np.float32)
    np.divide(np.float32(1), z, out=inv, where=valid)
    # Down: levels[i] = (inverse depth with NaN holes, guide colour, source colour), from 1.
    levels = [_first_level(inv, color)]
    del inv
    while np.isnan(levels[-1][0]).any():
        levels.append(_downsample(*levels[-1]))
    # Up: fill each level's holes from the filled level above it.
    filled, filled_src = levels[-1][0], levels[-1][2]
    for i in range(len(levels) - 2, -1, -1):
        lv_inv, lv_guide, lv_src = levels[i]
        filled, filled_src = _fill_from_coarse(
            lv_inv, lv_guide, lv_src, filled, filled_src, need_src=True
        )
    del levels

    # Blends stay within the valid range up to rounding (and overflow, for depths at the edge
    # of float32's range): clip, so filled depths never leave the valid pixels' range.
    lo = np.min(z, where=valid, initial=np.inf)
    hi = np.max(z, where=valid, initial=-np.inf)
    out = z.copy()
    step = _block_rows(z.shape[1])
    for y in range(0, len(z), step):
        hy, hx = np.nonzero(~valid[y : y + step])
        hy += y
        guide_at = _guide(color[hy, hx]) if color is not None else None
        fill = _hole_values(hy, hx, guide_at, filled, filled_src)[0]
        if not np.isfinite(fill).all():
            raise RuntimeError("fill_invalid_depth produced a non-finite inverse depth (a bug)")
        with np.errstate(divide="ignore", over="ignore"):
            out[hy, hx] = np.clip(np.float32(1) / fill, lo, hi)
    return out


__all__ = ["fill_invalid_depth"]
