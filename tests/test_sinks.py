"""NDI and the network stream: a real show's frames received by real receivers.

SAFETY: NDI announces sources by multicast DNS. Every NDI test here runs the show
and its receiver inside a network namespace that has only the loopback interface
(`unshare --net`, then `ip link set lo up`; tests and CI run as root), and the
receiver (tests/ndi_receiver.py) refuses to run where any other interface exists;
its finder looks at 127.0.0.1 only. The stream goes to 127.0.0.1 only.

The show runs as in tests/test_show.py: a subprocess on a private Xvfb, a still
scene on a hold cue, so every frame it presents is the offscreen render of that
scene through the same lens, which received frames are compared with (PSNR of
8-bit codes: NDI's SpeedHQ and H.264 compress). A receiver that stops reading and
vanishes, a stream nobody reads and an SRT listener nobody calls must not slow the
show: its frame times come from its own status lines, once a second. Without
ndi-python, unshare, ip or ffmpeg these tests fail; they never skip.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_show import (
    LENS,
    ROOT,
    SCREEN,
    Client,
    Live,
    Scenes,
    config,
    encode,
    env_for,
    free_port,
    scene_pair,
    show,
)
from test_web import frame_stats
from xvfb_server import xvfb_display

from realtime.errors import InputError
from realtime.lens import Lens
from realtime.outputs.ndi import check_ndi_name
from realtime.outputs.sink import QUEUE_FRAMES, FrameSink, OutFrame
from realtime.outputs.stream import RETRY_S, StreamSink, check_stream_url, output_url
from realtime.show.config import load_config

NDI_NAME = "rackfocus test"
NDI_PSNR_DB = 40.0  # NDI (SpeedHQ, 4:2:2) floor
STREAM_PSNR_DB = 35.0  # H.264 (4:2:0) floor
STALL_S = 4.0  # how long a receiver stays connected without reading
NAMESPACE_TIMEOUT_S = 120
READ_TIMEOUT_S = 30
LUMA_709 = (0.2126, 0.7152, 0.0722)  # Rec. 709 luma weights
STALL_P99_MS = 250.0  # a status window's p99 frame time above this is a stall
PREVIEW_FRAMES = 3000  # scripted, uncapped: a few seconds, enough for ffmpeg to probe the stream
ENDLESS_FRAMES = 10**7  # a scripted preview that draws every frame until SIGTERM stops it


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb_display(SCREEN) as name:
        yield name


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Scenes:
    folder = tmp_path_factory.mktemp("sinks")
    pairs = {"a": scene_pair(), "b": scene_pair(flip=True)}
    for name, (color, depth) in pairs.items():
        np.save(folder / f"{name}_c.npy", color)
        np.save(folder / f"{name}_d.npy", depth)
    return Scenes(folder, pairs["a"], pairs["b"])


@pytest.fixture
def live() -> Iterator[Callable[..., Live]]:
    started: list[Live] = []

    def start(*args: Any, **kw: Any) -> Live:
        started.append(Live(*args, **kw))
        return started[-1]

    yield start
    for show_ in started:
        show_.kill()


def still_show(scenes: Scenes, extra: str = "", name: str = "sinks.toml") -> Path:
    """A show of scene a through LENS, on one long hold: every frame is the same."""
    return config(
        scenes.folder,
        f"[show]\nstatus_interval = 1\n{extra}"
        f"[lens]\nfocus_m = {LENS.focus_m}\nf_number = {LENS.f_number}\n"
        + scenes.source("a")
        + "[[cue]]\nhold = 1000\n",
        name,
    )


def psnr_codes(image: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of 8-bit codes (peak 255)."""
    mse = float(np.mean((image.astype(np.float64) - reference.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def luma_psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of Rec. 709 luma (Y') of 8-bit sRGB codes: what NDI (4:2:2) and H.264
    (4:2:0) carry at full resolution. Their chroma is half resolution by design, so the
    test scene's saturated 8 px checkers lose colour at every edge (printed as RGB PSNR)."""
    luma = np.array(LUMA_709)
    return psnr_codes(image.astype(np.float64) @ luma, reference.astype(np.float64) @ luma)


def quality(frames: list[np.ndarray], reference: np.ndarray) -> tuple[list[float], list[float]]:
    """(luma PSNRs, RGB PSNRs) of frames against the reference, dB."""
    return [luma_psnr(f, reference) for f in frames], [psnr_codes(f, reference) for f in frames]


def db(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values) + " dB"


def ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def read_stream(url: str, size: tuple[int, int], frames: int) -> tuple[list[np.ndarray], str]:
    """Decode `frames` frames of an MPEG-TS stream (RGB, top row first); and ffmpeg's log."""
    w, h = size
    result = subprocess.run(
        [ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error"]
        + ["-fflags", "nobuffer", "-flags", "low_delay", "-i", url]
        + ["-frames:v", str(frames), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        capture_output=True,
        timeout=READ_TIMEOUT_S,
    )
    data = np.frombuffer(result.stdout, np.uint8)
    n = data.size // (w * h * 3)
    return list(data[: n * w * h * 3].reshape(n, h, w, 3)), result.stderr.decode()


# --- Without a window ------------------------------------------------------------------------


class SlowSink(FrameSink):
    """A sender that takes `delay_s` a frame."""

    label = "slow"

    def __init__(self, delay_s: float) -> None:
        super().__init__(lambda _line: None)
        self.delay_s = delay_s
        self.got: list[int] = []

    def send(self, frame: OutFrame) -> None:
        time.sleep(self.delay_s)
        self.got.append(frame.index)


def test_a_slow_sender_drops_the_oldest_frames_and_never_holds_up_the_caller() -> None:
    sink = SlowSink(0.05)
    sink.start()
    pixels = np.zeros((2, 2, 4), np.uint8)
    start = time.perf_counter()
    for k in range(50):
        sink.offer(OutFrame(pixels, 0.0, k))
    offered_s = time.perf_counter() - start
    sink.close()
    assert offered_s < 0.05  # 50 offers took less than one send
    assert sink.counts.sent + sink.counts.dropped == 50
    assert sink.counts.dropped >= 50 - 1 - QUEUE_FRAMES
    assert sink.got[-1] == 49  # the newest frame is never the one dropped
    assert sink.got == sorted(sink.got)


def test_a_stream_whose_ffmpeg_stops_says_so_once_and_starts_it_again() -> None:
    """ffmpeg cannot send to this address and exits: one log line, frames counted as
    dropped, ffmpeg started again after RETRY_S; nothing raises into the caller."""
    lines: list[str] = []
    sink = StreamSink("udp://256.0.0.1:5000", 30.0, lines.append)
    sink.start()
    pixels = np.zeros((16, 16, 4), np.uint8)
    offered = 0
    end = time.monotonic() + RETRY_S + 1.5
    while time.monotonic() < end:
        sink.offer(OutFrame(pixels, time.time(), offered))
        offered += 1
        time.sleep(0.01)
    sink.close()
    assert sink.counts.sent + sink.counts.dropped == offered
    assert sink.counts.dropped > offered // 2
    assert len(lines) == 1 and lines[0].startswith("stream udp://256.0.0.1:5000: ffmpeg stopped")
    assert f"starting it again in {RETRY_S:g} s" in lines[0]
    assert sink.proc is None


def test_ndi_and_stream_options_and_config_keys_are_checked(scenes: Scenes) -> None:
    assert check_ndi_name("Stage left") == "Stage left"
    for bad in ("", " ", "x" * 65, "tab\there"):
        with pytest.raises(InputError, match="an NDI source name"):
            check_ndi_name(bad)
    for good in ("udp://127.0.0.1:5000", "srt://127.0.0.1:9000?mode=listener"):
        assert check_stream_url(good) == good
    for bad in ("rtmp://h:1/x", "udp://127.0.0.1", "udp://:5000", "127.0.0.1:5000", "udp://h:x"):
        with pytest.raises(InputError, match="expected udp://HOST:PORT or srt://HOST:PORT"):
            check_stream_url(bad)
    assert output_url("udp://h:1") == "udp://h:1?pkt_size=1316"
    assert output_url("srt://h:1?mode=listener") == "srt://h:1?mode=listener&pkt_size=1316"
    path = still_show(scenes, 'ndi = "Stage"\nstream = "udp://127.0.0.1:5000"\n', "keys.toml")
    settings = load_config(path, Lens()).settings
    assert settings.ndi == "Stage" and settings.stream == "udp://127.0.0.1:5000"
    path = still_show(scenes, 'stream = "http://x:1"\n', "bad.toml")
    with pytest.raises(InputError, match=r"bad\.toml:3: \[show\] key 'stream': the URL"):
        load_config(path, Lens())


def test_missing_ndi_is_one_line_and_exit_2_before_any_window(
    scenes: Scenes, tmp_path: Path
) -> None:
    """Without the wheel, or with a runtime that does not start: no display is even needed."""
    missing, broken = tmp_path / "missing" / "NDIlib", tmp_path / "broken" / "NDIlib"
    for folder, body in (
        (missing, "raise ImportError(\"No module named 'NDIlib'\")\n"),
        (broken, "def initialize():\n    return False\n"),
    ):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(body)
    for shim, message in (
        (missing, r"--ndi: ndi-python is not installed \(pip install 'rackfocus\[ndi\]'\)"),
        (broken, "--ndi: the NDI runtime does not start"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "realtime", "show", *scenes.args, "--ndi", NDI_NAME],
            capture_output=True,
            text=True,
            env=env_for(None, {"PYTHONPATH": f"{shim.parent}{os.pathsep}{ROOT}"}),
            cwd=ROOT,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert re.search(message, result.stderr), result.stderr
    bad = show(None, [*scenes.args, "--stream", "tcp://127.0.0.1:1"])
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr


# --- NDI, in a loopback-only network namespace -----------------------------------------------


def in_loopback_namespace(
    script: str, timeout_s: float, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a bash script in a new network namespace with only loopback, up."""
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found (Debian: util-linux, iproute2)")
    return subprocess.run(
        ["unshare", "--net", "bash", "-c", f"set -e; ip link set lo up; {script}"],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        cwd=ROOT,
    )


def test_ndi_frames_match_the_render_and_a_vanishing_receiver_changes_nothing(
    display: str, scenes: Scenes, compositor, tmp_path: Path
) -> None:
    import NDIlib  # noqa: F401  (the wheel must be installed: fail, never skip)

    path = still_show(scenes, f'ndi = "{NDI_NAME}"\n', "ndi.toml")
    log, out = tmp_path / "show.log", tmp_path / "frames"
    out.mkdir()
    python = sys.executable
    script = (
        f"{python} -m realtime show --config '{path}' --windowed --log '{log}' "
        f"2> '{tmp_path / 'show.err'}' & show=$!; "
        f"{python} tests/ndi_receiver.py '{NDI_NAME}' '{out}' --stall-s {STALL_S} "
        f"|| code=$?; kill -TERM $show; wait $show || echo show exit $?; exit ${{code:-0}}"
    )
    result = in_loopback_namespace(script, NAMESPACE_TIMEOUT_S, env_for(display))
    assert result.returncode == 0, result.stderr + (tmp_path / "show.err").read_text()
    assert "show exit" not in result.stdout, result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = encode(compositor.render(*scenes.a, LENS))
    received = [np.load(f) for f in sorted(out.glob("frame_*.npy"))]
    assert len(received) == 3 and received[0].shape == expected.shape
    psnrs, rgb = quality(received, expected)
    latencies_ms = np.array(report["latencies_s"]) * 1000.0
    quiet = frame_stats(Logged(log), report["quiet_start"] + 1.0, report["stall_start"])
    stalled = frame_stats(Logged(log), report["stall_start"], report["stall_end"] + 1.0)
    print(
        f"\nNDI: found in {report['found_s']:.2f} s; PSNR luma {db(psnrs)}, RGB {db(rgb)}; "
        f"presented to received p50 {np.median(latencies_ms):.2f} ms, max "
        f"{latencies_ms.max():.2f} ms ({latencies_ms.size} frames, {expected.shape[1]}x"
        f"{expected.shape[0]}); frame time p99 quiet {[p for _, p, _ in quiet]} ms, with a "
        f"stalled receiver {[p for _, p, _ in stalled]} ms"
    )
    assert min(psnrs) >= NDI_PSNR_DB
    assert report["frames"] == 60 and report["after_stall"] == 10
    assert len(quiet) >= 2 and len(stalled) >= 3, log.read_text()
    assert all(frames >= 10 and p99 < STALL_P99_MS for _, p99, frames in stalled)
    lines = log.read_text().splitlines()
    pattern = re.compile(r"ndi 'rackfocus test': (\d+) frames sent, (\d+) dropped")
    counts = [pattern.search(line) for line in lines]
    sent = [int(m.group(1)) for m in counts if m]
    assert sent == sorted(sent) and sent[-1] > 200  # sending all along, the stall included
    stopped = re.search(r"stopped after (\d+) frames", log.read_text())
    assert stopped is not None
    final = [m for m in counts if m][-1]
    assert int(final.group(1)) + int(final.group(2)) == int(stopped.group(1))  # every frame


def test_the_preview_sends_ndi_too(
    display: str, scenes: Scenes, compositor, tmp_path: Path
) -> None:
    """--ndi on the preview, in the namespace too: a scripted preview (every frame drawn)
    until the receiver has its frames, then SIGTERM; --stats counts every frame."""
    import NDIlib  # noqa: F401  (the wheel must be installed: fail, never skip)

    out = tmp_path / "frames"
    out.mkdir()
    lens = ["--focus", str(LENS.focus_m), "--f-number", str(LENS.f_number)]
    args = shlex.join([*scenes.args, *lens, "--frames", str(ENDLESS_FRAMES), "--fixed-dt", "0.05"])
    python = sys.executable
    script = (
        f"{python} -m realtime preview {args} --stats --ndi '{NDI_NAME}' "
        f"> '{tmp_path / 'preview.out'}' 2> '{tmp_path / 'preview.err'}' & preview=$!; "
        f"{python} tests/ndi_receiver.py '{NDI_NAME}' '{out}' --latency-frames 10 "
        f"|| code=$?; kill -TERM $preview; wait $preview || echo preview exit $?; "
        "exit ${code:-0}"
    )
    result = in_loopback_namespace(script, NAMESPACE_TIMEOUT_S, env_for(display))
    stdout = (tmp_path / "preview.out").read_text()
    assert result.returncode == 0, result.stderr + (tmp_path / "preview.err").read_text()
    assert "preview exit" not in result.stdout, result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = encode(compositor.render(*scenes.a, LENS))
    received = [np.load(f) for f in sorted(out.glob("frame_*.npy"))]
    assert report["frames"] == 10 and len(received) == 3
    assert received[0].shape == expected.shape
    psnrs, rgb = quality(received, expected)
    frames = re.search(r"^frames (\d+),", stdout, re.MULTILINE)
    sent = re.search(r"ndi 'rackfocus test': (\d+) frames sent, (\d+) dropped", stdout)
    assert frames is not None and sent is not None, stdout
    found = f"found in {report['found_s']:.2f} s"
    print(f"\npreview NDI: {found}; PSNR luma {db(psnrs)}, RGB {db(rgb)}; {sent.group(0)}")
    assert min(psnrs) >= NDI_PSNR_DB
    assert int(sent.group(1)) + int(sent.group(2)) == int(frames.group(1))  # every frame


class Logged:
    """What frame_stats reads: a show's log file."""

    def __init__(self, log: Path) -> None:
        self.log = log


# --- The network stream ----------------------------------------------------------------------


def test_a_udp_stream_carries_the_render_and_status_counts_it(
    display: str, scenes: Scenes, compositor, tmp_path: Path, live: Callable[..., Live]
) -> None:
    port, stream_port = free_port(), free_port()
    url = f"udp://127.0.0.1:{stream_port}"
    path = still_show(
        scenes, f'osc_host = "127.0.0.1"\nosc_port = {port}\nstream = "{url}"\n', "udp.toml"
    )
    running = live(display, ["--config", str(path), "--windowed"], tmp_path / "show.log")
    client = Client(port)
    try:
        client.ready()
        frames, errors = read_stream(url, (160, 120), 30)
        status = client.status()
        quiet = time.time()
        time.sleep(3.0)  # nobody reads the stream now
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err
    expected = encode(compositor.render(*scenes.a, LENS))
    assert len(frames) == 30, errors
    psnrs, rgb = quality(frames[-3:], expected)
    print(f"\nH.264 stream, last 3 of 30 frames: PSNR luma {db(psnrs)}, RGB {db(rgb)}")
    assert min(psnrs) >= STREAM_PSNR_DB
    assert status["frames_sent"] > 30 and status["frames_dropped"] == 0
    unread = frame_stats(running, quiet + 1.0, time.time())
    assert len(unread) >= 1 and all(f >= 10 and p99 < STALL_P99_MS for _, p99, f in unread)


def test_an_srt_listener_nobody_calls_drops_frames_and_never_slows_the_show(
    display: str, scenes: Scenes, tmp_path: Path, live: Callable[..., Live]
) -> None:
    """ffmpeg waits for a caller and reads no frames: the queue drops them, the show runs."""
    port, srt_port = free_port(), free_port()
    url = f"srt://127.0.0.1:{srt_port}?mode=listener"
    path = still_show(
        scenes, f'osc_host = "127.0.0.1"\nosc_port = {port}\nstream = "{url}"\n', "srt.toml"
    )
    running = live(display, ["--config", str(path), "--windowed"], tmp_path / "show.log")
    client = Client(port)
    try:
        client.ready()
        start = time.time()
        first = client.status()
        time.sleep(4.0)
        later = client.status()
        end = time.time()
        code, err = running.stop()
    finally:
        client.close()
    assert code == 0, err
    assert later["frames_dropped"] > first["frames_dropped"] + 100
    assert later["fps"] > 30
    stats = frame_stats(running, start + 1.0, end)
    print(
        f"\nSRT listener, nobody calling: frame time p99 {[p for _, p, _ in stats]} ms, "
        f"{later['frames_sent']} sent, {later['frames_dropped']} dropped"
    )
    assert len(stats) >= 2 and all(f >= 10 and p99 < STALL_P99_MS for _, p99, f in stats)


def test_the_preview_streams_what_it_presents_too(
    display: str, scenes: Scenes, compositor, tmp_path: Path
) -> None:
    """--stream on the preview: every frame it presents goes out (sent or dropped)."""
    url = f"udp://127.0.0.1:{free_port()}"
    got: dict[str, Any] = {}

    def read() -> None:
        got["frames"], got["errors"] = read_stream(url, (160, 120), 5)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)  # listening before the first (key) frame goes out
    args = [*scenes.args, "--focus", str(LENS.focus_m), "--f-number", str(LENS.f_number)]
    result = subprocess.run(
        [sys.executable, "-m", "realtime", "preview", *args, "--frames", str(PREVIEW_FRAMES)]
        + ["--fixed-dt", "0.05", "--stats", "--stream", url],
        capture_output=True,
        text=True,
        env=env_for(display),
        cwd=ROOT,
        timeout=60,
    )
    reader.join(READ_TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    m = re.search(r"stream udp://[\d.:]+: (\d+) frames sent, (\d+) dropped", result.stdout)
    assert m is not None and int(m.group(1)) + int(m.group(2)) == PREVIEW_FRAMES, result.stdout
    expected = encode(compositor.render(*scenes.a, LENS))
    assert len(got["frames"]) == 5, got["errors"]
    psnrs, rgb = quality(got["frames"][-1:], expected)
    print(f"\npreview stream: PSNR luma {db(psnrs)}, RGB {db(rgb)}; {m.group(0)}")
    assert min(psnrs) >= STREAM_PSNR_DB
