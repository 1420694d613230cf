"""Frames going out to other programs while a show runs: a bounded queue and a sender thread.

The render thread hands each presented frame to `FrameSink.offer` and returns at
once; the sink's own thread takes frames from a queue of QUEUE_FRAMES and sends
them (NDI: realtime.outputs.ndi; an H.264 network stream: realtime.outputs.stream).
When the queue is full the oldest frame is dropped and counted: a slow or absent
receiver costs frames on its own side, never time on the render thread. A sender
that fails (a stream whose ffmpeg stopped) says so once in the log (again only
after it sent for RECOVERED_S); the frames it could not send are counted as
dropped.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

QUEUE_FRAMES = 2  # frames waiting for a sender; beyond it the oldest is dropped
CLOSE_TIMEOUT_S = 2.0  # longest wait at the end for a sender to send what it holds
RECOVERED_S = 10.0  # a failure after this long of frames sent again is logged again


@dataclass(frozen=True)
class OutFrame:
    """One presented frame, as read back from the window."""

    pixels: np.ndarray  # HxWx4 uint8 RGBX, bottom row first (as OpenGL reads it)
    presented_s: float  # wall-clock time (time.time) of the swap that presented it
    index: int  # frames presented before it


class SinkFailed(Exception):
    """A sender cannot send (its reason is one line); the frame counts as dropped."""


@dataclass
class SinkCounts:
    """What a sink did with the frames it was offered."""

    sent: int = 0  # frames handed to the receiver (NDI) or to the encoder (stream)
    dropped: int = 0  # frames dropped: the queue was full, or the sender had failed


class FrameSink:
    """A sender thread fed through a queue of QUEUE_FRAMES that drops the oldest.

    Subclasses implement `send` (on the sink's thread; raise SinkFailed when the
    frame cannot go out) and `stop` (release what the sender holds)."""

    label = "sink"  # names the sink in the log and the status line

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.counts = SinkCounts()
        self.frames: deque[OutFrame] = deque()
        self.ready = threading.Condition()
        self.closing = False
        self.failure: str | None = None  # the last failure logged
        self.sending_since: float | None = None  # monotonic time sends last began to succeed
        self.thread = threading.Thread(target=self._run, name=f"sink {self.label}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def offer(self, frame: OutFrame) -> None:
        """Queue a frame for the sender (render thread; never waits for the sender)."""
        with self.ready:
            if len(self.frames) >= QUEUE_FRAMES:
                self.frames.popleft()
                self.counts.dropped += 1
            self.frames.append(frame)
            self.ready.notify()

    def _run(self) -> None:
        while True:
            with self.ready:
                while not self.frames and not self.closing:
                    self.ready.wait()
                if not self.frames:
                    return
                frame = self.frames.popleft()
            try:
                self.send(frame)
            except SinkFailed as e:
                with self.ready:
                    self.counts.dropped += 1
                since = self.sending_since
                recovered = since is not None and time.monotonic() - since >= RECOVERED_S
                if str(e) != self.failure or recovered:
                    self.failure = str(e)
                    self.log(f"{self.label}: {e}")
                self.sending_since = None
                continue
            self.counts.sent += 1
            if self.sending_since is None:
                self.sending_since = time.monotonic()

    def send(self, frame: OutFrame) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Release the sender (after its thread ended, or gave up waiting for it)."""

    def summary(self) -> str:
        return f"{self.label}: {self.counts.sent} frames sent, {self.counts.dropped} dropped"

    def close(self) -> None:
        """Send what is queued (for at most CLOSE_TIMEOUT_S), then stop."""
        with self.ready:
            self.closing = True
            self.ready.notify()
        if self.thread.is_alive():
            self.thread.join(CLOSE_TIMEOUT_S)
        self.stop()
        if self.thread.is_alive():
            self.thread.join(CLOSE_TIMEOUT_S)


__all__ = ["CLOSE_TIMEOUT_S", "QUEUE_FRAMES", "FrameSink", "OutFrame", "SinkCounts", "SinkFailed"]
