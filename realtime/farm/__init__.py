"""`rackfocus render ... --ray [ADDRESS]`: one clip rendered in chunks by the workers of a Ray
cluster (optional extra `rackfocus[farm]`; Ray is imported only here, only when asked for).

    --ray                 RAY_ADDRESS if set (Ray's own convention), else a new local instance
    --ray auto            the cluster this machine belongs to (`ray start` ran here)
    --ray HOST:PORT       a cluster's head node; ray://HOST:PORT through Ray Client
    --chunk-frames N      frames per task (default: CHUNKS_PER_WORKER chunks per worker)

The driver checks every option and opens the inputs (`clip.open_clip`, as a
local render does) before any task starts, then submits one Ray task per chunk
(`chunk.render_chunk`) and follows them with one progress bar fed by the job's
tally actor. Chunks write image sequences under their final names; video
frames go to a hidden folder beside the video as the encoder's input codes, and
the driver encodes them at the end (`codes.encode_video`), so the file equals
a local render's. Paths must mean the same on every worker: the command's
folder, inputs and outputs on a shared file system.

A chunk that fails for good ends the command with exit 2 and one line (its
frames, its worker, the reason) after the other chunks finish; finished frames
stay, and the same command with --resume renders what is missing.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime.errors import InputError
from realtime.sources.images import one_line

if TYPE_CHECKING:
    from realtime.batch import BatchStats, Progress
    from realtime.farm.chunk import ChunkResult

CHUNKS_PER_WORKER = 3  # default chunking: this many chunks per worker (balance vs. overhead)
PROGRESS_POLL_S = 0.2  # how often the driver asks the tally for the progress bar
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # stop the job: cancel its chunks, clean up
CONNECT_TIMEOUT_S = 5.0  # a HOST:PORT that does not answer in this time is a bad address
LOCAL_ADDRESSES = ("", "local")  # Ray addresses that start a new local instance
AUTH_HINT = "a cluster with token authentication needs RAY_AUTH_MODE=token and its token here"


def run_farm(args: argparse.Namespace) -> int:
    """Render the clip the options describe on Ray; the exit code (see the module docstring)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'rackfocus[farm]'") from None
    from realtime.clip import SIGTERM_EXIT, Terminated, open_clip, stop_on_sigterm
    from realtime.farm.codes import CodeFrames, encode_video, frames_folder
    from realtime.outputs.video import VideoWriter

    chunk_frames = parse_chunk_frames(args.chunk_frames) if args.chunk_frames else None
    # Every option checked and the inputs opened here, before any worker starts. --resume
    # applies to a video's intermediate frames, so it is taken out of the local check.
    with open_clip(argparse.Namespace(**{**vars(args), "resume": False})) as clip:
        frames, writer = clip.frames, clip.writer
    video = writer if isinstance(writer, VideoWriter) else None
    folder = frames_folder(clip.output) if video is not None else None
    options = {key: value for key, value in vars(args).items() if key != "run"}
    show = args.progress or sys.stderr.isatty()
    try:
        with connect(args.ray), _noted_signals() as signals:
            t0 = time.perf_counter()
            results, retries, by_worker = _render_chunks(
                options, frames, chunk_frames, folder, args.resume, show, signals
            )
            wall_s = time.perf_counter() - t0  # the job's time, without Ray's start and stop
        if video is not None and folder is not None:
            t0 = time.perf_counter()
            if show:
                sys.stderr.write(f"rackfocus: encoding {len(frames)} frames into {clip.output}\n")
            with stop_on_sigterm():
                encode_video(video, CodeFrames(folder, video.codec.bits), frames)
            wall_s += time.perf_counter() - t0
    except Terminated:
        sys.stderr.write("rackfocus: terminated\n")
        return SIGTERM_EXIT
    sys.stderr.write(_summary(results, retries, by_worker, wall_s) + "\n")
    if args.stats:
        print(_stats(results, wall_s).report(writer.describe))
    return 0


def parse_chunk_frames(text: str) -> int:
    """--chunk-frames N: a positive integer."""
    if not text.strip().isdigit() or int(text) < 1:
        raise InputError(f"--chunk-frames {text}: expected a positive number of frames")
    return int(text)


def chunk_ranges(frames: range, size: int) -> list[tuple[int, int]]:
    """`frames` cut into consecutive (first, last) ranges of at most `size` frames."""
    return [(a, min(a + size, frames.stop) - 1) for a in range(frames.start, frames.stop, size)]


def default_chunk_frames(frame_count: int, workers: int) -> int:
    """Frames per chunk that give every worker about CHUNKS_PER_WORKER chunks."""
    return max(1, -(-frame_count // (max(1, workers) * CHUNKS_PER_WORKER)))


# --- connecting -------------------------------------------------------------------------------


@contextmanager
def connect(address: str) -> Iterator[None]:
    """Ray, connected for the block: this process's existing connection, a new local instance
    (`address` empty, no RAY_ADDRESS) or a cluster; InputError if it cannot be reached."""
    import ray

    if ray.is_initialized():  # e.g. a notebook (or a test) that called ray.init() itself
        if address:
            raise InputError(f"--ray {address}: this process is already connected to Ray")
        yield
        return
    target = address or os.environ.get("RAY_ADDRESS", "")
    named = f"--ray {address}" if address else f"RAY_ADDRESS={target}"
    check_reachable(target, named)
    kwargs: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if target in LOCAL_ADDRESSES:
        kwargs["include_dashboard"] = False
    try:
        ray.init(address=target or "local", **kwargs)
    except (ConnectionError, ValueError, RuntimeError, TimeoutError) as e:
        if target in LOCAL_ADDRESSES:
            raise InputError(f"--ray: cannot start a local Ray instance: {one_line(e)}") from e
        hint = "" if target == "auto" else f" ({AUTH_HINT})"
        raise InputError(f"{named}: cannot join Ray: {one_line(e)}{hint}") from e
    try:
        yield
    finally:
        ray.shutdown()


def check_reachable(address: str, named: str) -> None:
    """A HOST:PORT or ray://HOST:PORT address must accept a connection within
    CONNECT_TIMEOUT_S (Ray itself waits minutes on a dead address); others pass."""
    hostport = address.removeprefix("ray://")
    if address in LOCAL_ADDRESSES or address == "auto" or "://" in hostport:
        return
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(f"{named}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise InputError(f"{named}: no Ray cluster answers there ({one_line(e)})") from e


# --- the job ----------------------------------------------------------------------------------


@contextmanager
def _noted_signals() -> Iterator[list[int]]:
    """SIGINT and SIGTERM noted in a list that the wait loop checks (a handler that raises
    while Ray waits in C leaves a SystemError); outside the main thread, nothing is noted."""
    noted: list[int] = []
    previous: dict[int, Any] = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, lambda n, frame: noted.append(n))
    except ValueError:  # not the main thread
        pass
    try:
        yield noted
    finally:
        for stopped, handler in previous.items():
            signal.signal(stopped, handler)


def _render_chunks(
    options: dict[str, Any],
    frames: range,
    chunk_frames: int | None,
    folder: Path | None,
    resume: bool,
    show: bool,
    signals: list[int],
) -> tuple[list[ChunkResult], int, dict[str, int]]:
    """Run every chunk to its end; (results, retries, frames per worker). InputError
    (one line) if any chunk failed for good."""
    import ray

    from realtime.batch import Progress
    from realtime.farm.chunk import Tally, render_chunk

    workers = int(ray.cluster_resources().get("CPU", 1))
    size = chunk_frames or default_chunk_frames(len(frames), workers)
    chunks = chunk_ranges(frames, size)
    tally = Tally.remote()  # type: ignore[attr-defined]  # ray.remote wraps the class
    cwd, where = os.getcwd(), str(folder) if folder is not None else None
    refs = {
        render_chunk.remote(options, cwd, a, b, where, resume, tally): (a, b) for a, b in chunks
    }
    progress = Progress(len(frames), sys.stderr, show)
    try:
        results, failures = _follow(refs, tally, progress, signals)
        attempts = ray.get(tally.attempts_made.remote())
        by_worker = ray.get(tally.by_worker.remote())
    except BaseException:
        for ref in refs:
            ray.cancel(ref)
        raise
    finally:
        progress.close()
        ray.kill(tally)
    if failures:
        kept = f"in {folder}" if folder is not None else "in place"
        more = f" (and {len(failures) - 1} more chunks)" if len(failures) > 1 else ""
        raise InputError(
            f"{failures[0]}{more}; finished frames are kept {kept}: run the same command "
            "with --resume to render the rest"
        )
    return results, attempts - len(chunks), by_worker


def _follow(
    refs: dict[Any, tuple[int, int]], tally: Any, progress: Progress, signals: list[int]
) -> tuple[list[ChunkResult], list[str]]:
    """Wait for every chunk, moving the progress bar; (results, one line per failed chunk).
    A noted SIGINT raises KeyboardInterrupt, a SIGTERM Terminated."""
    import ray
    from ray.exceptions import RayError, RayTaskError

    from realtime.clip import Terminated

    results: list[ChunkResult] = []
    failures: list[str] = []
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=len(pending), timeout=PROGRESS_POLL_S)
        if signals:
            raise KeyboardInterrupt if signals[0] == signal.SIGINT else Terminated
        for ref in ready:
            first, last = refs[ref]
            what = f"frames {first}-{last} failed"
            try:
                result = ray.get(ref)
            except RayTaskError as e:  # it raised on every try
                cause = e.cause if e.cause is not None else e
                failures.append(f"{what} on {e.ip} pid {e.pid}: {one_line(cause)}")
            except RayError as e:  # its worker died on every try (or its node went away)
                failures.append(f"{what}: {one_line(Exception(str(e).splitlines()[0]))}")
            else:
                if result.error is not None:
                    failures.append(f"{what} on {result.worker}: {result.error}")
                else:
                    results.append(result)
        done, rendered = ray.get(tally.counts.remote())
        progress.update(done, rendered)
    done, rendered = ray.get(tally.counts.remote())
    progress.update(done, rendered, force=True)
    return results, failures


def _summary(
    results: list[ChunkResult], retries: int, by_worker: dict[str, int], wall_s: float
) -> str:
    """The lines printed at the end: frames, chunks, workers, retries; frames per worker."""
    rendered = sum(by_worker.values())
    skipped = sum(r.skipped for r in results)
    workers = f"{len(by_worker)} worker{'s' if len(by_worker) != 1 else ''}"
    head = (
        f"rackfocus: {rendered} frames rendered in {len(results)} chunks by {workers} "
        f"in {wall_s:.1f} s"
    )
    if skipped:
        head += f", {skipped} already done"
    if retries:
        head += f", {retries} {'retry' if retries == 1 else 'retries'} (a worker died or failed)"
    lines = [head]
    for worker, count in sorted(by_worker.items()):
        lines.append(f"  {worker}: {count} frames")
    return "\n".join(lines)


def _stats(results: list[ChunkResult], wall_s: float) -> BatchStats:
    """The chunks' stage times added up, for --stats."""
    from realtime.batch import BatchStats

    stats = BatchStats(wall_s=wall_s)
    for r in results:
        stats.rendered += r.rendered
        stats.skipped += r.skipped
        stats.size = r.size if r.rendered else stats.size
        for stage, seconds in r.seconds.items():
            stats.seconds[stage] += seconds
    return stats


__all__ = ["CHUNKS_PER_WORKER", "chunk_ranges", "connect", "default_chunk_frames", "run_farm"]
