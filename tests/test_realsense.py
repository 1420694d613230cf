"""RealSense: recordings written through a software device, read back as clips; alignment.

These run in CI (pyrealsense2 and libusb are installed there): a skipped test is
not a passed one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from realtime.errors import InputError
from realtime.lens import Lens
from realtime.pipeline import Compositor
from realtime.sources.images import decode_srgb_integers, linear_to_srgb
from realtime.sources.live import Intrinsics
from realtime.sources.realsense import (
    RealSenseCamera,
    RealSenseRecording,
    import_realsense,
    pair_by_timestamp,
)
from realtime.sources.registration import (
    CameraModel,
    Extrinsics,
    align_depth_to_color,
    deproject,
    project,
)
from realtime.sources.rsrecord import write_recording
from realtime.sources.synthetic import SyntheticClip
from realtime.sources.synthetic import project as project_point

FPS = 5.0  # the demo's sphere moves 15 cm per frame: 1.5 m -> 3 m -> 2.85 m in 12 frames
FRAMES = 12
NO_COLOR, NO_DEPTH = 5, 8  # frames recorded with one stream missing
KEPT = [k for k in range(FRAMES) if k not in (NO_COLOR, NO_DEPTH)]


@dataclass
class Recorded:
    path: Path
    clip: SyntheticClip  # the scene that was recorded (clean depth)
    colors: list[np.ndarray]  # uint8 sRGB as written
    depths: list[np.ndarray]  # uint16 millimetres as written


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    clip = SyntheticClip("demo", fps=FPS)
    colors, depths = [], []
    for k in range(FRAMES):
        color, depth = clip.read(k)
        srgb = np.clip(linear_to_srgb(np.clip(color, 0.0, 1.0)), 0.0, 1.0)
        colors.append(np.rint(srgb * 255).astype(np.uint8))
        depths.append(np.rint(depth * 1000.0).astype(np.uint16))
    pairs = [
        (None if k == NO_COLOR else c, None if k == NO_DEPTH else d)
        for k, (c, d) in enumerate(zip(colors, depths, strict=True))
    ]
    path = tmp_path_factory.mktemp("realsense") / "demo.db3"
    assert write_recording(path, pairs, FPS, clip.intrinsics) == FRAMES - 2
    yield Recorded(path, clip, colors, depths)
    clip.close()


@pytest.fixture(scope="module")
def recording(recorded: Recorded) -> Iterator[RealSenseRecording]:
    clip = RealSenseRecording(recorded.path)
    yield clip
    clip.close()


def test_recording_reads_back_what_was_written(
    recorded: Recorded, recording: RealSenseRecording
) -> None:
    assert recording.frame_count == FRAMES - 2 and recording.skipped == 2
    assert recording.fps == FPS
    assert recording.depth_scale == pytest.approx(0.001)
    assert np.allclose(recording.intrinsics, recorded.clip.intrinsics, atol=1e-4)
    for k, source in enumerate(KEPT):
        assert recording.timestamp_s(k) == pytest.approx(source / FPS)
        written = recorded.colors[source]
        assert np.array_equal(recording.color_rgb8(k), written)
        color, depth = recording.read(k)
        assert np.array_equal(color, decode_srgb_integers(written))
        raw = recording.raw_depth(k)
        valid = np.isfinite(raw)
        assert valid.mean() > 0.999  # identical cameras: every pixel maps to itself
        expected = recorded.depths[source] / np.float32(1000.0)
        assert np.abs(raw[valid] - expected[valid]).max() < 1e-6
        assert np.isfinite(depth).all() and np.array_equal(depth[valid], raw[valid])
    with pytest.raises(InputError, match="frame 10 is past the end"):
        recording.read(10)


def test_reading_is_deterministic(recorded: Recorded, recording: RealSenseRecording) -> None:
    again = RealSenseRecording(recorded.path)
    try:
        assert again.frame_count == recording.frame_count and again.skipped == recording.skipped
        for k in (0, 4, 9):
            assert again.read(k)[1].tobytes() == recording.read(k)[1].tobytes()
    finally:
        again.close()


def test_playback_loses_no_frames(tmp_path: Path) -> None:
    # Without pausing playback until both sensors stream, 5 of 10 reads of this file
    # lost 1 to 53 colour frames.
    frames = [
        (np.full((18, 32, 3), k, np.uint8), np.full((18, 32), 1000 + k, np.uint16))
        for k in range(60)
    ]
    path = tmp_path / "short.db3"
    write_recording(path, frames, 30.0, Intrinsics(30.0, 30.0, 15.5, 8.5))
    for _ in range(4):
        clip = RealSenseRecording(path)
        try:
            assert (clip.frame_count, clip.skipped) == (60, 0)
            assert clip.color_rgb8(59)[0, 0, 0] == 59 and clip.raw_depth(59)[0, 0] == 1.059
        finally:
            clip.close()


def sharpness(image: np.ndarray, row: int, col: int, half: int = 6) -> float:
    """Mean squared horizontal + vertical difference of luma in a window."""
    luma = image[row - half : row + half + 1, col - half : col + half + 1].mean(axis=2)
    return float((np.diff(luma, axis=0) ** 2).mean() + (np.diff(luma, axis=1) ** 2).mean())


def test_composite_of_the_recording_follows_the_recorded_motion(
    recorded: Recorded, recording: RealSenseRecording, compositor: Compositor
) -> None:
    lens = Lens(focal_length_mm=50.0, f_number=1.4, focus_m=1.333, artistic_blur_px=24.0)
    width = recorded.clip.width
    cocs, ratios = [], []
    for k, source in enumerate(KEPT):
        color, depth = recording.read(k)
        center = recorded.clip.subject_center_m(source)
        u, v = project_point(center, recording.intrinsics)
        row, col = round(v), round(u)
        distance = float(np.linalg.norm(center))
        front = (distance - 0.17) * center[2] / distance  # the sphere's nearest point
        assert depth[row, col] == pytest.approx(front, abs=0.005)
        out = compositor.render(color, depth, lens)
        cocs.append(abs(float(lens.coc_px(depth[row, col], width))))
        ratios.append(sharpness(out, row, col) / sharpness(color, row, col))
    # in focus at 1.33 m (frame 0), 12.7 px of CoC at 3 m (frame 10): measured ratios fall
    # 1.0, 0.35, 0.07, 0.04 ... 0.02 as the CoC grows 0, 2.4, 4.4, 6.0 ... 12.7 px
    assert cocs[0] < 0.5 and max(cocs) > 7.0
    assert ratios[0] > 0.8
    assert max(r for r, c in zip(ratios, cocs, strict=True) if c > 6.0) < 0.3 * ratios[0]
    rank_c, rank_r = np.argsort(np.argsort(cocs)), np.argsort(np.argsort(ratios))
    assert np.corrcoef(rank_c, rank_r)[0, 1] < -0.9


def test_pairing_skips_frames_without_a_partner() -> None:
    color = [0.0, 33.4, 66.6, 100.1, 166.7]  # the frame at 133 ms lost its colour
    depth = [0.4, 33.0, 100.0, 133.2, 166.0, 200.0]  # 66 ms lost its depth; 200 ms is alone
    pairs, skipped = pair_by_timestamp(color, depth, tolerance_ms=1000 / 30 / 2)
    assert pairs == [(0, 0), (1, 1), (3, 2), (4, 4)]
    assert skipped == 3


CAMERA = CameraModel(160, 90, 120.0, 120.0, 79.5, 44.5)


def test_alignment_of_identical_cameras_is_the_identity() -> None:
    rng = np.random.default_rng(1)
    depth = rng.uniform(0.5, 5.0, (90, 160)).astype(np.float32)
    depth[10:20, 30:40] = np.nan
    aligned = align_depth_to_color(depth, CAMERA, CAMERA, Extrinsics())
    assert np.array_equal(np.isnan(aligned), np.isnan(depth))
    assert np.allclose(aligned, depth, rtol=1e-6, equal_nan=True)


def test_alignment_moves_by_the_baseline_disparity_and_fills_a_larger_image() -> None:
    depth = np.full((90, 160), 4.0, np.float32)
    depth[30:60, 60:100] = 2.0
    color = CameraModel(320, 180, 240.0, 240.0, 159.5, 89.5)  # twice the resolution
    shifted = Extrinsics(translation_m=(-0.05, 0.0, 0.0))  # colour camera 5 cm to the right
    aligned = align_depth_to_color(depth, CAMERA, color, shifted)
    # the near square moves left by f * B / z = 240 * 0.05 / 2 = 6 colour pixels
    row = aligned[90]
    near = np.flatnonzero(np.abs(row - 2.0) < 1e-6)
    assert near[0] == 120 - 6 and near[-1] == 199 - 6
    # no holes from upsampling; only where the colour camera sees what depth could not:
    # 6 - 3 px right of the square (disocclusion; the wall at 4 m moves 3 px) and the
    # image's last 3 columns
    rows, cols = np.nonzero(np.isnan(aligned))
    assert set(cols) == {194, 195, 196, 317, 318, 319}
    assert len(rows) == 3 * 180 + 3 * 60


@pytest.mark.parametrize("model", ["brown_conrady", "inverse_brown_conrady"])
def test_distortion_round_trips(model: str) -> None:
    camera = CameraModel(
        160, 90, 120.0, 120.0, 79.5, 44.5, model, (0.1, -0.05, 0.002, -0.001, 0.01)
    )
    u, v = np.meshgrid(np.arange(0, 160, 7.0), np.arange(0, 90, 7.0))
    points = deproject(camera, u.ravel(), v.ravel(), np.full(u.size, 2.0))
    pu, pv = project(camera, points)
    assert np.abs(pu - u.ravel()).max() < 0.01 and np.abs(pv - v.ravel()).max() < 0.01


def test_bad_files_are_one_line_input_errors(tmp_path: Path) -> None:
    fake = tmp_path / "fake.db3"
    fake.write_bytes(b"not a recording")
    with pytest.raises(InputError, match="cannot play as a RealSense recording") as info:
        RealSenseRecording(fake)
    assert "\n" not in str(info.value)
    text = tmp_path / "clip.txt"
    text.write_text("x")
    with pytest.raises(InputError, match="a RealSense recording is a .db3 or .bag file"):
        RealSenseRecording(text)
    with pytest.raises(InputError, match="records .db3 files only"):
        write_recording(tmp_path / "out.bag", [], 30.0, Intrinsics(120.0, 120.0, 79.5, 44.5))


def test_without_pyrealsense2_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyrealsense2", None)  # import fails as if not installed
    with pytest.raises(InputError, match=r"rackfocus\[realsense\].*libusb-1.0-0"):
        import_realsense()


def test_opening_a_camera_without_one_is_a_one_line_error() -> None:
    with pytest.raises(InputError, match="^no RealSense camera found$"):
        RealSenseCamera()
