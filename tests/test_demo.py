"""`rackfocus demo` renders the built-in scene with no input files."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import moderngl
import numpy as np

from realtime.cli import main
from realtime.demo import FAR_M, FPS, NEAR_M, RACK_S, STRIP_FRAMES
from realtime.groundtruth import SCENES, render_rgbd
from realtime.sources.images import linear_to_srgb


def detail(image: np.ndarray, region: np.ndarray) -> float:
    """Mean absolute step to the right and down neighbours over `region`: falls with blur."""
    img = image.astype(np.float64)
    steps = np.abs(np.diff(img, axis=1))[:-1] + np.abs(np.diff(img, axis=0))[:, :-1]
    return float(steps.sum(axis=2)[region[:-1, :-1]].mean())


def test_demo_writes_stills_and_video(ctx: moderngl.Context, tmp_path: Path) -> None:
    # The demo's own scene, pixel for pixel: its depth says where each subject is. (Rendered
    # first: the demo then makes a context of its own current.)
    scene = SCENES["demo"]()
    color, depth = render_rgbd(ctx, scene, scene.lens, 320, 180)
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--size", "320x180"]) == 0
    near_subject = np.abs(depth - NEAR_M) < 0.1  # the ball and the floor beside it
    far_subject = np.abs(depth - FAR_M) < 0.3
    wall = depth > 14.0
    assert near_subject.sum() > 1000 and far_subject.sum() > 1000

    source = iio.imread(out / "input.png")
    assert source.shape == (180, 320, 3) and source.dtype == np.uint8
    srgb_codes = linear_to_srgb(np.clip(color, 0.0, 1.0)) * 255
    assert np.abs(source - srgb_codes).max() <= 1.0  # the rendered colour, 8-bit sRGB
    grey = iio.imread(out / "depth.png").astype(float)
    assert grey.shape == (180, 320, 3) and (grey == grey[..., :1]).all()
    assert grey[..., 0][near_subject].mean() > grey[..., 0][far_subject].mean()
    assert grey[..., 0][far_subject].mean() > grey[..., 0][wall].mean()  # near is bright

    near = iio.imread(out / "near.png").astype(float)
    far = iio.imread(out / "far.png").astype(float)
    assert near.shape == far.shape == (180, 320, 3)
    assert np.abs(near - far).mean() > 2.0  # focus moved: the two stills differ
    # Each still is as sharp as the input where it is focused and blurred where the other
    # one is (ratios of about 3 and 7 measured; 2 leaves room for scene or kernel tweaks).
    assert detail(near, near_subject) > 2 * detail(far, near_subject)
    assert detail(far, far_subject) > 2 * detail(near, far_subject)
    assert detail(near, near_subject) > 0.9 * detail(source, near_subject)
    assert detail(far, far_subject) > 0.9 * detail(source, far_subject)

    strip = iio.imread(out / "strip.png").astype(float)
    assert strip.shape == (180, 320 * STRIP_FRAMES, 3)
    np.testing.assert_array_equal(strip[:, :320], near)  # the rack starts on the near subject
    np.testing.assert_array_equal(strip[:, -320:], far)  # and ends on the far one

    frames = iio.imread(out / "rack.mp4", plugin="FFMPEG", index=None).astype(float)
    assert frames.shape == (round(RACK_S * FPS) + 1, 180, 320, 3)
    first, last = frames[0], frames[-1]
    # H.264 is lossy: each end frame is nearer its still than the other still.
    assert np.abs(first - near).mean() < 0.5 * np.abs(first - far).mean()
    assert np.abs(last - far).mean() < 0.5 * np.abs(last - near).mean()
    assert detail(first, near_subject) > 2 * detail(last, near_subject)
    assert detail(last, far_subject) > 2 * detail(first, far_subject)


def test_demo_bad_size_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "-o", str(tmp_path), "--size", "big"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
