"""--source strings: parsing, and opening what they name."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from realtime.errors import InputError
from realtime.outputs.video import VideoWriter, write_depth_video
from realtime.sources.depth import DepthConvention
from realtime.sources.frames import RGBDFrames
from realtime.sources.live import Intrinsics
from realtime.sources.realsense import RealSenseRecording
from realtime.sources.rsrecord import write_recording
from realtime.sources.spec import SourceSpec, open_source, parse_source
from realtime.sources.synthetic import SyntheticClip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("realsense", SourceSpec("realsense", "realsense")),
        (" RealSense ", SourceSpec("realsense", " RealSense ")),
        (
            "realsense:123622270300",
            SourceSpec("realsense", "realsense:123622270300", "123622270300"),
        ),
        (
            "realsense:take 1.db3",
            SourceSpec("recording", "realsense:take 1.db3", path="take 1.db3"),
        ),
        (
            "realsense:/data/a.BAG",
            SourceSpec("recording", "realsense:/data/a.BAG", path="/data/a.BAG"),
        ),
        ("synthetic:demo", SourceSpec("synthetic", "synthetic:demo", name="demo")),
        (
            "video:c.mp4,d.mkv",
            SourceSpec("video", "video:c.mp4,d.mkv", color="c.mp4", depth="d.mkv"),
        ),
        (
            "seq:rgb/%04d.png, depth/%04d.png",
            SourceSpec(
                "seq",
                "seq:rgb/%04d.png, depth/%04d.png",
                color="rgb/%04d.png",
                depth="depth/%04d.png",
            ),
        ),
    ],
)
def test_parse(text: str, expected: SourceSpec) -> None:
    assert parse_source(text) == expected
    assert parse_source(text).live == (expected.kind == "realsense")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kinect", "unknown source kind 'kinect'; use realsense, realsense:SERIAL"),
        ("file.png", "unknown source kind 'file.png'"),
        ("realsense:", "give a serial number or a recording after ':'"),
        (
            "realsense:take.mp4",
            "take.mp4 is neither a serial number nor a recording (.db3 or .bag)",
        ),
        ("synthetic:", "give a scene name after 'synthetic:'"),
        ("synthetic:floor", "unknown synthetic scene 'floor'; known: demo, foreground, portrait"),
        ("video:only.mp4", "give the colour and the depth input, comma-separated"),
        ("seq:a_%04d.png,", "give the colour and the depth input, comma-separated"),
        ("video:", "give colour and depth inputs after 'video:'"),
    ],
)
def test_parse_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_source(text)
    assert "\n" not in str(info.value)


def test_open_synthetic_with_a_sensor_model() -> None:
    clip = open_source("synthetic:portrait", sensor_noise="realsense", size=(64, 36), fps=12.0)
    try:
        assert isinstance(clip, SyntheticClip)
        assert clip.sensor is not None and clip.fps == 12.0 and clip.width == 64
        color, depth = clip.read(1)
        assert color.shape == (36, 64, 3) and np.isfinite(depth).all()
    finally:
        clip.close()


def test_sensor_noise_is_for_synthetic_sources_only(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown sensor model 'tof'"):
        open_source("synthetic:demo", sensor_noise="tof")
    with pytest.raises(InputError, match="a sensor model applies to synthetic: only"):
        open_source("seq:a_%04d.png,b_%04d.png", sensor_noise="realsense")


def test_open_seq_and_video(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    colors = [rng.integers(0, 255, (18, 32, 3), dtype=np.uint8) for _ in range(3)]
    depths = [np.full((18, 32), 1000 + 100 * k, np.uint16) for k in range(3)]
    for k in range(3):
        iio.imwrite(tmp_path / f"rgb_{k:04d}.png", colors[k])
        iio.imwrite(tmp_path / f"depth_{k:04d}.png", depths[k])
    mm = DepthConvention.scaled(0.001)
    seq = open_source(f"seq:{tmp_path}/rgb_%04d.png,{tmp_path}/depth_%04d.png", convention=mm)
    assert isinstance(seq, RGBDFrames) and seq.frame_count == 3
    assert seq.read(2)[1][0, 0] == pytest.approx(1.2)
    seq.close()

    writer = VideoWriter(tmp_path / "rgb.mp4", (32, 18), 10.0)
    for k, c in enumerate(colors):
        writer.write(k, c / np.float32(255))
    writer.finish()
    write_depth_video(tmp_path / "depth.mkv", depths, 10.0)
    video = open_source(f"video:{tmp_path}/rgb.mp4,{tmp_path}/depth.mkv", convention=mm)
    assert isinstance(video, RGBDFrames) and video.frame_count == 3
    assert video.read(1)[1][0, 0] == pytest.approx(1.1)
    video.close()

    with pytest.raises(InputError, match="is not a video"):
        open_source(f"video:{tmp_path}/rgb_0000.png,{tmp_path}/depth.mkv", convention=mm)
    with pytest.raises(InputError, match="is not a numbered pattern"):
        open_source(f"seq:{tmp_path}/rgb.mp4,{tmp_path}/depth_%04d.png", convention=mm)


def test_missing_files_are_one_line_errors(tmp_path: Path) -> None:
    for text in (
        f"realsense:{tmp_path}/missing.db3",
        f"video:{tmp_path}/missing.mp4,{tmp_path}/d.mkv",
        f"seq:{tmp_path}/rgb_%04d.png,{tmp_path}/depth_%04d.png",
    ):
        with pytest.raises(InputError) as info:
            open_source(text)
        assert "no such file" in str(info.value) or "no files match" in str(info.value)
        assert "\n" not in str(info.value)


def test_open_recording(tmp_path: Path) -> None:
    frames = [
        (np.full((18, 32, 3), k, np.uint8), np.full((18, 32), 900, np.uint16)) for k in range(4)
    ]
    write_recording(tmp_path / "r.db3", frames, 15.0, Intrinsics(30.0, 30.0, 15.5, 8.5))
    clip = open_source(f"realsense:{tmp_path}/r.db3", loop=True)
    try:
        assert isinstance(clip, RealSenseRecording) and clip.frame_count == 4
        assert clip.input_index(5) == 1 and clip.read(5)[1][0, 0] == pytest.approx(0.9)
    finally:
        clip.close()


def test_open_camera_without_one() -> None:
    with pytest.raises(InputError, match="^no RealSense camera found$"):
        open_source("realsense:123622270300")
