"""A writer that encodes on its own thread, so the next frame renders while this one encodes.

`BackgroundWriter` wraps any FrameWriter: `write(k, rgb)` hands the frame to a
thread through a queue of QUEUE_FRAMES and returns at once unless the queue is
full (then the loop waits: the writer is the bottleneck). The thread runs the
wrapped writer's own `write`, so the bytes written are the same as without it;
sRGB conversion, PNG/EXR compression and the pipe to ffmpeg release the GIL, so
they run beside the GL driver's threads. A failure on the thread is raised in
the loop's thread at the next call; `abort()` stops the thread and aborts the
wrapped writer, so nothing half-written is left either way.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import numpy as np

from realtime.outputs import FrameWriter

QUEUE_FRAMES = 2  # frames waiting for the encoder: one encoding, one or two rendered ahead
_DONE = None  # the end-of-stream marker on the queue


class BackgroundWriter:
    """`writer`, run on a thread of its own (see the module docstring)."""

    def __init__(self, writer: FrameWriter) -> None:
        self.writer = writer
        self.queue: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(QUEUE_FRAMES)
        self.error: BaseException | None = None
        self.busy_s = 0.0  # time the thread spent writing
        self.thread = threading.Thread(target=self._run, name="rackfocus writer", daemon=True)
        self.thread.start()

    @property
    def describe(self) -> str:
        return self.writer.describe

    def frame_path(self, k: int) -> Path | None:
        return self.writer.frame_path(k)

    def exists(self, k: int) -> bool:
        return self.writer.exists(k)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _DONE:
                return
            if self.error is not None:
                continue  # drain: the loop will raise it
            k, rgb = item
            start = time.perf_counter()
            try:
                self.writer.write(k, rgb)
            except BaseException as e:  # handed to the loop's thread
                self.error = e
            self.busy_s += time.perf_counter() - start

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def write(self, k: int, linear_rgb: np.ndarray) -> None:
        """Queue frame k (waits while QUEUE_FRAMES frames are pending)."""
        self._check()
        self.queue.put((k, linear_rgb))

    def finish(self) -> None:
        """Wait for the queued frames, then finish the wrapped writer."""
        self.queue.put(_DONE)
        self.thread.join()
        self._check()
        self.writer.finish()

    def abort(self) -> None:
        """Let the thread write the frames already rendered (an image sequence keeps them
        for --resume; a video is discarded anyway), then abort the wrapped writer."""
        self.queue.put(_DONE)
        self.thread.join()
        self.writer.abort()
