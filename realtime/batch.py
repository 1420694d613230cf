"""The frame loop of a clip: focus track -> compositor -> writer, timed stage by stage.

Frame k is rendered at t = k / fps with the lens `track.lens_at(lens, t)` and the
input frame `source.input_index(k)`: a pure function of k. The pass chain holds
no state between frames, so a chunk (`--frames A-B`) equals the same frames of a
whole render, bit for bit, and render-farm chunks can be split anywhere.

Stages, each timed around its own work (the GL queue is drained with
`ctx.finish()` after the pass chain, so GPU time is not billed to readback):

    input      decode the input frame and upload it; skipped while the input frame
               does not change (a still pair is uploaded once)
    gpu        the depth-of-field pass chain, up to ctx.finish()
    readback   the composite texture to numpy (float32)
    breathing  the numpy rescale for --breathing (0 s when off)
    encode     the writer: sRGB conversion and PNG/EXR/TIFF encoding for sequences;
               for video, sRGB conversion, the time the loop waits on the ffmpeg pipe and
               the final wait for ffmpeg. ffmpeg encodes in parallel with rendering, so
               its own CPU time is reported too (`encoder_cpu_s`)

Focus breathing (`breathing` != 0) magnifies each rendered frame about its centre
by `breathing_scale(lens, focus)`, bilinear, edges clamped, after the depth of
field: the blur is not rescaled with it (the scale is within a few per cent).
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

import numpy as np

from realtime.focus import BREATHING_OFF, FocusTrack, breathing_scale
from realtime.lens import Lens

if TYPE_CHECKING:
    from collections.abc import Iterator

    from realtime.outputs import FrameWriter
    from realtime.pipeline import Compositor

STAGES = ("input", "gpu", "readback", "breathing", "encode")  # timed stages, in loop order
PROGRESS_INTERVAL_S = 0.1  # the progress line is redrawn at most this often
BAR_WIDTH = 24  # characters of the progress bar


class FrameSource(Protocol):
    """What the loop reads frames from (sources.frames.RGBDFrames, or a test's fake)."""

    def input_index(self, k: int) -> int:
        """The input frame output frame k shows; equal indices mean equal frames."""
        ...

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(colour HxWx3 linear float32, depth HxW metres) of output frame k."""
        ...


@dataclass(frozen=True)
class Shot:
    """Everything that decides the pixels of frame k."""

    source: FrameSource  # input frames
    lens: Lens  # the lens; focus and f-number come from the track
    track: FocusTrack  # focus distance (and f-number) over time
    fps: float  # frame k is at t = k / fps
    breathing: float = BREATHING_OFF  # focus-breathing amount (focus.breathing_scale); 0 = off

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
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
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
            "gpu": "gpu (pass chain)",
            "readback": "readback",
            "breathing": "breathing (numpy)",
            "encode": "encode (writer wait)",
        }
        for stage in STAGES:
            if stage == "breathing" and self.seconds[stage] == 0:
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
    """A one-line progress bar on a text stream, redrawn in place with '\\r'."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.start = time.perf_counter()
        self._last_draw = -math.inf
        self._width = 0

    def update(self, done: int, rendered: int, force: bool = False) -> None:
        """Show `done` of `total` frames finished, `rendered` of them rendered this run."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < PROGRESS_INTERVAL_S:
            return
        self._last_draw = now
        elapsed = now - self.start
        rate = rendered / elapsed if elapsed > 0 and rendered else 0.0
        left = (self.total - done) / rate if rate > 0 else math.nan
        filled = round(BAR_WIDTH * done / self.total) if self.total else BAR_WIDTH
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        eta = _clock(left) if math.isfinite(left) else "--:--"
        text = f"rackfocus: [{bar}] {done}/{self.total} frames  {rate:5.2f} frames/s  {eta} left"
        pad = " " * max(0, self._width - len(text))
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        """End the line (only if anything was drawn)."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _axis(n: int, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps (i0, i1, fraction) along one axis for a magnification about the centre."""
    x = (np.arange(n) + 0.5 - n / 2) / scale + n / 2 - 0.5
    x = np.clip(x, 0.0, n - 1.0)
    i0 = np.floor(x).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (x - i0).astype(np.float32)


def breathe(rgb: np.ndarray, scale: float) -> np.ndarray:
    """`rgb` magnified by `scale` about its centre (bilinear, edges clamped); >1 crops in."""
    if scale == 1.0:
        return rgb
    h, w = rgb.shape[:2]
    y0, y1, fy = _axis(h, scale)
    x0, x1, fx = _axis(w, scale)
    rows = rgb[y0] * (1 - fy)[:, None, None] + rgb[y1] * fy[:, None, None]
    out = rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]
    return np.ascontiguousarray(out, dtype=np.float32)


@contextmanager
def _timed(stats: BatchStats, stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        stats.seconds[stage] += time.perf_counter() - t0


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
) -> BatchStats:
    """Render `frames` of `shot` into `writer` and finish it; returns the timings.

    With `resume`, frames whose output already exists are skipped. Any exception
    or interrupt aborts the writer (no partial video, no partial frame) and
    propagates.
    """
    from realtime.pipeline import Compositor, read_rgb

    comp = compositor if compositor is not None else Compositor()
    order: Sequence[int] = list(frames)
    stats = BatchStats()
    cpu0 = _children_cpu_s()
    t0 = time.perf_counter()
    uploaded: int | None = None  # input frame index in the textures
    textures = None
    try:
        for done, k in enumerate(order, start=1):
            if resume and writer.exists(k):
                stats.skipped += 1
                if progress is not None:
                    progress.update(done, stats.rendered)
                continue
            lens = shot.lens_at(k)
            index = shot.source.input_index(k)
            with _timed(stats, "input"):
                if textures is None or index != uploaded:
                    color, depth = shot.source.read(k)
                    textures = comp.upload(color, depth)
                    uploaded = index
            with _timed(stats, "gpu"):
                out = comp.render_textures(textures[0], textures[1], lens)
                comp.ctx.finish()
            with _timed(stats, "readback"):
                rgb = read_rgb(out)
            if shot.breathing != BREATHING_OFF:
                with _timed(stats, "breathing"):
                    rgb = breathe(rgb, breathing_scale(lens, lens.focus_m, shot.breathing))
            with _timed(stats, "encode"):
                writer.write(k, rgb)
            stats.size = (rgb.shape[1], rgb.shape[0])
            stats.rendered += 1
            stats.frames.append(k)
            stats.focus_m.append(lens.focus_m)
            stats.f_number.append(lens.f_number)
            if progress is not None:
                progress.update(done, stats.rendered)
        with _timed(stats, "encode"):
            writer.finish()
    except BaseException:
        writer.abort()
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
    "breathe",
    "render_frames",
]
