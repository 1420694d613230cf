"""Measuring a long show: frame rate, frame times, resident memory, GL objects alive.

`rackfocus show ... --soak FRAMES` runs FRAMES frames with the playlist racking
(fixed time step, no frame-rate cap) and reports, after a warm-up and at the end,

    resident memory   /proc/self/statm (the target: flat within SOAK_RSS_TOLERANCE)
    GL objects alive  counted in the driver: glIsTexture, glIsBuffer, ... over every
                      object name in use (the target: the same count at the end)
    frame times       percentiles of loop start -> swap, after the warm-up

GL names are scanned upwards until GL_NAME_GAP names in a row are free; drivers
hand out names in increasing order (Mesa does not reuse them soon), so a scan
that stopped early would miss objects made after many were deleted: the gap is
generous, and the scan also covers every name the moderngl objects still
reachable from Python carry.
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import resource
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

WARMUP_FRACTION = 0.1  # the soak's warm-up: this fraction of its frames ...
WARMUP_MIN = 100  # ... but at least this many (at most half the frames)
SOAK_RSS_TOLERANCE = 0.05  # resident memory may grow this fraction after the warm-up
PERCENTILES = (50.0, 90.0, 99.0, 100.0)  # frame-time percentiles reported
FPS_WINDOW_S = 1.0  # the frame rate is counted over this much recent time
RECENT_KEPT = 100_000  # frame times kept between two status lines, at most
GL_NAME_GAP = 4096  # a GL name scan stops after this many free names in a row
GL_KINDS = (  # (what, the glIs* function that recognises one)
    ("textures", "glIsTexture"),
    ("buffers", "glIsBuffer"),
    ("framebuffers", "glIsFramebuffer"),
    ("renderbuffers", "glIsRenderbuffer"),
    ("vertex arrays", "glIsVertexArray"),
    ("samplers", "glIsSampler"),
    ("programs", "glIsProgram"),
    ("shaders", "glIsShader"),
    ("queries", "glIsQuery"),
)


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gl_objects(get_proc_address: Callable[[str], int | None]) -> dict[str, int]:
    """Objects of each kind alive in the current GL context, counted by the driver."""
    is_fn = ctypes.CFUNCTYPE(ctypes.c_ubyte, ctypes.c_uint)
    known = [
        getattr(o, "glo", 0) for o in gc.get_objects() if type(o).__module__.startswith("moderngl")
    ]
    top = max([g for g in known if isinstance(g, int)], default=0)
    counts: dict[str, int] = {}
    for kind, name in GL_KINDS:
        address = get_proc_address(name)
        if not address:
            continue
        is_object = is_fn(address)
        count, free, n = 0, 0, 1
        while free < GL_NAME_GAP or n <= top:
            if is_object(n):
                count += 1
                free = 0
            else:
                free += 1
            n += 1
        counts[kind] = count
    return counts


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class FrameClock:
    """Presented frames: the recent rate, and, for a soak, every frame time.

    A soak's frame times go into an array allocated up front, so keeping them
    does not grow the memory the soak measures.
    """

    frames: int = 0  # frames presented
    swaps: deque[float] = field(default_factory=lambda: deque(maxlen=1024))  # wall s
    times_s: np.ndarray | None = None  # room for the frame times to keep (loop start -> swap)
    kept: int = 0  # how many are kept
    recent_s: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_KEPT))  # since
    # the last status line: frame times (loop start -> swap), seconds

    def presented(self, now: float, frame_start: float) -> None:
        self.frames += 1
        self.swaps.append(now)
        self.recent_s.append(now - frame_start)
        if self.times_s is not None and self.kept < len(self.times_s):
            self.times_s[self.kept] = now - frame_start
            self.kept += 1

    def frame_times(self) -> list[float]:
        """The frame times kept, seconds."""
        return [] if self.times_s is None else self.times_s[: self.kept].tolist()

    def take_recent(self) -> str:
        """Frame-time percentiles since the last call (for the status line); starts anew."""
        ms = [1000.0 * t for t in self.recent_s]
        self.recent_s.clear()
        return (
            f"frame time p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
            f"max {percentile(ms, 100):.1f} ms over {len(ms)} frames"
        )

    def fps(self, now: float) -> float:
        """Frames per second over the last FPS_WINDOW_S; 0 with fewer than two frames."""
        recent = [t for t in self.swaps if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)


@dataclass(frozen=True)
class Sample:
    """The state of the process at one moment of a soak."""

    frame: int  # frames presented so far
    rss_bytes: int  # resident memory
    gl: dict[str, int]  # GL objects alive by kind


def warmup_frames(frames: int) -> int:
    """How many of a soak's frames are warm-up."""
    return max(1, min(frames // 2, max(WARMUP_MIN, round(frames * WARMUP_FRACTION))))


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def soak_report(
    warm: Sample, end: Sample, times_s: Sequence[float], size: tuple[int, int], composites: int
) -> list[str]:
    """The soak's report, one finding a line; the verdicts say whether the targets held."""
    growth = end.rss_bytes / warm.rss_bytes - 1.0
    rss_ok = growth <= SOAK_RSS_TOLERANCE
    gl_ok = warm.gl == end.gl
    ms = [1000.0 * t for t in times_s]
    spread = ", ".join(
        f"{'max' if q == 100 else f'p{q:g}'} {percentile(ms, q):.2f} ms" for q in PERCENTILES
    )
    kinds = ", ".join(f"{k} {end.gl[k]}" for k in end.gl if end.gl[k] or warm.gl.get(k))
    return [
        f"soak: {end.frame} frames at {size[0]}x{size[1]}, {warm.frame} of them warm-up, "
        f"{composites} composites",
        f"resident memory: {_mib(warm.rss_bytes)} after warm-up, {_mib(end.rss_bytes)} at the "
        f"end ({growth:+.2%}; target within {SOAK_RSS_TOLERANCE:.0%}: "
        f"{'ok' if rss_ok else 'MISSED'})",
        f"GL objects alive: {sum(warm.gl.values())} after warm-up, {sum(end.gl.values())} at the "
        f"end ({kinds}; target unchanged: {'ok' if gl_ok else 'MISSED'})",
        f"frame time after warm-up: {spread}",
    ]


__all__ = [
    "FrameClock",
    "Sample",
    "gl_objects",
    "percentile",
    "resident_bytes",
    "soak_report",
    "warmup_frames",
]
