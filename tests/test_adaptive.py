"""Adaptive resolution: the chooser settles on the scale that holds the frame rate, without
oscillating; scaled frames are softer versions of the full one; a still picture gets one
full-resolution frame."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import moderngl
import numpy as np

from realtime.frameloop import FrameLoop, StillFrames
from realtime.lens import Lens
from realtime.metrics import psnr
from realtime.pipeline import Compositor, read_rgb
from realtime.preview.scaling import SCALES, UP_FRAMES, AdaptiveScale
from realtime.sources.depth import DepthConvention
from realtime.sources.images import linear_to_srgb
from realtime.sources.options import load_pair

ROOT = Path(__file__).resolve().parent.parent
TUM = ROOT / "tests" / "data" / "tum"
TUM_LENS = Lens(focal_length_mm=35.0, f_number=1.4, focus_m=2.2)


def simulate(chooser: AdaptiveScale, full_ms: float, frames: int, t0: float = 0.0) -> None:
    """Frames whose time is full_ms times the pixel share (scale squared)."""
    for i in range(frames):
        scale = chooser.scale
        chooser.record(full_ms * scale * scale, scale, t0 + i / 30)


def test_the_scale_settles_where_the_budget_holds_and_climbs_back_when_it_can() -> None:
    chooser = AdaptiveScale(target_fps=30.0)  # 33.3 ms
    simulate(chooser, full_ms=100.0, frames=200)
    # 100 s^2 <= 33.3 first holds at 0.5 (25 ms); 0.64 would take 41 ms
    assert chooser.scale == 0.5
    assert len(chooser.changes) == 2  # one step down, then steady: no oscillation
    simulate(chooser, full_ms=20.0, frames=UP_FRAMES * len(SCALES) * 2, t0=10.0)
    assert chooser.scale == 1.0  # 20 ms at full scale fits: it climbs back
    scales = [s for _, s in chooser.changes]
    assert scales == sorted(scales[:2], reverse=True) + sorted(scales[2:])  # down, then up


def test_a_noisy_frame_time_does_not_make_the_scale_hunt() -> None:
    chooser = AdaptiveScale(target_fps=30.0)
    rng = np.random.default_rng(3)
    for i in range(600):
        scale = chooser.scale
        jitter = float(rng.uniform(0.8, 1.25))  # a shared machine
        chooser.record(70.0 * scale * scale * jitter, scale, i / 30)
    assert len(chooser.changes) <= 4, chooser.changes


def test_target_fps_zero_never_scales() -> None:
    chooser = AdaptiveScale(target_fps=0.0)
    simulate(chooser, full_ms=1000.0, frames=50)
    assert chooser.scale == 1.0 and len(chooser.changes) == 1


def test_scaled_frames_are_softer_versions_of_the_full_frame(ctx: moderngl.Context) -> None:
    """The CoC follows the scaled width: upsampled back, a half-scale frame is close to the
    full one (the blur lands in the same places), a quarter-scale one less so."""
    color, depth = load_pair(
        str(TUM / "color.png"), str(TUM / "depth.png"), DepthConvention.scaled(0.0002)
    )
    loop = FrameLoop(Compositor(ctx), StillFrames(color, depth))
    full = read_rgb(loop.compose(0, TUM_LENS))
    h, w = depth.shape
    measured = {}
    for scale in (0.5, 0.25):
        small = read_rgb(loop.compose(0, TUM_LENS, scale))
        rows = np.minimum((np.arange(h) + 0.5) * small.shape[0] / h, small.shape[0] - 1)
        cols = np.minimum((np.arange(w) + 0.5) * small.shape[1] / w, small.shape[1] - 1)
        up = small[rows.astype(int)][:, cols.astype(int)]  # nearest: a conservative upsample
        measured[scale] = psnr(up, full)
    # measured (display PSNR): 0.5 -> 30.3 dB, 0.25 -> 25.3 dB; the window's bilinear
    # upsample gives 30.6 and 25.6
    assert measured[0.5] > 29.5 and measured[0.25] > 24.5 and measured[0.5] > measured[0.25]
    assert loop.inputs is not None and loop.inputs[0].size == (160, 120)
    full_again = read_rgb(loop.compose(0, TUM_LENS))
    assert np.array_equal(full_again, full)  # scale 1 is the full render, untouched


def test_a_racking_window_drops_its_scale_and_ends_on_a_full_resolution_frame(
    tmp_path: Path, compositor: Compositor
) -> None:
    """A rack in real time with an impossible frame-rate target: the scale drops while focus
    moves; once the rack has ended the window shows the full-resolution frame."""
    xvfb_run = shutil.which("xvfb-run")
    assert xvfb_run is not None, "xvfb-run not found: install it (apt-get install xvfb xauth)"
    shot = tmp_path / "end.png"
    args = ["--rgb", str(TUM / "color.png"), "--depth", str(TUM / "depth.png")]
    args += ["--depth-scale", "0.0002", "--focal-length", "35", "--f-number", "1.4"]
    args += ["--focus", "1.2", "--click", "320,240@0.1", "--rack-duration", "0.8"]
    args += ["--target-fps", "1000", "--no-vsync", "--close-at", "2.0", "--stats"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1280x720x24", sys.executable, "-m", "realtime"]
        + ["preview", *args, "--screenshot", str(shot), "--print-focus"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    scale_line = next(line for line in lines if line.startswith("scale:"))
    assert " -> 0." in scale_line, scale_line  # it stepped down while racking
    focus = float(lines[0])
    color, depth = load_pair(
        str(TUM / "color.png"), str(TUM / "depth.png"), DepthConvention.scaled(0.0002)
    )
    full = compositor.render(color, depth, TUM_LENS.with_focus(focus))
    expected = np.rint(np.clip(linear_to_srgb(np.clip(full, 0, 1)), 0, 1) * 255)
    window = iio.imread(shot).astype(np.float64)
    assert window.shape == expected.shape
    assert np.abs(window - expected).max() <= 1  # the full-resolution frame, not a scaled one
