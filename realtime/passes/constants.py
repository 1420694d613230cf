"""Constants shared by the passes and their shaders (injected as #defines).

Every value is defined here once; `shader_defines(lens)` turns them into the
#define block each pass compiles with.
"""

from __future__ import annotations

import math

TILE_SIZE = 16  # full-res pixels per tile side (8 half-res texels)
FG_MIN = 1.0  # |CoC| (px) a pixel in front of focus needs to count as foreground
MIN_GATHER_COC = 1.0  # tiles whose reach is below this CoC diameter skip the gather
RING_SPACING = 2.0  # target distance between kernel rings, full-res px
KERNEL_RINGS = 5  # most rings the gather kernel uses
FOCUS_BAND_LO = 1.0  # |CoC| (px) below which the full-res sharp colour is kept
FOCUS_BAND_HI = 3.0  # |CoC| (px) above which the gathered blur is used
SCATTER_MIN_COC = 8.0  # |CoC| (px) from which isolated highlights are scattered as sprites
HIGHLIGHT_MIN = 0.1  # luminance a peak must exceed twice its surround by to be scattered


def kernel_taps(rings: int = KERNEL_RINGS) -> int:
    """Taps in a kernel of `rings` rings: the centre plus 8k on ring k."""
    return 1 + 4 * rings * (rings + 1)


def dilate_tiles(max_coc_px: float) -> int:
    """Tiles a blur of diameter `max_coc_px` can reach past its own tile."""
    return max(1, math.ceil(max_coc_px / 2 / TILE_SIZE))


def shader_defines(max_coc_px: float) -> dict[str, object]:
    """The #define block for every pass, from the constants above."""
    return {
        "MAX_COC": float(max_coc_px),
        "TILE_SIZE": TILE_SIZE,
        "FG_MIN": FG_MIN,
        "MIN_GATHER_COC": MIN_GATHER_COC,
        "RING_SPACING": RING_SPACING,
        "KERNEL_RINGS": KERNEL_RINGS,
        "KERNEL_TAPS": kernel_taps(),
        "DILATE_TILES": dilate_tiles(max_coc_px),
        "FOCUS_BAND_LO": FOCUS_BAND_LO,
        "FOCUS_BAND_HI": FOCUS_BAND_HI,
        "SCATTER_MIN_COC": SCATTER_MIN_COC,
        "HIGHLIGHT_MIN": HIGHLIGHT_MIN,
    }
