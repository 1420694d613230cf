"""Latency of NDI and the network stream out of a live show, for the README (not a test).

    python tests/measure_sinks.py [--size 1280x720] [--seconds 20]

Stream: a show on a private Xvfb streams H.264 to udp://127.0.0.1; ffmpeg decodes it
here. Every second an OSC /focus/distance flips focus between near and far; the first
decoded frame that differs from the one before the command gives command-to-decoded
latency. The show's own log gives command-to-presented (p50); the difference is
presented-to-decoded. NDI: the same show with --ndi, inside a loopback-only network
namespace, and tests/ndi_receiver.py, which reads the latency of every frame from its
timecode (the wall-clock time of the presenting swap) directly.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from test_show import ROOT, Client, Live, env_for, free_port, scene_pair  # noqa: E402
from test_sinks import ffmpeg  # noqa: E402
from xvfb_server import xvfb_display  # noqa: E402

NEAR_M, FAR_M = 1.0, 6.0
CHANGED = 3.0  # mean absolute difference (codes) that marks a new picture


def show_config(folder: Path, extra: str) -> Path:
    c, d = scene_pair()
    np.save(folder / "a_c.npy", c)
    np.save(folder / "a_d.npy", d)
    path = folder / "measure.toml"
    path.write_text(
        f"[show]\nstatus_interval = 1\n{extra}[lens]\nfocus_m = {FAR_M}\nf_number = 1.4\n"
        '[[source]]\nname = "a"\nrgb = "a_c.npy"\ndepth = "a_d.npy"\n[[cue]]\nhold = 1000\n'
    )
    return path


def stream_latency(display: str, folder: Path, size: tuple[int, int], seconds: int) -> str:
    osc, port = free_port(), free_port()
    url = f"udp://127.0.0.1:{port}"
    path = show_config(folder, f'osc_host = "127.0.0.1"\nosc_port = {osc}\nstream = "{url}"\n')
    args = ["--config", str(path), "--windowed", "--window-size", f"{size[0]}x{size[1]}"]
    running = Live(display, args, folder / "stream.log")
    client = Client(osc)
    client.ready()
    w, h = size
    reader = subprocess.Popen(
        [ffmpeg(), "-nostdin", "-loglevel", "error", "-fflags", "nobuffer", "-flags"]
        + ["low_delay", "-threads", "1", "-probesize", "32768", "-analyzeduration", "0"]
        + ["-i", url]
        + ["-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
        stdout=subprocess.PIPE,
    )
    arrivals: list[tuple[float, np.ndarray]] = []

    def read() -> None:
        assert reader.stdout is not None
        while data := reader.stdout.read(w * h):
            if len(data) < w * h:
                break
            arrivals.append((time.time(), np.frombuffer(data, np.uint8)[::16].astype(np.int16)))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    time.sleep(3.0)
    sends = []
    for k in range(seconds):
        sends.append(time.time())
        client.send("/focus/distance", NEAR_M if k % 2 == 0 else FAR_M)
        time.sleep(1.0)
    running.stop()
    reader.kill()
    thread.join()
    client.close()
    latencies = []
    for sent in sends:
        before = [f for t, f in arrivals if t < sent]
        after = [(t, f) for t, f in arrivals if t >= sent]
        if not before:
            continue
        hit = next((t for t, f in after if np.abs(f - before[-1]).mean() > CHANGED), None)
        if hit is not None:
            latencies.append(1000.0 * (hit - sent))
    text = (folder / "stream.log").read_text()
    m = re.search(r"arrival to frame presented p50 ([\d.]+) ms", text)
    presented = float(m.group(1)) if m else float("nan")
    return (
        f"stream {w}x{h}: command to decoded p50 {np.median(latencies):.1f} ms, max "
        f"{max(latencies):.1f} ms ({len(latencies)} changes); command to presented p50 "
        f"{presented:.1f} ms; presented to decoded ~{np.median(latencies) - presented:.1f} ms; "
        + next(line for line in text.splitlines()[::-1] if "frame time" in line).split("; ")[0]
    )


def ndi_latency(display: str, folder: Path, size: tuple[int, int], seconds: int) -> str:
    path = show_config(folder, 'ndi = "measure"\n')
    out = folder / "ndi"
    out.mkdir(exist_ok=True)
    frames = seconds * 30
    py = sys.executable
    script = (
        f"set -e; ip link set lo up; {py} -m realtime show --config '{path}' --windowed "
        f"--window-size {size[0]}x{size[1]} --log '{folder / 'ndi.log'}' 2>/dev/null & s=$!; "
        f"{py} tests/ndi_receiver.py measure '{out}' --latency-frames {frames}; "
        "kill -TERM $s; wait $s"
    )
    result = subprocess.run(
        ["unshare", "--net", "bash", "-c", script],
        capture_output=True,
        text=True,
        env=env_for(display),
        cwd=ROOT,
        timeout=seconds + 120,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    ms = np.array(report["latencies_s"]) * 1000.0
    status = [x for x in (folder / "ndi.log").read_text().splitlines() if "frame time" in x]
    return (
        f"NDI {size[0]}x{size[1]}: presented to received p50 {np.median(ms):.1f} ms, p99 "
        f"{np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms over {ms.size} frames; "
        f"found in {report['found_s']:.2f} s; last status: {status[-1].split('status: ')[1]}"
    )


def baseline(display: str, folder: Path, size: tuple[int, int], seconds: int) -> str:
    """The same show without sinks: its frame times."""
    path = show_config(folder, "")
    args = ["--config", str(path), "--windowed", "--window-size", f"{size[0]}x{size[1]}"]
    running = Live(display, args, folder / "baseline.log")
    time.sleep(seconds)
    running.stop()
    lines = [x for x in (folder / "baseline.log").read_text().splitlines() if "frame time" in x]
    return f"no sinks {size[0]}x{size[1]}: {lines[-1].split('status: ')[1]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp, xvfb_display((max(w, 1280), max(h, 720))) as d:
        print(baseline(d, Path(tmp), (w, h), 6), flush=True)
        print(ndi_latency(d, Path(tmp), (w, h), args.seconds), flush=True)
        print(stream_latency(d, Path(tmp), (w, h), args.seconds), flush=True)


if __name__ == "__main__":
    main()
