"""synthetic:NAME clips: the set motion, the RealSense-like sensor model, determinism."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import moderngl
import numpy as np
import pytest

from realtime.errors import InputError
from realtime.groundtruth import SCENES
from realtime.lens import Lens
from realtime.pipeline import Compositor, read_rgb
from realtime.sources.live import ClipAsLive
from realtime.sources.sensor import (
    SENSOR_MODELS,
    occlusion_shadow,
    sensor_depth,
    sensor_model,
    shift_image,
)
from realtime.sources.synthetic import MOTIONS, SyntheticClip, project, scene_at

FPS = 10.0  # the subject moves 7.5 cm per frame: lag is far above the noise
REALSENSE = SENSOR_MODELS["realsense"]
FX = 222.2  # focal length in pixels of the demo lens at 160 px


@pytest.fixture(scope="module")
def clean_clip() -> Iterator[SyntheticClip]:
    clip = SyntheticClip("demo", fps=FPS)
    yield clip
    clip.close()


@pytest.fixture(scope="module")
def sensor_clip() -> Iterator[SyntheticClip]:
    clip = SyntheticClip("demo", fps=FPS, sensor_noise="realsense", seed=3)
    yield clip
    clip.close()


def test_scene_at_moves_only_the_subject_back_and_forth() -> None:
    base = SCENES["demo"]()
    motion = MOTIONS["demo"]
    assert motion.period_s == pytest.approx(4.0)
    for t, z in ((0.0, 1.5), (1.0, 2.25), (2.0, 3.0), (3.0, 2.25), (4.0, 1.5), (-1.0, 2.25)):
        scene = scene_at("demo", t)
        assert scene.objects[0].center == pytest.approx((-0.22, -0.128, z))
        assert scene.objects[1:] == base.objects[1:]
    assert SCENES["demo"]() == base  # the builders are untouched
    for name in MOTIONS:
        scene_at(name, 0.7)  # every moving variant builds


def test_subject_depth_at_its_centre_follows_the_motion(clean_clip: SyntheticClip) -> None:
    radius = 0.17
    measured = []
    for k in (0, 5, 10, 20, 30):
        center = clean_clip.subject_center_m(k)
        assert center[2] == pytest.approx(clean_clip.subject_depth_m(k))
        u, v = project(center, clean_clip.intrinsics)
        distance = math.dist(center, (0.0, 0.0, 0.0))
        expected = (distance - radius) * center[2] / distance  # z of the front of the sphere
        got = float(clean_clip.clean_depth(k)[round(v), round(u)])
        assert got == pytest.approx(expected, abs=0.005), k
        measured.append(got)
    # 1.5 m at t = 0, 1.875 at 0.5 s, 2.25 at 1 s, 3 m at 2 s, back to 2.25 at 3 s
    assert measured[0] < measured[1] < measured[2] < measured[3] and measured[4] < measured[3]


def test_noise_std_grows_with_distance_squared() -> None:
    color = np.full((200, 200, 3), 0.5, np.float32)
    stds = {}
    for z in (1.0, 2.0, 4.0):
        depth = sensor_depth(REALSENSE, np.full((200, 200), z, np.float32), color, 3, 0, FX)
        stds[z] = float(np.nanstd(depth))
        # sigma_z = z^2 * 0.08 / (222.2 px * 0.05 m): 7.2 mm at 1 m, 29 mm at 2 m, 115 mm at 4 m
        assert stds[z] == pytest.approx(z * z * 0.08 / (FX * 0.05), rel=0.05)
        codes = depth.astype(np.float64) * 1000.0
        assert np.abs(codes - np.rint(codes)).max() < 1e-3  # Z16 steps of 1 mm
    assert stds[2.0] / stds[1.0] == pytest.approx(4.0, rel=0.08)
    assert stds[4.0] / stds[2.0] == pytest.approx(4.0, rel=0.08)


def test_holes_left_of_near_edges_and_on_dark_surfaces_and_edges_offset() -> None:
    clean = np.full((60, 100), 4.0, np.float32)
    clean[20:40, 40:60] = 1.0  # a near square before a far wall
    color = np.full((60, 100, 3), 0.5, np.float32)
    color[:, 80:] = 0.01  # a dark strip on the right
    depth = sensor_depth(REALSENSE, clean, color, 0, 0, FX)
    row = depth[30]
    # shadow: f * B * (1/1 - 1/4) = 8.3 px left of the square, which depth shows 2 px right
    holes = np.flatnonzero(np.isnan(row[:80]))
    assert holes.tolist() == list(range(34, 42))
    assert np.isfinite(row[42:62]).all() and np.all(np.abs(row[42:62] - 1.0) < 0.05)
    assert abs(row[62] - 4.0) < 0.5  # the square's right edge moved from column 59 to 61
    assert np.isfinite(depth[21:41, 42:80]).all() and np.isnan(depth[19:21, 42:62]).sum() == 0
    dark = np.isnan(depth[:, 82:]).mean()
    assert 0.4 < dark < 0.6  # half the dark pixels lose their depth
    assert np.isnan(depth[:, :30]).sum() == 0


def test_sensor_clip_holes_follow_the_subjects_left_edge(sensor_clip: SyntheticClip) -> None:
    k = 4
    raw = sensor_clip.raw_depth(k)
    seen = shift_image(sensor_clip.clean_depth(k - 1), 2, 1)  # what the sensor measured
    shadow = occlusion_shadow(seen, sensor_clip.intrinsics.fx, REALSENSE.baseline_m)
    assert shadow.sum() > 100 and np.isnan(raw[shadow]).all()
    # rows through the upper half of the sphere, where wall or far floor lie beside it
    center = sensor_clip.subject_center_m(k - 1)
    u, v = project(center, sensor_clip.intrinsics)
    radius_px = sensor_clip.intrinsics.fx * 0.17 / center[2]
    sphere = np.abs(seen - center[2]) < 0.17
    left_band, right_band = [], []
    for r in range(round(v - 0.8 * radius_px) + 1, round(v) + 1):
        cols = np.flatnonzero(sphere[r])
        first, last = cols[0], cols[-1] + 1
        left_band.append(np.isnan(raw[r, first - 3 : first]))
        right_band.append(np.isnan(raw[r, last : last + 3]))
    assert len(left_band) >= 8
    # the wall is at 15 m, the sphere's rim at about 2.3 m: a shadow of 11.1 * (1/2.3 - 1/15)
    # = 4.1 px left of every row of it; none on the right (save a dark pixel or two)
    assert np.mean([band.all() for band in left_band]) > 0.9
    assert np.mean([band.mean() for band in right_band]) < 0.1


def test_depth_is_one_frame_late(sensor_clip: SyntheticClip) -> None:
    k = 6  # moving away at 0.75 m/s: 75 mm per frame at 10 fps
    raw = sensor_clip.raw_depth(k)
    before = shift_image(sensor_clip.clean_depth(k - 1), 2, 1)
    now = shift_image(sensor_clip.clean_depth(k), 2, 1)
    u, v = project(sensor_clip.subject_center_m(k - 1), sensor_clip.intrinsics)
    rows, cols = round(v) + 1, round(u) + 2
    window = (slice(rows - 4, rows + 5), slice(cols - 4, cols + 5))  # inside the sphere
    lag_error = np.nanmedian(raw[window] - before[window])
    assert abs(lag_error) < 0.01
    assert np.nanmedian(raw[window] - now[window]) == pytest.approx(-0.075, abs=0.015)


def test_frames_are_deterministic_and_filled(sensor_clip: SyntheticClip) -> None:
    other = SyntheticClip("demo", fps=FPS, sensor_noise="realsense", seed=3)
    try:
        other.read(9)
        other.read(2)
        color, depth = other.read(7)
        ref_color, ref_depth = sensor_clip.read(7)
        assert color.tobytes() == ref_color.tobytes() and depth.tobytes() == ref_depth.tobytes()
        raw = sensor_clip.raw_depth(7)
        assert other.raw_depth(7).tobytes() == raw.tobytes()
    finally:
        other.close()
    assert np.isnan(raw).any() and np.isfinite(depth).all() and (depth > 0).all()
    valid = np.isfinite(raw)
    assert np.array_equal(depth[valid], raw[valid])  # filling leaves measured depth alone
    seeded = SyntheticClip("demo", fps=FPS, sensor_noise="realsense", seed=4)
    try:
        assert seeded.raw_depth(7).tobytes() != raw.tobytes()
    finally:
        seeded.close()


def test_unknown_names_are_one_line_input_errors() -> None:
    with pytest.raises(InputError, match="unknown synthetic scene 'nope'; known: demo"):
        SyntheticClip("nope")
    with pytest.raises(InputError, match="unknown sensor model 'kinect'; known: realsense"):
        sensor_model("kinect")
    clip = SyntheticClip("demo", fps=FPS)
    with pytest.raises(InputError, match="frame 40 is past the end"):
        clip.read(40)
    clip.close()


def test_reading_leaves_the_callers_context_current(
    ctx: moderngl.Context, compositor: Compositor, clean_clip: SyntheticClip
) -> None:
    color, depth = clean_clip.read(3)
    lens = Lens(focal_length_mm=50.0, f_number=1.4, focus_m=1.5)
    expected = compositor.render(color, depth, lens)
    live = ClipAsLive(SyntheticClip("demo", fps=FPS), fps=30.0).start()
    try:
        deadline = time.monotonic() + 5.0
        frames = 0
        while frames < 3 and time.monotonic() < deadline:
            # no make_current here: the synthetic clip renders on its own thread and context
            textures = compositor.upload(color, depth)
            out = read_rgb(compositor.render_textures(*textures, lens))
            assert np.array_equal(out, expected)
            frames += live.latest() is not None
            clean_clip.read(frames + 10)  # a read on this thread, too
            time.sleep(0.02)
        assert frames == 3 and live.status == "ok"
    finally:
        live.close()
