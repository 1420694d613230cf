"""Video in and out: H.264, ProRes and lossless FFV1 outputs, FFV1 gray16le depth videos,
atomic video writes. Small sizes (160x90) and few frames: ffmpeg and llvmpipe are quick there."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

from realtime import batch
from realtime.cli import main
from realtime.focus import rack
from realtime.lens import Lens
from realtime.outputs.video import VideoWriter, encode_srgb, write_depth_video
from realtime.sources.depth import DepthConvention
from realtime.sources.frames import open_frames
from realtime.sources.video import DepthVideo, VideoReader

W, H = 160, 90
FPS = 12
FRAMES = 12
LENS = ["--focal-length", "85", "--f-number", "1.4"]


def scene(shift: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two noise-textured subjects: left at 1 m, right at 4 m (linear colour, metres)."""
    rng = np.random.default_rng(3)
    noise = np.roll(rng.random((H, W + 8)).astype(np.float32), shift, axis=1)[:, :W]
    x = np.arange(W)[None, :].repeat(H, axis=0)
    color = np.stack([noise, 0.5 * noise, 0.2 + 0 * noise], -1)
    color[:, W // 2 :, 1] += 0.3
    depth = np.where(x < W // 2, 1.0, 4.0).astype(np.float32)
    return color.astype(np.float32), depth


@pytest.fixture
def pair(tmp_path: Path) -> list[str]:
    color, depth = scene()
    np.save(tmp_path / "c.npy", color)
    np.save(tmp_path / "d.npy", depth)
    return ["--rgb", str(tmp_path / "c.npy"), "--depth", str(tmp_path / "d.npy")]


def clip(pair: list[str]) -> list[str]:
    return ["render", *pair, *LENS, "--rack", "1:4", "--duration", "1", "--fps", str(FPS)]


def read_video(path: Path) -> tuple[np.ndarray, dict]:
    return iio.imread(path, plugin="FFMPEG", index=None), iio.immeta(path, plugin="FFMPEG")


def test_mp4_has_the_right_frames_size_and_rate(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "rack.mp4"
    assert main([*clip(pair), "-o", str(out)]) == 0
    frames, meta = read_video(out)
    assert frames.shape == (FRAMES, H, W, 3)
    assert meta["fps"] == FPS and meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == FRAMES
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def blocks(image: np.ndarray, side: int = 10) -> np.ndarray:
    """Means of side x side pixel blocks."""
    h, w, c = image.shape
    return image.reshape(h // side, side, w // side, side, c).mean(axis=(1, 3))


def test_h264_picture_matches_the_render(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "q.mp4"
    assert main([*clip(pair), "--quality", "10", "-o", str(out)]) == 0
    npy = tmp_path / "seq" / "o_%02d.npy"
    assert main([*clip(pair), "-o", str(npy)]) == 0
    frames, _ = read_video(out)
    for k in (0, FRAMES - 1):
        expected = encode_srgb(np.load(str(npy) % k), 8).astype(np.float64)
        # 4:2:0 chroma cannot hold per-pixel colour noise: compare 10x10 block means, which
        # a wrong YUV matrix (BT.601 against BT.709) would shift by several codes. Limited
        # range (219 luma steps) loses about a code on the way there and back.
        error = np.abs(blocks(frames[k].astype(np.float64)) - blocks(expected))
        assert error.mean() < 1.5 and error.max() < 4.0


def test_prores_mov_reads_back(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "rack.mov"
    assert main([*clip(pair), "--codec", "prores", "-o", str(out)]) == 0
    frames, meta = read_video(out)
    assert frames.shape == (FRAMES, H, W, 3)
    assert meta["codec"].startswith("prores") and meta["pix_fmt"].startswith("yuv422p10le")
    assert meta["fps"] == FPS


def test_lossless_mkv_is_exact_to_16_bit_srgb(pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "rack.mkv"
    assert main([*clip(pair), "-o", str(out)]) == 0  # .mkv defaults to lossless
    frames, meta = read_video(out)
    assert frames.shape == (FRAMES, H, W, 3) and meta["codec"].startswith("ffv1")
    npy = tmp_path / "seq" / "o_%02d.npy"
    assert main([*clip(pair), "-o", str(npy)]) == 0
    reader = VideoReader(out, "rgb48le", "<u2", 3)
    try:
        assert reader.frame_count == FRAMES
        for k in (0, 5, FRAMES - 1):
            assert np.array_equal(reader.read(k), encode_srgb(np.load(str(npy) % k), 16))
    finally:
        reader.close()


def test_depth_video_round_trip_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    depth = rng.integers(0, 65536, size=(5, H, W), dtype=np.uint16)
    depth[:, 0, :3] = [0, 1, 65535]
    path = tmp_path / "depth.mkv"
    write_depth_video(path, depth, fps=FPS)
    reader = VideoReader(path, "gray16le", "<u2", 1)
    try:
        assert reader.source_pix_fmt == "gray16le" and reader.frame_count == 5
        for k in (3, 0, 4):  # out of order: seeks back by restarting
            assert np.array_equal(reader.read(k), depth[k])
    finally:
        reader.close()
    stream = DepthVideo(path, DepthConvention.scaled(0.001))
    try:
        metres = stream.read(2)
        valid = depth[2] > 0
        assert np.array_equal(
            metres[valid], (depth[2][valid] * np.float64(0.001)).astype(np.float32)
        )
        assert np.isnan(metres[~valid]).all()
    finally:
        stream.close()


def test_render_from_rgb_and_depth_videos(tmp_path: Path) -> None:
    count, fps = 6, 10
    colors, depths = zip(*(scene(shift=i) for i in range(count)), strict=True)
    rgb = tmp_path / "rgb.mkv"
    writer = VideoWriter(rgb, (W, H), fps, "lossless")
    for k, color in enumerate(colors):
        writer.write(k, color)
    writer.finish()
    depth = tmp_path / "depth.mkv"
    write_depth_video(depth, [np.rint(d * 1000).astype(np.uint16) for d in depths], fps)
    args = ["--rgb", str(rgb), "--depth", str(depth), "--depth-scale", "0.001", *LENS]
    out = tmp_path / "out.mp4"
    assert main(["render", *args, "--rack", "1:4", "-o", str(out)]) == 0
    frames, meta = read_video(out)
    assert frames.shape == (count, H, W, 3) and meta["fps"] == fps  # length and rate: the input's
    source = open_frames(rgb, depth, DepthConvention.scaled(0.001))
    try:
        color, metres = source.read(4)
        assert np.abs(color - colors[4]).max() < 2e-5  # 16-bit sRGB codes
        assert np.array_equal(metres, depths[4])
        assert np.array_equal(source.read(1)[1], depths[1])  # backwards: restarts the decoder
    finally:
        source.close()


def test_interrupted_video_leaves_no_file(
    pair: list[str], tmp_path: Path, interrupt_at_readback
) -> None:
    interrupt_at_readback(6)
    before = sorted(tmp_path.iterdir())
    assert main([*clip(pair), "-o", str(tmp_path / "rack.mp4")]) == 130
    assert sorted(tmp_path.iterdir()) == before  # no video, no temporary file


def test_failure_in_the_loop_leaves_no_file_and_keeps_an_old_one(tmp_path: Path) -> None:
    from realtime.pipeline import Compositor

    class Failing:
        def input_index(self, k: int) -> int:
            return k

        def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
            if k == 3:
                raise ValueError("decoder broke")
            return scene(k)

    out = tmp_path / "rack.mov"
    out.write_bytes(b"an older take")
    shot = batch.Shot(Failing(), Lens(focus_m=1.0), rack(1.0, 4.0, 1.0), FPS)
    with pytest.raises(ValueError, match="decoder broke"):
        batch.render_frames(shot, VideoWriter(out, (W, H), FPS), range(6), Compositor())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rack.mov"]
    assert out.read_bytes() == b"an older take"


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_mid_render_leaves_no_file(signame: str, pair: list[str], tmp_path: Path) -> None:
    out = tmp_path / "long.mp4"
    cmd = [sys.executable, "-m", "realtime", *clip(pair)[:-4], "--duration", "600", "-o", str(out)]
    process = subprocess.Popen(
        cmd,
        cwd=Path(__file__).parent.parent,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.startswith(".long.mp4.") for p in tmp_path.iterdir()):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)  # some frames into the encoder
        process.send_signal(getattr(signal, signame))
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == (130 if signame == "SIGINT" else 143)
    assert err.strip() in ("rackfocus: interrupted", "rackfocus: terminated")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npy", "d.npy"]


def test_srgb_encoding_is_within_one_code_of_the_exact_curve() -> None:
    from realtime.sources.images import linear_to_srgb

    x = np.linspace(-0.1, 1.2, 30001, dtype=np.float32)[:, None, None].repeat(3, axis=2)
    for bits in (8, 16):
        top = (1 << bits) - 1
        exact = np.rint(linear_to_srgb(np.clip(x, 0, 1)) * top).astype(np.int64)
        codes = encode_srgb(x, bits)
        assert codes.dtype == (np.uint8 if bits == 8 else np.uint16)
        assert np.abs(codes.astype(np.int64) - exact).max() <= 1
        assert codes[0, 0, 0] == 0 and codes[-1, 0, 0] == top
    nonfinite = np.array([[[np.nan, np.inf, -np.inf]]], np.float32)
    assert encode_srgb(nonfinite, 8).tolist() == [[[0, 255, 0]]]


def bad_cases(pair: list[str], tmp_path: Path) -> dict[str, list[str]]:
    odd = tmp_path / "odd"
    odd.mkdir()
    np.save(odd / "c.npy", np.zeros((45, 81, 3), np.float32))
    np.save(odd / "d.npy", np.ones((45, 81), np.float32))
    garbage = tmp_path / "garbage.mkv"
    garbage.write_bytes(b"this is not a video at all" * 10)
    lossy = tmp_path / "lossy_depth.mp4"
    writer = VideoWriter(lossy, (W, H), FPS)
    for k in range(2):
        writer.write(k, np.full((H, W, 3), 0.5, np.float32))
    writer.finish()
    return {
        "odd size for h264": [
            *clip(["--rgb", str(odd / "c.npy"), "--depth", str(odd / "d.npy")]),
            "-o",
            str(tmp_path / "o.mp4"),
        ],
        "prores in mp4": [*clip(pair), "--codec", "prores", "-o", str(tmp_path / "o.mp4")],
        "lossless in mov": [*clip(pair), "--codec", "lossless", "-o", str(tmp_path / "o.mov")],
        "unknown codec": [*clip(pair), "--codec", "vp9", "-o", str(tmp_path / "o.mp4")],
        "codec for images": [*clip(pair), "--codec", "h264", "-o", str(tmp_path / "o_%d.png")],
        "resume a video": [*clip(pair), "--resume", "-o", str(tmp_path / "o.mp4")],
        "not a video": [
            "render",
            "--rgb",
            str(garbage),
            "--depth",
            pair[3],
            "--focus",
            "2",
            "-o",
            str(tmp_path / "o.mp4"),
        ],
        "lossy depth video": [
            "render",
            *pair[:2],
            "--depth",
            str(lossy),
            "--depth-scale",
            "0.001",
            "--focus",
            "2",
            "-o",
            str(tmp_path / "o.mp4"),
        ],
    }


CASES = [
    "odd size for h264",
    "prores in mp4",
    "lossless in mov",
    "unknown codec",
    "codec for images",
    "resume a video",
    "not a video",
    "lossy depth video",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_video_input_exits_2_with_one_line(
    case: str, pair: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = bad_cases(pair, tmp_path)[case]
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        sys.exit(main(args))
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.mov").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
