"""`--source` on the command line: render and preview read recordings, synthetic scenes and
video pairs through one option; sensor depth is conditioned by default, files are not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime.cli import main
from realtime.sources.images import linear_to_srgb
from realtime.sources.realsense import RealSenseRecording
from realtime.sources.rsrecord import write_recording
from realtime.sources.synthetic import SyntheticClip, project

SIZE = (160, 90)
FPS = 10.0
FRAMES = 6
RUN_TIMEOUT_S = 120


def render(*args: str) -> int:
    return main(["render", *args])


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Six frames of synthetic:demo (clean depth) recorded through the RealSense SDK."""
    clip = SyntheticClip("demo", SIZE, FPS)
    frames = []
    for k in range(FRAMES):
        color, depth = clip.read(k)
        srgb = np.clip(linear_to_srgb(np.clip(color, 0.0, 1.0)), 0.0, 1.0)
        millimetres = np.rint(np.nan_to_num(depth) * 1000).astype(np.uint16)
        frames.append((np.rint(srgb * 255).astype(np.uint8), millimetres))
    path = tmp_path_factory.mktemp("rec") / "demo.db3"
    write_recording(path, frames, FPS, clip.intrinsics)
    clip.close()
    yield path


def test_render_reads_every_frame_of_a_recording(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "out_%04d.png"
    lens = ["--focus", "1.35", "--focal-length", "85", "--f-number", "1.4"]
    assert render("--source", f"realsense:{recording}", *lens, "-o", str(out)) == 0
    written = sorted(tmp_path.glob("out_*.png"))
    assert len(written) == FRAMES
    clip = RealSenseRecording(recording)
    assert clip.frame_count == FRAMES and clip.skipped == 0
    clip.close()
    # The sphere recedes, its front from 1.33 m at 7.5 cm a frame; focus stays at 1.35 m:
    # its centre keeps the input's detail in the first frame and loses it as it moves away.
    synthetic = SyntheticClip("demo", SIZE, FPS)
    kept = []
    for k, path in enumerate(written):
        col, row = (int(v) for v in project(synthetic.subject_center_m(k), synthetic.intrinsics))
        window = (slice(row - 6, row + 7), slice(col - 6, col + 7))
        out = iio.imread(path).astype(np.float32)[window] / 255
        sharp = linear_to_srgb(np.clip(synthetic.color(k), 0.0, 1.0))[window]
        kept.append(
            float(np.abs(np.diff(out, axis=1)).mean() / np.abs(np.diff(sharp, axis=1)).mean())
        )
    synthetic.close()
    assert kept[0] > 0.95 and kept[-1] < 0.8 * kept[0], kept  # measured 1.00 -> 0.73
    assert all(b < a + 0.02 for a, b in zip(kept, kept[1:], strict=False)), kept


def test_render_of_a_synthetic_sensor_chunk_equals_the_whole(tmp_path: Path) -> None:
    """Depth conditioning is on for a synthetic sensor and its temporal window reaches back
    four frames: a chunk starting mid-clip still equals the whole render, byte for byte."""
    common = ["--source", "synthetic:demo", "--sensor-noise", "realsense", "--size", "160x90"]
    common += ["--focus", "1.8", "--duration", "0.8", "--fps", "10"]
    whole, chunk = tmp_path / "whole", tmp_path / "chunk"
    assert render(*common, "-o", str(whole / "f_%02d.png")) == 0
    assert render(*common, "--frames", "5-7", "-o", str(chunk / "f_%02d.png")) == 0
    for k in (5, 6, 7):
        assert (chunk / f"f_{k:02d}.png").read_bytes() == (whole / f"f_{k:02d}.png").read_bytes()
    off = tmp_path / "off"
    assert render(*common, "--condition-depth", "off", "-o", str(off / "f_%02d.png")) == 0
    assert (off / "f_07.png").read_bytes() != (whole / "f_07.png").read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "realsense", "--focus", "2"], "render reads clips"),
        (["--source", "synthetic:nowhere", "--focus", "2"], "unknown synthetic scene"),
        (["--source", "synthetic:demo", "--rgb", "c.png", "--focus", "2"], "not both"),
        (["--source", "synthetic:demo", "--sensor-noise", "kinect", "--focus", "2"], "kinect"),
        (["--rgb", "c.png", "--depth", "d.png", "--sensor-noise", "realsense"], "synthetic"),
        (["--source", "synthetic:demo", "--condition-depth", "maybe"], "on or off"),
    ],
)
def test_bad_source_options_are_one_line_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert render(*args, "-o", str(tmp_path / "o_%02d.png")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


# --- The preview, in a real window under Xvfb ------------------------------------------------


def preview(args: list[str]) -> subprocess.CompletedProcess[str]:
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.fail("xvfb-run not found: install it (Debian: apt-get install xvfb xauth)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 640x480x24", sys.executable, "-m", "realtime"]
        + ["preview", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
    )


def test_preview_of_a_synthetic_sensor_racks_to_the_clicked_subject() -> None:
    clip = SyntheticClip("demo", SIZE, 30.0)
    col, row = (int(v) for v in project(clip.subject_center_m(3), clip.intrinsics))
    subject_m = clip.subject_depth_m(3)
    clip.close()
    args = ["--source", "synthetic:demo", "--sensor-noise", "realsense", "--focus", "8"]
    args += ["--frames", "12", "--fixed-dt", "0.1", "--click", f"{col},{row}@0.3"]
    result = preview([*args, "--rack-duration", "0.5", "--print-focus"])
    assert result.returncode == 0, result.stderr
    focus = float(result.stdout.split()[0])
    assert abs(focus - subject_m) < 0.25, (focus, subject_m)  # the sphere's near side


def test_preview_plays_a_scene_as_a_camera_and_reports_it() -> None:
    """--as-live: a capture thread delivers frames in real time; the window shows the newest
    and --stats reports the camera's counters and the capture-to-screen time."""
    args = ["--source", "synthetic:demo", "--as-live", "--focus", "2", "--close-at", "1.5"]
    result = preview([*args, "--stats"])
    assert result.returncode == 0, result.stderr
    camera = [line for line in result.stdout.splitlines() if line.startswith("camera:")]
    assert len(camera) == 1 and "status ok" in camera[0], result.stdout
    shown = int(camera[0].split(",")[1].split()[0])
    assert shown >= 3  # frames arrived and were shown while the window ran
    assert "capture to screen median" in camera[0] and "n/a" not in camera[0]


def test_sdk_filters_smooth_a_noisy_recording(tmp_path: Path) -> None:
    """--rs-filters: librealsense's own spatial, temporal and hole-filling filters run on the
    recorded depth (for comparison with --condition-depth): holes are filled and the depth
    on the far sphere and floor changes without getting worse. (At this tiny size the SDK's
    edge-preserving spatial filter takes most of the noise for edges and leaves it.)"""
    clip = SyntheticClip("demo", SIZE, FPS, "realsense")
    frames = []
    for k in range(FRAMES):
        color = clip.color(k)
        srgb = np.clip(linear_to_srgb(np.clip(color, 0.0, 1.0)), 0.0, 1.0)
        millimetres = np.rint(np.nan_to_num(clip.raw_depth(k)) * 1000).astype(np.uint16)
        frames.append((np.rint(srgb * 255).astype(np.uint8), millimetres))
    clean, clean_before = clip.clean_depth(FRAMES - 1), clip.clean_depth(FRAMES - 2)
    wall = (clean > 3.0) & (clean < 6.0)  # the far sphere and the floor around it
    path = tmp_path / "noisy.db3"
    write_recording(path, frames, FPS, clip.intrinsics)
    clip.close()
    plain, filtered = RealSenseRecording(path), RealSenseRecording(path, sdk_filters=True)
    try:
        raw, smooth = plain.raw_depth(FRAMES - 1), filtered.raw_depth(FRAMES - 1)
        assert np.isnan(raw).mean() > 0.01 and np.isnan(smooth).mean() < np.isnan(raw).mean() / 4
        lagged = clean_before  # the sensor's depth is a frame late
        valid = wall & np.isfinite(raw)
        error_raw = float(np.median(np.abs(raw - lagged)[valid]))
        error_smooth = float(np.median(np.abs(smooth - lagged)[valid]))
        assert not np.array_equal(smooth[valid], raw[valid])  # the filters ran
        assert error_smooth < 1.05 * error_raw, (error_smooth, error_raw)
    finally:
        plain.close()
        filtered.close()


FLAKY_CAMERA = '''
import json, sys, time
import numpy as np
from realtime.frameloop import LiveFrames
from realtime.lens import Lens
from realtime.preview.app import Preview
from realtime.preview.controls import Controls
from realtime.preview.options import PreviewOptions
from realtime.preview.script import ScriptEvent
from realtime.sources.depth import DepthConvention
from realtime.sources.live import LiveFrame, LiveSource
from realtime.sources.options import Inputs
from realtime.sources.spec import parse_source

H, W = 48, 64
START = time.monotonic()
FAULT = (0.5, 1.4)  # seconds after start when the camera is unplugged


class Flaky(LiveSource):
    """A camera that streams, is unplugged for a while, then streams again."""

    def _capture(self):
        time.sleep(0.02)
        now = time.monotonic() - START
        if FAULT[0] < now < FAULT[1]:
            raise RuntimeError("camera unplugged: USB device reset")
        color = np.full((H, W, 3), 0.2 + 0.6 * (now > FAULT[1]), np.float32)
        return LiveFrame(color, np.full((H, W), 2.0, np.float32), time.monotonic())


class Recording(Preview):
    titles = []

    def update_title(self, now):
        super().update_title(now)
        Recording.titles.append((time.monotonic() - START, self.title, self.loop.index))


live = Flaky("flaky", stall_after_s=0.3, backoff_s=(0.05, 0.1)).start()
frames = LiveFrames(live)
while not frames.poll():
    time.sleep(0.01)
frames.index = -1
inputs = Inputs(None, None, parse_source("realsense"), DepthConvention(), False, None, False)
options = PreviewOptions(inputs, Lens(focus_m=2.0), 2.0, script=(ScriptEvent(2.4, "close"),))
preview = Recording(options, frames, Controls(Lens(focus_m=2.0), frames.frame.depth))
code = preview.run()
live.close()
print(json.dumps({"code": code, "titles": Recording.titles, "failures": live.failures}))
'''


def test_preview_keeps_the_last_frame_while_a_camera_is_away_and_picks_it_up_again(
    tmp_path: Path,
) -> None:
    script = tmp_path / "flaky.py"
    script.write_text(FLAKY_CAMERA)
    xvfb_run = shutil.which("xvfb-run")
    assert xvfb_run is not None, "xvfb-run not found: install it (apt-get install xvfb xauth)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    result = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 640x480x24", sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and report["failures"] >= 1
    titles = report["titles"]
    away = [(t, title, shown) for t, title, shown in titles if 0.7 < t < 1.35]
    assert any("camera: camera unplugged" in title for _, title, _ in away), titles  # the title
    # is refreshed every HUD_INTERVAL_S, so at least one refresh falls in the fault
    assert len({shown for _, _, shown in away}) == 1  # the last good frame stays on screen
    back = [(t, title, shown) for t, title, shown in titles if t > 2.0]
    assert back and all("camera:" not in title for _, title, _ in back), titles
    assert back[-1][2] > away[0][2]  # frames flow again after the camera returns
