"""Constants shared by the passes and their shaders (injected as #defines).

Every value is defined here once; `shader_defines(max_coc_px)` turns them into
the #define block each pass compiles with. GLSL never repeats a value: what a
shader needs (pi and the luma weights included) arrives in that block.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from realtime.sources.images import LUMA_WEIGHTS

TILE_SIZE = 16  # full-res pixels per tile side
HALF_TILE = TILE_SIZE // 2  # half-res texels per tile side
FG_MIN = 1.0  # |CoC| (px) a pixel in front of focus needs to count as foreground
SLIGHT_COC = 7.0  # |CoC| (px) up to which pixels are resolved at full res ("slight focus")
LAYER_MIN_COC = 6.0  # |CoC| (px) from which the half-res layers blend in (fully at SLIGHT_COC)
MIN_GATHER_COC = 1.0  # tiles whose reach is below this CoC diameter skip the gather
RING_SPACING = 2.0  # distance between the gather's finest rings, full-res px (one half-res texel)
KERNEL_RINGS = 3  # rings of each level of the gather kernel, out to KERNEL_RINGS + 0.5 spacings
PYRAMID_LEVELS = 5  # levels above half res the gather reads (level l: boxes of 2^(l+1) px)
LEVEL_COLUMNS = 2  # the Pyramid's texture holds its levels side by side, this many a row
TAP_TIE = 1.0 / 256.0  # half-res texels a gather tap halfway between two boxes moves to settle it
# Isolated highlights are drawn as sprites where the half-res layers draw their
# surroundings (a gathered light spreads by a texel or two, which an HDR light shows).
# In front of the focal plane a sprite is added over everything, so it may take a light
# only where the layers draw the whole near disc (fg_share = 1, from SLIGHT_COC); behind
# it the composite weighs sprites with the layers (layer_share), so a light can be
# scattered whole by the time the layers take any share of a pixel (LAYER_MIN_COC).
SCATTER_MIN_COC = SLIGHT_COC  # -CoC (px) from which highlights in front blend into sprites
SCATTER_FULL_COC = SLIGHT_COC + 2.0  # -CoC (px) from which they are scattered whole
SCATTER_BEHIND_MIN_COC = LAYER_MIN_COC - 2.0  # CoC (px) from which highlights behind do
SCATTER_BEHIND_FULL_COC = LAYER_MIN_COC  # CoC (px) from which they are scattered whole
SPRITE_HALF_MIN = 24.0  # |CoC| (px) from which sprites move to the half-res sprite layers
SPRITE_HALF_FULL = 32.0  # |CoC| (px) from which they are drawn there whole
SPRITE_MERGE_MIN = 64.0  # |CoC| (px) from which a half-res 2x2 texel group's sprites merge into one
SPRITE_MERGE_FULL = 96.0  # |CoC| (px) from which they are merged whole
SPRITE_RIM = 2.0  # px over which a sprite's edge ramps: the width of the 2x2 block it stands for
SPRITE_RIM_MAX = 4.0  # px over which a merged sprite's edge ramps at most (its group's spread)
HIGHLIGHT_MIN = 0.1  # luminance a peak must exceed twice its surround by to be scattered
NARROW_COC = 1.0  # CoC spread (px) below which tiles upsample the background bilinearly
HDR_MIN = 1.0  # luminance above which a texel beside a much darker one is scattered
HOLE_WEIGHT = 1e-3  # weight of every background sample behind a foreground pixel (hole fill)
REACH_RAMP = 8.0  # px before a neighbour tile's blur reaches a tile over which its radius phases in


# Tile flags written by the dilate pass (bits of an integer stored as float).
FLAG_SPRITES = 1  # a highlight sprite can land in the tile
FLAG_NARROW = 2  # the CoC barely varies around the tile: bilinear upsample suffices
FLAG_SLIGHT = 4  # the tile may hold slight-focus pixels
TILE_FLAG_COMBINATIONS = (FLAG_SPRITES | FLAG_NARROW | FLAG_SLIGHT) + 1  # one program per set


# Level l >= 1 of the gather kernel (spacing RING_SPACING * 2^l) starts where level l - 1
# ends, at KERNEL_RINGS + 0.5 of that level's spacings: half as many of its own.
OUTER_START = 0.5 * (KERNEL_RINGS + 0.5)
CENTRE_TAP_AREA = math.pi / 4  # spacings^2 the gather's centre tap stands for (its inner disc)
OUTER_TAPS = 8  # taps per ring number on the coarser levels' rings (8k, as on level 0)


def level_rings(level: int) -> list[tuple[int, float, float, int]]:
    """Rings (k, inner, outer, taps) of gather kernel level `level`: ring k's taps lie
    evenly round the middle of its annulus [inner, outer) (in the level's spacings).
    Level 0 has rings 1 to KERNEL_RINGS, each [k - 0.5, k + 0.5) with 8k taps (each
    standing for pi / 4 spacings^2); a coarser level keeps the rings beyond OUTER_START,
    the first cut to start there, with OUTER_TAPS k taps: a disc reaching p from that far
    is wide, and its boxes as wide as a spacing."""
    if level == 0:
        return [(k, k - 0.5, k + 0.5, 8 * k) for k in range(1, KERNEL_RINGS + 1)]
    return [
        (k, max(k - 0.5, OUTER_START), k + 0.5, OUTER_TAPS * k)
        for k in range(1, KERNEL_RINGS + 1)
        if k + 0.5 > OUTER_START
    ]


def kernel_taps() -> int:
    """Taps in the gather kernel's table: the centre, level 0's rings, then the rings every
    coarser level repeats at its own spacing."""
    return 1 + sum(taps for *_, taps in level_rings(0) + level_rings(1))


def slight_offsets() -> list[tuple[int, int]]:
    """Pixel offsets a disc of CoC <= SLIGHT_COC can reach a centre from.

    A disc of radius r covers a pixel at distance d by clamp(r - d + 0.5, 0, 1),
    so offsets up to SLIGHT_COC / 2 + 0.5 matter.
    """
    reach = math.ceil(SLIGHT_COC / 2)
    span = range(-reach, reach + 1)
    return [(x, y) for y in span for x in span if math.hypot(x, y) <= SLIGHT_COC / 2 + 0.5]


def dilate_tiles(max_coc_px: float) -> int:
    """Tiles a blur of diameter `max_coc_px` can reach past its own tile, phase-in ramp
    (REACH_RAMP) included."""
    return max(1, math.ceil((max_coc_px / 2 + REACH_RAMP) / TILE_SIZE))


def glsl_vec3(values: Sequence[float]) -> str:
    """A vec3 constructor with each float's shortest round-trip text (the value unchanged)."""
    return "vec3({}, {}, {})".format(*(repr(float(v)) for v in values))


def shader_defines(max_coc_px: float) -> dict[str, object]:
    """The #define block for every pass, from the constants above."""
    return {
        "PI": math.pi,  # load_source writes 3.14159265, which parses to the float32 nearest pi
        "LUMA": glsl_vec3(LUMA_WEIGHTS),
        "MAX_COC": float(max_coc_px),
        "TILE_SIZE": TILE_SIZE,
        "HALF_TILE": HALF_TILE,
        "HALF_TILE_TEXELS": HALF_TILE**2,  # half-res texels per tile
        # sprites a tile may emit (scatter.geom): every texel, and every 2x2 group merged
        "SPRITES_PER_TILE": HALF_TILE**2 + HALF_TILE**2 // 4,
        "FG_MIN": FG_MIN,
        "MIN_GATHER_COC": MIN_GATHER_COC,
        "RING_SPACING": RING_SPACING,
        "KERNEL_RINGS": KERNEL_RINGS,
        "OUTER_START": OUTER_START,
        "CENTRE_TAP_AREA": CENTRE_TAP_AREA,
        "OUTER_RINGS": len(level_rings(1)),
        "PYRAMID_LEVELS": PYRAMID_LEVELS,
        "LEVEL_COLUMNS": LEVEL_COLUMNS,  # the Pyramid's texture: levels side by side
        "TAP_TIE": TAP_TIE,
        "KERNEL_TAPS": kernel_taps(),
        "LEVEL0_TAPS": 1 + sum(taps for *_, taps in level_rings(0)),  # the centre and level 0's
        "HOLE_WEIGHT": HOLE_WEIGHT,
        "SLIGHT_COC": SLIGHT_COC,
        "LAYER_MIN_COC": LAYER_MIN_COC,
        "SLIGHT_ORBITS": (len(slight_offsets()) - 1) // 4,  # kernel.slight_orbits
        "SCATTER_MIN_COC": SCATTER_MIN_COC,
        "SCATTER_FULL_COC": SCATTER_FULL_COC,
        "SCATTER_BEHIND_MIN_COC": SCATTER_BEHIND_MIN_COC,
        "SCATTER_BEHIND_FULL_COC": SCATTER_BEHIND_FULL_COC,
        "REACH_RAMP": REACH_RAMP,
        "SPRITE_HALF_MIN": SPRITE_HALF_MIN,
        "SPRITE_HALF_FULL": SPRITE_HALF_FULL,
        "SPRITE_MERGE_MIN": SPRITE_MERGE_MIN,
        "SPRITE_MERGE_FULL": SPRITE_MERGE_FULL,
        "SPRITE_RIM": SPRITE_RIM,
        "SPRITE_RIM_MAX": SPRITE_RIM_MAX,
        "HIGHLIGHT_MIN": HIGHLIGHT_MIN,
        "HDR_MIN": HDR_MIN,
        "NARROW_COC": NARROW_COC,
        "FLAG_SPRITES": FLAG_SPRITES,
        "FLAG_NARROW": FLAG_NARROW,
        "FLAG_SLIGHT": FLAG_SLIGHT,
    }
