"""Rack smoothness: how evenly the pass chain's output changes while focus travels.

A linear rack (interpolated in dioptres) moves every pixel's CoC at a steady
rate, so the thin-lens image changes smoothly; a discrete choice in the chain
(a tile class, a ring count, a handover between resolutions) that flips
between two frames shows as a pop. `rack_smoothness` renders a fixed rack
with the pipeline and with the brute-force gather and counts, for each, the
pixel-steps whose second temporal difference jumps (metrics.rack_jumps).

The fixed rack is the one the project's issue measured: the TUM RGB-D frame
of the checkout's test data at 35 mm f/1.4, focus racked linearly from 1.2 m
to 3.5 m over 48 frames at 24 fps. Without the checkout (an installed wheel)
the demo scene's RGB-D frame stands in.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from realtime.focus import rack
from realtime.lens import Lens
from realtime.metrics import rack_jumps

RACK_FROM_M, RACK_TO_M = 1.2, 3.5  # focus at the first and the last frame, metres
RACK_FRAMES = 48  # frames of the rack
RACK_FPS = 24.0  # frame rate: the rack lasts (RACK_FRAMES - 1) / RACK_FPS seconds
RACK_LENS = Lens(focal_length_mm=35.0, f_number=1.4, focus_m=RACK_FROM_M)
TUM_DEPTH_SCALE = 0.0002  # metres per stored unit of TUM depth


def tum_frame() -> Path | None:
    """The checkout's TUM test frame folder, if this is a checkout."""
    folder = Path(__file__).resolve().parent.parent / "tests" / "data" / "tum"
    return folder if (folder / "color.png").is_file() else None


def rack_input(ctx: Any) -> tuple[str, np.ndarray, np.ndarray]:
    """(name, colour linear HxWx3, depth metres HxW) of the fixed rack's frame."""
    folder = tum_frame()
    if folder is not None:
        from realtime.sources.depth import DepthConvention
        from realtime.sources.options import load_pair

        convention = DepthConvention(kind="scaled", scale=TUM_DEPTH_SCALE)
        color, depth = load_pair(str(folder / "color.png"), str(folder / "depth.png"), convention)
        return "tum", color, depth
    from realtime.groundtruth import SCENES, render_rgbd

    scene = SCENES["demo"]()
    color, depth = render_rgbd(ctx, scene, scene.lens, 640, 360)
    return "demo", color, depth


def rack_lenses(depth: np.ndarray, width: int) -> tuple[list[Lens], float]:
    """The lens of every frame of the fixed rack, and the largest |CoC| it reaches (px)."""
    track = rack(RACK_FROM_M, RACK_TO_M, (RACK_FRAMES - 1) / RACK_FPS, easing="linear")
    lenses = [track.lens_at(RACK_LENS, k / RACK_FPS) for k in range(RACK_FRAMES)]
    largest = max(float(np.abs(lens.coc_px(depth, width)).max()) for lens in lenses)
    return lenses, largest


def rack_smoothness(
    ctx: Any, compositor: Any, rows: tuple[int, int] | None = None
) -> dict[str, Any]:
    """Jumps of the pipeline and of brute force over the fixed rack.

    `rows` = (first, count) restricts both to a band of rows (brute force
    costs about a second a frame over the whole TUM frame on llvmpipe).
    """
    from realtime.baselines import BruteForce
    from realtime.passes.constants import shader_defines
    from realtime.pipeline import read_rgb

    name, color, depth = rack_input(ctx)
    h, w = depth.shape
    first, count = rows if rows is not None else (0, h)
    band = slice(first, first + count)
    lenses, largest = rack_lenses(depth, w)
    # Brute force visits a square of the clamp's size: the rack's own largest blur suffices.
    clamp = float(math.ceil(largest))
    brute = BruteForce(ctx, shader_defines(clamp))
    color_tex, depth_tex = compositor.upload(color, depth)

    def pipeline_frames() -> Any:
        for lens in lenses:
            yield read_rgb(compositor.render_textures(color_tex, depth_tex, lens))[band]

    def brute_frames() -> Any:
        for lens in lenses:
            out = brute.run(color_tex, depth_tex, replace(lens, max_coc_px=clamp), rows)
            yield read_rgb(out)[band]

    pipeline = rack_jumps(pipeline_frames())
    reference = rack_jumps(brute_frames())
    brute.release()
    return {
        "input": name,
        "width": w,
        "height": h,
        "rows": [first, count],
        "frames": RACK_FRAMES,
        "largest_coc": round(largest, 2),
        "share_pct": round(pipeline["share_pct"], 3),
        "p999": round(pipeline["p999"], 2),
        "brute_share_pct": round(reference["share_pct"], 3),
        "brute_p999": round(reference["p999"], 2),
    }
