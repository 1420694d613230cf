"""Clips: frames A..B of a shot through the frame loop into a writer, timed stage by stage.

Frame k is rendered at t = k / fps with the lens `track.lens_at(lens, t)` and the
input frame `source.input_index(k)`: a pure function of k. The pass chain holds
no state between frames, so a chunk (`--frames A-B`) equals the same frames of a
whole render, bit for bit, and render-farm chunks can be split anywhere.

Stages (realtime.frameloop), each timed around its own work (the GL queue is
drained with `ctx.finish()` after the pass chain, so GPU time is not billed to
readback):

    input      decode the input frame and upload it; skipped while the input frame
               does not change (a still pair is uploaded once)
    condition  depth conditioning on the GPU (sensor depth; 0 s when off)
    gpu        the depth-of-field pass chain, up to ctx.finish(); skipped while
               neither the input frame nor the lens changes
    readback   the composite texture to numpy (float32)
    breathing  the numpy rescale for --breathing (0 s when off)
    encode     the writer: sRGB conversion and PNG/EXR/TIFF encoding for sequences;
               for video, sRGB conversion, the time the loop waits on the ffmpeg pipe and
               the final wait for ffmpeg. ffmpeg encodes in parallel with rendering, so
               its own CPU time is reported too (`encoder_cpu_s`)
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from realtime.focus import BREATHING_OFF, FocusTrack
from realtime.frameloop import STAGES, FileSink, FrameLoop, FrameSource, stage_times
from realtime.lens import Lens

if TYPE_CHECKING:
    from realtime.outputs import FrameWriter
    from realtime.pipeline import Compositor
    from realtime.tiling import TileOptions

PROGRESS_INTERVAL_S = 0.1  # the progress bar is redrawn at most this often


@dataclass(frozen=True)
class Shot:
    """Everything that decides the pixels of frame k."""

    source: FrameSource  # input frames
    lens: Lens  # the lens; focus and f-number come from the track
    track: FocusTrack  # focus distance (and f-number) over time
    fps: float  # frame k is at t = k / fps
    breathing: float = BREATHING_OFF  # focus-breathing amount (focus.breathing_scale); 0 = off
    condition_depth: bool = False  # condition sensor depth on the GPU (realtime.passes.depth)

    def time_of(self, k: int) -> float:
        """Time of frame k, seconds."""
        return k / self.fps

    def lens_at(self, k: int) -> Lens:
        """The lens of frame k: the track's focus and f-number at t = k / fps."""
        return self.track.lens_at(self.lens, self.time_of(k))


@dataclass
class BatchStats:
    """What a render did and where its time went."""

    size: tuple[int, int] = (0, 0)  # (width, height) of the frames
    rendered: int = 0  # frames rendered and written
    skipped: int = 0  # frames skipped by --resume
    seconds: dict[str, float] = field(default_factory=stage_times)  # per stage (STAGES)
    wall_s: float = 0.0  # whole loop, writer finish included
    encoder_cpu_s: float = 0.0  # CPU time of child processes (ffmpeg) during the loop
    frames: list[int] = field(default_factory=list)  # indices rendered, in order
    focus_m: list[float] = field(default_factory=list)  # focus distance of each rendered frame
    f_number: list[float] = field(default_factory=list)  # f-number of each rendered frame

    def rate(self, stage: str) -> float:
        """Frames per second the stage alone would sustain (inf when it took no time)."""
        s = self.seconds[stage]
        return self.rendered / s if s > 0 else math.inf

    def report(self, what: str = "") -> str:
        """A few lines for --stats: each stage's time and frames/s, and the overall rate."""
        w, h = self.size
        overall = self.rendered / self.wall_s if self.wall_s > 0 else math.inf
        lines = [
            f"rackfocus: {self.rendered} frames at {w}x{h} in {self.wall_s:.2f} s "
            f"({overall:.2f} frames/s){f', {what}' if what else ''}"
            + (f", {self.skipped} skipped (--resume)" if self.skipped else "")
        ]
        labels = {
            "input": "input (decode + upload)",
            "condition": "depth conditioning",
            "gpu": "gpu (pass chain)",
            "readback": "readback",
            "breathing": "breathing (numpy)",
            "encode": "encode (writer wait)",
        }
        for stage in STAGES:
            if stage in ("condition", "breathing") and self.seconds[stage] == 0:
                continue
            per = 1000 * self.seconds[stage] / self.rendered if self.rendered else 0.0
            lines.append(
                f"  {labels[stage]:<24} {self.seconds[stage]:8.3f} s  {per:8.2f} ms/frame  "
                f"{self.rate(stage):9.1f} frames/s"
            )
        if self.encoder_cpu_s > 0:
            cpu_rate = self.rendered / self.encoder_cpu_s
            lines.append(
                f"  {'ffmpeg CPU (parallel)':<24} {self.encoder_cpu_s:8.3f} s  "
                f"{1000 * self.encoder_cpu_s / max(self.rendered, 1):8.2f} ms/frame  "
                f"{cpu_rate:9.1f} frames/s"
            )
        return "\n".join(lines)


class Progress:
    """The progress bar of a render (tqdm): frames done of the total, rate and time left.

    Frames skipped by --resume move the bar without a rate sample of their own.
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            file=stream if stream is not None else sys.stderr,
            disable=not enabled,
            desc="rackfocus",
            unit=" frames",
            dynamic_ncols=True,
            mininterval=PROGRESS_INTERVAL_S,
        )

    def update(self, done: int, rendered: int, force: bool = False) -> None:
        """Show `done` of `total` frames finished, `rendered` of them rendered this run."""
        if done != self.bar.n:
            if done - rendered > self.bar.n:  # resumed frames: move on without a rate sample
                self.bar.n = done - rendered
                self.bar.last_print_n = self.bar.n
            self.bar.update(done - self.bar.n)
        if force:
            self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render_frames(
    shot: Shot,
    writer: FrameWriter,
    frames: Iterable[int],
    compositor: Compositor | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    tiles: TileOptions | None = None,
) -> BatchStats:
    """Render `frames` of `shot` into `writer` and finish it; returns the timings.

    With `resume`, frames whose output already exists are skipped. Any exception
    or interrupt aborts the writer (no partial video, no partial frame) and
    propagates. Frames past the GPU's limit or the memory budget are rendered in
    tiles (realtime.tiling; `tiles`: --tile-size, --max-memory, default automatic).
    """
    from realtime.pipeline import Compositor
    from realtime.tiling import TileOptions

    comp = compositor if compositor is not None else Compositor()
    tiling = (tiles if tiles is not None else TileOptions()).resolve(comp.ctx)
    loop = FrameLoop(
        comp, shot.source, sync=True, condition_depth=shot.condition_depth, tiling=tiling
    )
    stats = BatchStats(seconds=loop.times)
    sink = FileSink(writer, loop.times, shot.breathing, background=True)
    order: Sequence[int] = list(frames)
    cpu0 = _children_cpu_s()
    t0 = time.perf_counter()
    try:
        for done, k in enumerate(order, start=1):
            if resume and writer.exists(k):
                stats.skipped += 1
            else:
                lens = shot.lens_at(k)
                sink.write(k, loop.compose_frame(k, lens), lens)
                stats.size = loop.image_size
                stats.rendered += 1
                stats.frames.append(k)
                stats.focus_m.append(lens.focus_m)
                stats.f_number.append(lens.f_number)
            if progress is not None:
                progress.update(done, stats.rendered)
        sink.finish()
    except BaseException:
        sink.abort()
        raise
    finally:
        if progress is not None:
            progress.update(stats.rendered + stats.skipped, stats.rendered, force=True)
            progress.close()
    stats.wall_s = time.perf_counter() - t0
    stats.encoder_cpu_s = _children_cpu_s() - cpu0
    return stats


__all__ = [
    "STAGES",
    "BatchStats",
    "FrameSource",
    "Progress",
    "Shot",
    "render_frames",
]
