"""Measure depth conditioning on sensor-like depth (issue 21); not a test (minutes).

    .venv/bin/python tests/measure_sensor_depth.py [SCENE,...]

For each ground-truth scene at 960x540 (256-sample ground truth) and each way a sensor's
depth edges sit off the colour's, the depth is what a stereo sensor delivers
(realtime.sources.sensor: noise growing as z^2, occlusion shadows and dark-surface holes,
1 mm steps). Raw, its holes are filled on the CPU as file depth is (fill_invalid_depth);
conditioned, it arrives with its holes as a live camera delivers it (the conditioning
measures the edges' offset beside the holes, then fills them on the GPU):

    shift4x, shift4y, shift3d   the depth image moved (4, 0), (0, 4), (3, 3) px against
                                the colour (misregistration)
    fat2                        near surfaces grown by 2 px (stereo edge fattening)

and the chain renders it raw and conditioned (the frame loop's conditioning, after
FRAMES static frames so the temporal window is full). Printed per case: PSNR of the
chain from the clean depth, from raw and from conditioned depth, the share of what raw
loses that conditioning wins back, and the flicker of the conditioned output between
the last two frames as a share of raw's (mean |difference| of display values).
"""

from __future__ import annotations

import sys

import numpy as np

from realtime.frameloop import FrameLoop
from realtime.gl.context import create_offscreen_context
from realtime.groundtruth import SCENES, render_ground_truth, render_rgbd
from realtime.metrics import display, psnr
from realtime.pipeline import Compositor, read_rgb
from realtime.sources.depth import fill_invalid_depth
from realtime.sources.sensor import SensorModel, sensor_depth

WIDTH, HEIGHT = 960, 540
SAMPLES = 256
FRAMES = 6  # the temporal window (4 earlier frames) full at the last
CASES = {  # name: (depth moved (right, down) px, near surfaces grown px)
    "shift4x": ((4, 0), 0),
    "shift4y": ((0, 4), 0),
    "shift3d": ((3, 3), 0),
    "fat2": ((0, 0), 2),
}


def fatten(depth: np.ndarray, px: int) -> np.ndarray:
    """Near surfaces grown by `px` pixels over what is behind them (a min filter)."""
    out = depth.copy()
    for _ in range(px):
        p = np.pad(out, 1, mode="edge")
        out = np.minimum.reduce([out, p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
    return out


class Frames:
    """A static colour frame with a depth per frame (the sensor's noise differs)."""

    def __init__(self, color: np.ndarray, depths: list[np.ndarray]) -> None:
        self.color, self.depths = color, depths

    def input_index(self, k: int) -> int:
        return k

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.color, self.depths[k]


def flicker(frames: list[np.ndarray]) -> float:
    return float(np.abs(display(frames[-1]) - display(frames[-2])).mean())


def main() -> None:
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else list(SCENES)
    ctx = create_offscreen_context()
    compositor = Compositor(ctx)
    print("scene      case     clean    raw   cond  won back  flicker (of raw)")
    for name in names:
        scene = SCENES[name]()
        lens = scene.lens
        color, depth = render_rgbd(ctx, scene, lens, WIDTH, HEIGHT)
        truth = render_ground_truth(ctx, scene, lens, WIDTH, HEIGHT, samples=SAMPLES)
        fx_px = lens.focal_length_mm / lens.sensor_width_mm * WIDTH
        clean = psnr(compositor.render(color, depth, lens), truth)
        for case, (shift, grow) in CASES.items():
            model = SensorModel(edge_shift_px=shift)
            base = fatten(depth, grow) if grow else depth
            sensed = [sensor_depth(model, base, color, k, 1, fx_px) for k in range(FRAMES)]
            filled = [fill_invalid_depth(d, color) for d in sensed]
            raw_loop = FrameLoop(compositor, Frames(color, filled))
            raw = [read_rgb(raw_loop.compose(k, lens)) for k in (FRAMES - 2, FRAMES - 1)]
            loop = FrameLoop(Compositor(ctx), Frames(color, sensed), condition_depth=True)
            cond = [read_rgb(loop.compose(k, lens)) for k in range(FRAMES)][-2:]
            p_raw, p_cond = psnr(raw[-1], truth), psnr(cond[-1], truth)
            lost = clean - p_raw
            won = f"{(p_cond - p_raw) / lost:+.2f}" if lost > 0.1 else "  -  "
            print(
                f"{name:10s} {case:8s} {clean:6.2f} {p_raw:6.2f} {p_cond:6.2f}   {won}"
                f"     {flicker(cond) / flicker(raw):.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
