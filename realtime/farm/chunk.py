"""The worker side of a farm render: one chunk of frames as one Ray task, and the job's tally.

`render_chunk` gets the command's options (plain values, never open files or GL
objects) and renders frames A..B exactly as a local `--frames A-B` render does:
it opens its own EGL context, opens the inputs itself (a video decodes up to A,
sequentially), plans the clip with the same code (`clip.open_clip`) and runs
`batch.render_frames` into the output under the final frame names. Frames
finished earlier in the job (by a worker that then died) are skipped, as
`--resume` skips files that exist, so a retried chunk renders only the rest.

Ray retries a chunk whose worker died, and one that raised (a GL error), up to
MAX_RETRIES times. Bad input (a file a worker cannot read, an output folder it
cannot write) fails for good at once: the chunk returns its one-line reason.
"""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import ray

from realtime.errors import InputError
from realtime.frameloop import StageTimes, stage_times

if TYPE_CHECKING:
    from realtime.batch import BatchStats
    from realtime.outputs import FrameWriter

MAX_RETRIES = 3  # Ray's retries of a chunk whose worker died or that raised


def worker_name() -> str:
    """This worker process as the summary names it: host and process id."""
    return f"{socket.gethostname()} pid {os.getpid()}"


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk did, or why it failed for good."""

    first: int  # its first frame
    last: int  # its last frame (inclusive)
    worker: str  # who ran it (worker_name)
    rendered: int = 0  # frames rendered and written
    skipped: int = 0  # frames already done (earlier in the job, or on disk with --resume)
    size: tuple[int, int] = (0, 0)  # (width, height) of the frames
    seconds: StageTimes = field(default_factory=stage_times)  # per stage, as --stats reports
    error: str | None = None  # one line when the chunk failed for good (bad input or output)


@ray.remote(num_cpus=0)
class Tally:
    """The job's shared record: which frames are finished, who rendered them, attempts made.

    The driver polls it for the progress bar; a retried chunk asks it which of
    its frames are already done.
    """

    def __init__(self) -> None:
        self.done: dict[int, str | None] = {}  # frame -> worker that rendered it (None: skipped)
        self.attempts = 0  # chunk runs started, retries included

    def attempt(self) -> None:
        self.attempts += 1

    def finished(self, k: int, worker: str | None) -> None:
        self.done.setdefault(k, worker)

    def done_among(self, first: int, last: int) -> list[int]:
        return [k for k in self.done if first <= k <= last]

    def counts(self) -> tuple[int, int]:
        """(frames finished, frames rendered) so far."""
        return len(self.done), sum(w is not None for w in self.done.values())

    def by_worker(self) -> dict[str, int]:
        """Frames rendered by each worker."""
        out: dict[str, int] = {}
        for w in self.done.values():
            if w is not None:
                out[w] = out.get(w, 0) + 1
        return out

    def attempts_made(self) -> int:
        return self.attempts

    def flush(self) -> None:
        """Nothing: a caller that waits for it knows its earlier calls were all handled."""


class JobWriter:
    """A chunk's writer as render_frames sees it (with resume=True): a frame exists when it
    was finished earlier in this job or, with --resume, is on disk; every frame written or
    skipped is reported to the tally."""

    def __init__(
        self, inner: FrameWriter, tally: Any, worker: str, done: set[int], resume: bool
    ) -> None:
        self.inner = inner
        self.tally = tally
        self.worker = worker
        self.done = done
        self.resume = resume

    @property
    def describe(self) -> str:
        return self.inner.describe

    def frame_path(self, k: int) -> Path | None:
        return self.inner.frame_path(k)

    def exists(self, k: int) -> bool:
        if k in self.done or (self.resume and self.inner.exists(k)):
            self.tally.finished.remote(k, None)
            return True
        return False

    def write(self, k: int, linear_rgb: np.ndarray) -> None:
        self.inner.write(k, linear_rgb)
        self.tally.finished.remote(k, self.worker)

    def finish(self) -> None:
        self.inner.finish()

    def abort(self) -> None:
        self.inner.abort()


@ray.remote(max_retries=MAX_RETRIES, retry_exceptions=True)
def render_chunk(
    options: dict[str, Any],
    cwd: str,
    first: int,
    last: int,
    frames_folder: str | None,
    resume: bool,
    tally: Any,
) -> ChunkResult:
    """Render frames first..last of the command `options` (run from `cwd`); video frames go
    to `frames_folder` as encoder codes (realtime.farm.codes)."""
    worker = worker_name()
    tally.attempt.remote()
    try:
        stats = _render(options, cwd, first, last, frames_folder, resume, tally, worker)
    except InputError as e:
        return ChunkResult(first, last, worker, error=str(e))
    finally:
        ray.get(tally.flush.remote())  # the tally has every frame before the chunk ends
    return ChunkResult(
        first, last, worker, stats.rendered, stats.skipped, stats.size, dict(stats.seconds)
    )


def _render(
    options: dict[str, Any],
    cwd: str,
    first: int,
    last: int,
    frames_folder: str | None,
    resume: bool,
    tally: Any,
    worker: str,
) -> BatchStats:
    from realtime.batch import render_frames
    from realtime.clip import open_clip
    from realtime.farm.codes import CodeFrames
    from realtime.outputs.video import VideoWriter
    from realtime.pipeline import Compositor
    from realtime.sources.images import one_line

    try:
        os.chdir(cwd)  # relative paths mean what they meant to the command
    except OSError as e:
        raise InputError(
            f"{cwd}: this worker cannot enter the command's folder ({one_line(e)}); run from "
            "a path every worker shares"
        ) from e
    args = argparse.Namespace(**options)
    args.frames, args.resume, args.progress = f"{first}-{last}", False, False
    with open_clip(args) as clip:
        writer: FrameWriter = clip.writer
        if frames_folder is not None:
            assert isinstance(writer, VideoWriter)
            writer = CodeFrames(frames_folder, writer.codec.bits)
        done = set(ray.get(tally.done_among.remote(first, last)))
        job = JobWriter(writer, tally, worker, done, resume)
        compositor = Compositor()  # this chunk's own EGL context
        try:
            return render_frames(
                clip.shot, job, clip.frames, compositor, resume=True, tiles=clip.tiles
            )
        finally:
            compositor.ctx.release()


__all__ = ["MAX_RETRIES", "ChunkResult", "Tally", "render_chunk", "worker_name"]
