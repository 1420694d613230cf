"""Rack smoothness at large blur: what `rackfocus bench`'s TUM rack (11.6 px) does not reach.

    .venv/bin/python tests/measure_large_rack.py [LARGEST_PX] [--png OUT]

The bench's demo scene at 480x270 in artistic mode, scaled so the in-focus
lens's largest CoC is LARGEST_PX / 3 (default 40: the rack reaches about
123 px), focus racked linearly in dioptres from 1.5 to 5 m over 48 frames at
24 fps. Prints metrics.rack_jumps for the pipeline over the whole frame and,
with brute force beside it, over 16 rows through the middle (brute force over
the whole frame would take minutes a frame on llvmpipe). --png writes the
pipeline's second differences at frames 10, 20, 30, 40, amplified 8x.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from realtime.baselines import BruteForce
from realtime.bench import lens_for_max_coc
from realtime.focus import rack
from realtime.groundtruth import SCENES, render_rgbd
from realtime.lens import Lens
from realtime.metrics import display, rack_jumps
from realtime.passes.constants import shader_defines
from realtime.pipeline import Compositor, read_rgb
from realtime.sources.images import LUMA_WEIGHTS

SIZE = (480, 270)
FRAMES, FPS = 48, 24.0
RACK_M = (1.5, 5.0)
BAND_ROWS = 16


def large_rack(comp: Compositor, scale_px: float = 40.0) -> tuple[list[Lens], float, Any]:
    """The rack's lenses, the largest |CoC| they reach (px) and the uploaded (colour,
    depth) textures of the demo scene at SIZE."""
    w, h = SIZE
    scene = SCENES["demo"]()
    color, depth = render_rgbd(comp.ctx, scene, scene.lens, w, h)
    base = replace(lens_for_max_coc(scene.lens, depth, scale_px), max_coc_px=None)
    track = rack(*RACK_M, (FRAMES - 1) / FPS, easing="linear")
    lenses = [track.lens_at(base, k / FPS) for k in range(FRAMES)]
    largest = max(float(np.abs(lens.coc_px(depth, w)).max()) for lens in lenses)
    return lenses, largest, comp.upload(color, depth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale_px", nargs="?", type=float, default=40.0)
    parser.add_argument("--png", type=Path)
    args = parser.parse_args()
    w, h = SIZE
    comp = Compositor()
    lenses, largest, (color_tex, depth_tex) = large_rack(comp, args.scale_px)
    frames = [read_rgb(comp.render_textures(color_tex, depth_tex, lens)) for lens in lenses]
    rows = (h // 2 - BAND_ROWS // 2, BAND_ROWS)
    band = slice(rows[0], rows[0] + rows[1])
    clamp = float(np.ceil(largest))
    brute = BruteForce(comp.ctx, shader_defines(clamp))
    reference = [
        read_rgb(brute.run(color_tex, depth_tex, replace(lens, max_coc_px=clamp), rows))[band]
        for lens in lenses
    ]
    whole, piece, truth = (
        rack_jumps(frames),
        rack_jumps(f[band] for f in frames),
        rack_jumps(reference),
    )
    print(f"largest CoC {largest:.1f} px over {FRAMES} frames at {w}x{h}")
    print(f"pipeline, whole frame: {whole['share_pct']:.2f}% (p99.9 {whole['p999']:.1f}/255)")
    print(f"pipeline, {BAND_ROWS} middle rows: {piece['share_pct']:.2f}% ({piece['p999']:.1f}/255)")
    print(f"brute force, same rows: {truth['share_pct']:.2f}% ({truth['p999']:.1f}/255)")
    if args.png is not None:
        luma = [display(f) @ np.array(LUMA_WEIGHTS) for f in frames]
        maps = [np.abs(luma[k + 1] - 2 * luma[k] + luma[k - 1]) for k in (10, 20, 30, 40)]
        strip = np.clip(np.concatenate(maps, axis=1) * 8.0 * 255.0, 0, 255).astype(np.uint8)
        iio.imwrite(args.png, strip)


if __name__ == "__main__":
    main()
