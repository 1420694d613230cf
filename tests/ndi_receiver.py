"""An NDI receiver for tests/test_sinks.py, run by the test INSIDE a loopback-only network
namespace (`unshare --net`, lo up): it refuses to run where any other interface exists.

    python tests/ndi_receiver.py NAME OUT_DIR [--stall-s S] [--latency-frames N]

Finds the source NAME (the finder told to look at 127.0.0.1 only), receives frames,
saves the last few as OUT_DIR/frame_K.npy (HxWx3 uint8, top row first) and prints one
JSON line: how long finding took, latencies (receive time minus the sender's timecode,
which the show sets to the wall-clock time of the presenting swap) and, with --stall-s,
the wall-clock times of a phase in which a second receiver connects, takes one frame,
stops reading (SIGSTOP) for S seconds and then vanishes (SIGKILL).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

FIND_TIMEOUT_S = 10.0
FRAME_TIMEOUT_MS = 1000
TIMECODE_PER_S = 10_000_000
SAVED_FRAMES = 3


def loopback_only() -> bool:
    """Whether this network namespace has the loopback interface and nothing else (asked of
    the kernel through netlink; /sys/class/net may show another namespace's)."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def find(ndi: Any, name: str) -> tuple[Any, Any, float]:
    settings = ndi.FindCreate()
    settings.show_local_sources = True
    settings.extra_ips = "127.0.0.1"
    finder = ndi.find_create_v2(settings)
    start = time.monotonic()
    while time.monotonic() - start < FIND_TIMEOUT_S:
        ndi.find_wait_for_sources(finder, 100)
        for source in ndi.find_get_current_sources(finder):
            if source.ndi_name.endswith(f"({name})"):
                return finder, source, time.monotonic() - start
    raise SystemExit(f"no NDI source named {name}")


def receiver(ndi: Any, source: Any) -> Any:
    settings = ndi.RecvCreateV3()
    settings.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
    recv = ndi.recv_create_v3(settings)
    ndi.recv_connect(recv, source)
    return recv


def frames(ndi: Any, recv: Any, n: int) -> list[tuple[np.ndarray, float]]:
    """n video frames: (RGB top row first, latency seconds)."""
    out: list[tuple[np.ndarray, float]] = []
    deadline = time.monotonic() + 30.0
    while len(out) < n and time.monotonic() < deadline:
        kind, video, _, _ = ndi.recv_capture_v2(recv, FRAME_TIMEOUT_MS)
        if kind != ndi.FRAME_TYPE_VIDEO:
            continue
        latency = time.time() - video.timecode / TIMECODE_PER_S
        out.append((np.copy(video.data[..., :3]), latency))
        ndi.recv_free_video_v2(recv, video)
    return out


def stall(ndi: Any, source: Any, stall_s: float) -> dict[str, float]:
    """A second receiver: connects, takes a frame, stops reading, vanishes."""
    child = os.fork()
    if child == 0:
        recv = receiver(ndi, source)
        frames(ndi, recv, 1)
        os.kill(os.getpid(), signal.SIGSTOP)  # connected, never reading again
        os._exit(0)
    start = time.time()
    time.sleep(stall_s)
    os.kill(child, signal.SIGKILL)  # gone without a goodbye
    os.waitpid(child, 0)
    return {"stall_start": start, "stall_end": time.time()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("out", type=Path)
    parser.add_argument("--stall-s", type=float, default=0.0)
    parser.add_argument("--latency-frames", type=int, default=60)
    args = parser.parse_args()
    if not loopback_only():
        sys.exit("refusing to run NDI: this network namespace has more than loopback")
    import NDIlib as ndi

    if not ndi.initialize():
        sys.exit("the NDI runtime did not start")
    finder, source, found_s = find(ndi, args.name)
    recv = receiver(ndi, source)
    got = frames(ndi, recv, args.latency_frames)
    for k, (pixels, _) in enumerate(got[-SAVED_FRAMES:]):
        np.save(args.out / f"frame_{k}.npy", pixels)
    result: dict[str, Any] = {
        "found_s": found_s,
        "frames": len(got),
        "latencies_s": [latency for _, latency in got[1:]],  # the first waited for a connect
        "quiet_start": time.time(),
    }
    if args.stall_s > 0:
        time.sleep(args.stall_s)  # a quiet phase, as long as the stalled one
        result |= stall(ndi, source, args.stall_s)
        result["after_stall"] = len(frames(ndi, recv, 10))  # the source still sends
    ndi.recv_destroy(recv)
    ndi.find_destroy(finder)
    ndi.destroy()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
