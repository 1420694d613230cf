"""Live sources: a capture thread that keeps only the newest frame.

A live source never makes the frame loop wait. Its capture thread grabs frames
as fast as the device (or clip) gives them and keeps one: the newest. The loop
calls `latest()`, which returns that frame if the loop has not had it yet and
None otherwise, at once; a frame overwritten before the loop took it counts as
dropped. Nothing a camera does raises into the loop: a capture that raises is
caught, shown in `status`, and retried with exponential backoff; a frame of the
wrong size or shape is skipped and counted as bad. `close()` stops the thread
and returns within a bound even when the device is stuck (the thread is a
daemon and is joined with a timeout).

Subclasses implement `_capture()` (return a frame, or None when none arrived
within a short wait) and, if they hold a device, `_open()` and `_release()`;
all three run on the capture thread. `ClipAsLive` plays any clip in real time
this way, for demos and tests.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from realtime.sources.images import one_line

STALL_AFTER_S = 1.0  # no frame for this long: status says "stalled"
BACKOFF_FIRST_S = 0.05  # first wait before retrying a capture that raised
BACKOFF_MAX_S = 2.0  # the wait doubles after each failure up to this
CLOSE_TIMEOUT_S = 2.0  # close() waits at most this long for the capture thread


class Intrinsics(NamedTuple):
    """Pinhole intrinsics in pixels; pixel centres at integer coordinates (librealsense's)."""

    fx: float  # focal length, pixels, horizontal
    fy: float  # focal length, pixels, vertical
    cx: float  # principal point, column (pixels; (width - 1) / 2 when centred)
    cy: float  # principal point, row (pixels, row 0 at the top)


@dataclass(frozen=True, eq=False)
class LiveFrame:
    """One captured RGB-D frame."""

    color: np.ndarray  # HxWx3 float32, linear light
    depth: np.ndarray  # HxW float32 metres, NaN = no data
    capture_s: float  # time.monotonic() when it was captured (or its device time mapped to it)
    intrinsics: Intrinsics | None = None  # of the colour image (depth is aligned to it)
    sequence: int = 0  # n-th good frame of this source (0-based): gaps mean dropped frames


class Clip(Protocol):
    """A finite, indexed RGB-D source: frame k is a pure function of k (RGBDFrames and kin)."""

    frame_count: int | None  # None: a still (every index gives the same frame)

    def input_index(self, k: int) -> int:
        """Input frame that output frame k shows."""
        ...

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(colour HxWx3 linear float32, depth HxW metres, finite) of output frame k."""
        ...

    def close(self) -> None:
        """Release decoders and contexts."""
        ...


def frame_problem(frame: LiveFrame, size: tuple[int, int] | None) -> str | None:
    """Why `frame` is unusable (wrong size, shape or type, no depth at all), or None."""
    color, depth = frame.color, frame.depth
    if not isinstance(color, np.ndarray) or not isinstance(depth, np.ndarray):
        return "frame without arrays"
    if color.ndim != 3 or color.shape[2] != 3 or color.dtype != np.float32:
        return f"colour is {color.dtype} {color.shape}, not HxWx3 float32"
    if depth.dtype != np.float32 or depth.shape != color.shape[:2]:
        return f"depth is {depth.dtype} {depth.shape}, colour {color.shape[:2]}"
    height, width = depth.shape
    if size is not None and (width, height) != size:
        return f"frame is {width}x{height}, expected {size[0]}x{size[1]}"
    if not np.isfinite(depth).any():
        return "depth has no valid pixel"
    return None


class LiveSource:
    """Base of live sources: the capture thread, the newest-frame slot, status, counters."""

    def __init__(
        self,
        name: str,
        size: tuple[int, int] | None = None,
        stall_after_s: float = STALL_AFTER_S,
        backoff_s: tuple[float, float] = (BACKOFF_FIRST_S, BACKOFF_MAX_S),
    ) -> None:
        self.name = name  # for messages
        self.size = size  # (width, height) every frame must have; None: the first good frame's
        self.stall_after_s = stall_after_s
        self.backoff_s = backoff_s
        self.frames_captured = 0  # good frames put in the slot
        self.frames_dropped = 0  # good frames overwritten before latest() took them
        self.frames_bad = 0  # frames skipped: wrong size or shape, no depth
        self.failures = 0  # captures (or opens) that raised
        self._lock = threading.Lock()
        self._newest: LiveFrame | None = None
        self._taken = True  # the newest frame was returned already (or there is none)
        self._fault: str | None = None  # the last failure's text, until a good frame arrives
        self._bad: str | None = None  # the last bad frame's problem, until a good frame arrives
        self._last_good_s = time.monotonic()
        self._stop = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    # --- for subclasses (all called on the capture thread) ---

    def _open(self) -> None:
        """Open the device; raise to report and retry."""

    def _capture(self) -> LiveFrame | None:
        """The next frame, or None if none came within a short wait (<= ~0.1 s)."""
        raise NotImplementedError

    def _release(self) -> None:
        """Close the device (after a failure and at the end); must not raise."""

    def _interrupt(self) -> None:
        """Called by close() from the caller's thread: unblock a waiting `_capture`."""

    # --- for the loop ---

    def start(self) -> LiveSource:
        """Start the capture thread (once); returns self."""
        if self._thread is None and not self._closed:
            self._last_good_s = time.monotonic()
            self._thread = threading.Thread(target=self._run, name=f"live {self.name}", daemon=True)
            self._thread.start()
        return self

    def latest(self) -> LiveFrame | None:
        """The newest frame not returned before, or None if nothing new; never blocks."""
        with self._lock:
            if self._taken or self._newest is None:
                return None
            self._taken = True
            return self._newest

    @property
    def status(self) -> str:
        """One line: "ok", "stalled 2.3 s", or the reason of the last failure."""
        if self._closed:
            return "closed"
        with self._lock:
            fault, bad, last = self._fault, self._bad, self._last_good_s
        if fault is not None:
            return fault
        if bad is not None:
            return f"bad frames: {bad}"
        quiet = time.monotonic() - last
        if quiet > self.stall_after_s:
            return f"stalled {quiet:.1f} s"
        return "ok"

    @property
    def running(self) -> bool:
        """Whether the capture thread is alive (after close(): still stuck in a device call)."""
        return self._thread is not None and self._thread.is_alive()

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Stop capturing; returns within about `timeout_s` even if the device hangs."""
        self._closed = True
        self._stop.set()
        try:
            self._interrupt()
        except Exception:  # a device that is gone may refuse to be interrupted
            pass
        if self._thread is not None:
            self._thread.join(timeout_s)

    def __enter__(self) -> LiveSource:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the capture thread ---

    def _run(self) -> None:
        backoff = self.backoff_s[0]
        opened = False
        while not self._stop.is_set():
            try:
                if not opened:
                    self._open()
                    opened = True
                frame = self._capture()
            except Exception as e:  # any failure of the device: report, back off, retry
                self.failures += 1
                with self._lock:
                    self._fault = f"{one_line(e)} (retrying)"
                if opened:
                    self._release_quietly()
                    opened = False
                self._stop.wait(backoff)
                backoff = min(2.0 * backoff, self.backoff_s[1])
                continue
            backoff = self.backoff_s[0]
            if self._fault is not None:  # the device answers again: stalls show as such
                with self._lock:
                    self._fault = None
            if frame is not None and not self._stop.is_set():
                self._offer(frame)
        if opened:
            self._release_quietly()

    def _release_quietly(self) -> None:
        try:
            self._release()
        except Exception:
            pass

    def _offer(self, frame: LiveFrame) -> None:
        """Put a captured frame in the slot, or count it as bad."""
        problem = frame_problem(frame, self.size)
        if problem is not None:
            self.frames_bad += 1
            with self._lock:
                self._bad = problem
            return
        if self.size is None:
            self.size = (frame.depth.shape[1], frame.depth.shape[0])
        with self._lock:
            frame = dataclasses.replace(frame, sequence=self.frames_captured)
            if not self._taken:
                self.frames_dropped += 1
            self._newest, self._taken = frame, False
            self.frames_captured += 1
            self._fault = self._bad = None
            self._last_good_s = time.monotonic()


class ClipAsLive(LiveSource):
    """A clip played in real time on the capture thread: frame k is due at k / fps.

    When reading falls behind, due frames are skipped (as a camera's would be);
    after the last frame it starts again (`loop`) or reports "clip ended".
    """

    def __init__(self, clip: Clip, fps: float, loop: bool = True, name: str = "clip") -> None:
        super().__init__(name)
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.clip = clip
        self.fps = fps
        self.loop = loop
        self.intrinsics: Intrinsics | None = getattr(clip, "intrinsics", None)
        self._start_s: float | None = None
        self._next_k = 0  # the first clip frame not read yet
        self._ended = False

    def _open(self) -> None:
        if self._start_s is None:
            self._start_s = time.monotonic()

    def _capture(self) -> LiveFrame | None:
        assert self._start_s is not None
        n = self.clip.frame_count
        due = math.floor((time.monotonic() - self._start_s) * self.fps)
        if due < self._next_k:  # early: sleep until the next frame is due (or close)
            wait = self._start_s + self._next_k / self.fps - time.monotonic()
            self._stop.wait(min(max(wait, 0.0), 0.1))
            return None
        if n is not None and not self.loop and due >= n:
            self._ended = True
            self._stop.wait(0.1)
            return None
        k = due if n is None or not self.loop else due % n
        color, depth = self.clip.read(k)
        self._next_k = due + 1
        return LiveFrame(color, depth, time.monotonic(), self.intrinsics)

    @property
    def status(self) -> str:
        """As LiveSource.status; "clip ended" once a non-looping clip is over."""
        if self._ended and not self._closed:
            return "clip ended"
        return super().status

    def _release(self) -> None:
        pass

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Stop the thread, then close the clip (unless the thread is still reading it)."""
        super().close(timeout_s)
        if not self.running:
            self.clip.close()


__all__ = [
    "BACKOFF_FIRST_S",
    "BACKOFF_MAX_S",
    "CLOSE_TIMEOUT_S",
    "STALL_AFTER_S",
    "Clip",
    "ClipAsLive",
    "Intrinsics",
    "LiveFrame",
    "LiveSource",
    "frame_problem",
]
