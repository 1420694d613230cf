"""`rackfocus render --ray`: a clip rendered in chunks on a local Ray instance with two workers
equals the single-process render, frame for frame and byte for byte, through a killed
worker, a chunk that fails for good (and the --resume that finishes it) and bad addresses.

The scene: noise textures at 1 m (left) and 4 m (right), 160x90, racked over 12 frames.
One Ray instance (`ray.init(num_cpus=2)`) serves the module and is shut down after it;
the command finds it already connected, as it would in a notebook.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import ray

from realtime.cli import main
from realtime.farm import chunk_ranges, default_chunk_frames
from realtime.farm.codes import frames_folder

W, H = 160, 90
FRAMES = 12
CLIP = ["--focal-length", "85", "--f-number", "1.4", "--rack", "1:4"]
CLIP += ["--fps", "24", "--duration", str(FRAMES / 24)]
CHUNK = ["--chunk-frames", "3"]  # 4 chunks for 2 workers
KILL_POLL_S = 0.01  # how often the killer looks for a chunk to kill
KILL_WAIT_S = 60.0  # ... and how long, at most


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A local Ray instance with two workers for the module; nothing of it outlives it."""
    import logging

    ray.init("local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("farm_inputs")
    color = np.random.default_rng(12).random((H, W, 3)).astype(np.float32)
    depth = np.where(np.arange(W) < W // 2, 1.0, 4.0).astype(np.float32)[None, :].repeat(H, 0)
    np.save(folder / "c.npy", color)
    np.save(folder / "d.npy", depth)
    return ["--rgb", str(folder / "c.npy"), "--depth", str(folder / "d.npy"), *CLIP]


@pytest.fixture(scope="module")
def reference(inputs: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The single-process render: PNG frames and an H.264 video."""
    folder = tmp_path_factory.mktemp("farm_reference")
    assert main(["render", *inputs, "-o", str(folder / "f_%04d.png")]) == 0
    assert main(["render", *inputs, "-o", str(folder / "rack.mp4")]) == 0
    return folder


def pngs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("f_*.png"))}


def farm(*args: str) -> int:
    return main(["render", *args, "--ray"])


def test_png_frames_equal_a_single_process_render_byte_for_byte(
    local_ray: None,
    inputs: list[str],
    reference: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert farm(*inputs, *CHUNK, "-o", str(tmp_path / "f_%04d.png")) == 0
    assert pngs(tmp_path) == pngs(reference)
    assert len(pngs(tmp_path)) == FRAMES
    assert sorted(os.listdir(tmp_path)) == sorted(pngs(tmp_path))  # no temporary files
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"rackfocus: {FRAMES} frames rendered in 4 chunks by ")
    per_worker = [int(line.split(": ")[1].split()[0]) for line in err[1:]]
    assert sum(per_worker) == FRAMES and len(per_worker) >= 2  # both workers took chunks


def test_h264_equals_the_local_render(
    local_ray: None, inputs: list[str], reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rack.mp4"
    assert farm(*inputs, "-o", str(out)) == 0  # the default chunking
    local = reference / "rack.mp4"
    frames = iio.imread(out, plugin="FFMPEG", index=None)
    assert len(frames) == FRAMES
    assert np.array_equal(frames, iio.imread(local, plugin="FFMPEG", index=None))
    assert out.read_bytes() == local.read_bytes()  # the encoder got the same codes
    assert sorted(os.listdir(tmp_path)) == ["rack.mp4"]  # intermediate frames removed


def _descendants_named(title: bytes) -> list[int]:
    """Processes under this one (Ray's workers are the raylet's children) with `title`."""
    parents: dict[int, int] = {}
    titles: dict[int, bytes] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            titles[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    me = os.getpid()

    def under_me(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == me:
                return True
        return False

    return [pid for pid, t in titles.items() if t.startswith(title) and under_me(pid)]


def test_a_worker_killed_mid_job_is_retried_and_the_output_is_whole(
    local_ray: None,
    inputs: list[str],
    reference: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    killed: list[int] = []

    def kill_a_chunk() -> None:
        """Once the job has written a frame, SIGKILL a worker that is rendering a chunk."""
        deadline = time.monotonic() + KILL_WAIT_S
        while time.monotonic() < deadline and not killed:
            if any(tmp_path.glob("f_*.png")):
                for pid in _descendants_named(b"ray::render_chunk"):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(KILL_POLL_S)

    killer = threading.Thread(target=kill_a_chunk)
    killer.start()
    try:
        code = farm(*inputs, *CHUNK, "-o", str(tmp_path / "f_%04d.png"))
    finally:
        killer.join()
    assert killed, "no chunk was running to kill"
    assert code == 0
    assert pngs(tmp_path) == pngs(reference)
    assert ", 1 retry " in capsys.readouterr().err.splitlines()[0]


@pytest.mark.parametrize("output", ["f_%04d.png", "rack.mp4"])
def test_a_chunk_that_fails_for_good_exits_2_and_resume_finishes(
    output: str,
    local_ray: None,
    inputs: list[str],
    reference: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / output
    frames = frames_folder(out) if output.endswith(".mp4") else tmp_path
    blocker = frames / ("frame_00000007.tif" if output.endswith(".mp4") else "f_0007.png")
    blocker.mkdir(parents=True)  # frame 7 cannot be written: a folder holds its name
    assert farm(*inputs, *CHUNK, "-o", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("rackfocus: error: frames 6-8 failed on ")
    assert "Is a directory" in err[0] and "--resume" in err[0]
    assert len([p for p in frames.iterdir() if p.is_file()]) == FRAMES - 2  # 7 and 8 missing
    assert not out.exists() or output.startswith("f_")

    blocker.rmdir()
    assert farm(*inputs, *CHUNK, "-o", str(out), "--resume") == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("rackfocus: 2 frames rendered") and "10 already done" in err[0]
    if output.endswith(".mp4"):
        assert out.read_bytes() == (reference / "rack.mp4").read_bytes()
        assert not frames.exists()
    else:
        assert pngs(tmp_path) == pngs(reference)


def test_an_output_no_worker_can_write_exits_2_with_one_line(
    local_ray: None, inputs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    assert farm(*inputs, "-o", str(tmp_path / "file" / "f_%04d.png")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create folder" in err[0], err


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("127.0.0.1:1", "no Ray cluster answers there"),
        ("ray://127.0.0.1:1", "no Ray cluster answers there"),
        ("nowhere", "expected auto, HOST:PORT or ray://HOST:PORT"),
    ],
)
def test_a_bad_address_exits_2_with_one_line(
    address: str, says: str, inputs: list[str], tmp_path: Path
) -> None:
    """In a process of its own: this one is connected to the module's Ray instance."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    run = subprocess.run(
        [sys.executable, "-m", "realtime", "render", *inputs, "-o", str(tmp_path / "f_%04d.png")]
        + ["--ray", address],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and says in lines[0], run.stderr
    assert not any(tmp_path.iterdir())


def test_chunking() -> None:
    assert chunk_ranges(range(0, 12), 5) == [(0, 4), (5, 9), (10, 11)]
    assert chunk_ranges(range(3, 4), 5) == [(3, 3)]
    assert default_chunk_frames(12, 2) == 2  # three chunks per worker
    assert default_chunk_frames(100, 2) == 17
    assert default_chunk_frames(2, 8) == 1


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--chunk-frames", "4"], "--chunk-frames applies to --ray"),
        (["--ray", "--chunk-frames", "0"], "--chunk-frames 0: expected a positive number"),
        (["--ray", "--chunk-frames", "x"], "--chunk-frames x: expected a positive number"),
    ],
)
def test_bad_farm_options_exit_2_before_ray_starts(
    extra: list[str],
    says: str,
    inputs: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["render", *inputs, "-o", str(tmp_path / "f_%04d.png"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"rackfocus: error: {says}") and "\n" not in err


def test_without_ray_installed_the_option_says_how_to_get_it(
    inputs: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    assert farm(*inputs, "-o", str(tmp_path / "f_%04d.png")) == 2
    err = capsys.readouterr().err.strip()
    assert err == "rackfocus: error: --ray needs Ray: pip install 'rackfocus[farm]'"
