"""Planning a clip render from the options: what to render, from what, and where to.

`open_clip(args)` checks every option, opens the inputs and returns a `ClipPlan`
(the shot, the writer, the frames); `rackfocus render` runs it in this process
(realtime.render) and `render --ray` in chunks on a cluster (realtime.farm), so
both plan with the same code. Also the SIGTERM handling they share.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from realtime.errors import InputError
from realtime.options import (
    focus_target_from_args,
    lens_from_args,
    parse_fps,
    parse_number,
    parse_positive,
    parse_size,
    tile_options_from_args,
)

if TYPE_CHECKING:
    import numpy as np

    from realtime.batch import Shot
    from realtime.cues import Cues
    from realtime.outputs import FrameWriter
    from realtime.tiling import TileOptions

SIGTERM_EXIT = 128 + signal.SIGTERM  # exit status after a clean stop on SIGTERM


def require_inputs(args: argparse.Namespace, photo_depth: bool = False) -> None:
    """--rgb and --depth are given; with `photo_depth`, --rgb alone when it names a file (a
    photo that carries its depth: the reader says in one line when it does not)."""
    if args.rgb is None:
        raise InputError("--rgb PATH is required (or --source, --cues)")
    if args.depth is None and not (photo_depth and Path(args.rgb).is_file()):
        raise InputError("--depth PATH is required (or --source, --cues)")


# --- option values (parsed here so that a bad one is one InputError line) ---------------------


def parse_rack(text: str) -> tuple[float, float]:
    """FROM:TO in metres, both positive."""
    parts = text.split(":")
    if len(parts) != 2:
        raise InputError(f"--rack {text}: expected FROM:TO in metres, e.g. 1.2:4")
    values = []
    for part, what in zip(parts, ("FROM", "TO"), strict=True):
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"--rack {text}: {what} must be a number") from None
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"--rack {text}: {what} must be a positive distance in metres")
        values.append(value)
    return values[0], values[1]


def parse_frames(text: str) -> tuple[int, int]:
    """A-B (inclusive) or a single frame A; both >= 0 and A <= B."""
    parts = text.split("-")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() for p in parts):
        raise InputError(f"--frames {text}: expected A-B, e.g. 0-99 (inclusive, 0-based)")
    a, b = int(parts[0]), int(parts[-1])
    if a > b:
        raise InputError(f"--frames {text}: the first frame is after the last")
    return a, b


def parse_quality(text: str) -> int:
    """An integer 0..10."""
    from realtime.outputs.video import check_quality

    try:
        value = int(text)
    except ValueError:
        raise InputError(f"--quality {text}: expected an integer 0..10") from None
    return check_quality(value)


def _cue_codec(cues: Cues, output: str) -> str | None:
    """The video codec a cue file's [output] codec means for its own path (None for images).

    An image codec (png, exr, tif) must match the path's extension. The cue file's
    default codec is h264, so a video codec with an image path is taken as unset.
    """
    from realtime.outputs import IMAGE_CODECS, is_video

    codec = cues.output.codec
    if codec not in IMAGE_CODECS:
        return codec if is_video(output) else None
    extensions = IMAGE_CODECS[codec]
    if Path(output).suffix.lower() not in extensions:
        raise InputError(
            f"{cues.path}: [output] codec {codec} writes {extensions[0]} images; give a "
            f"numbered path such as out_%04d{extensions[0]}, not {output}"
        )
    return None


class Terminated(BaseException):
    """SIGTERM arrived: unwinds the frame loop like Ctrl-C, so that nothing partial is left."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM (what render farms send) into a clean stop: temporary files removed."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class ClipPlan:
    """A clip render planned from the options: what to render, and where to."""

    shot: Shot  # what decides the pixels of frame k
    writer: FrameWriter  # where the frames go (nothing opened yet)
    frames: range  # the frames to render (--frames A-B, else all)
    count: int  # frames in the whole clip
    output: str  # the output path or pattern
    tiles: TileOptions | None = None  # --tile-size, --max-memory (frames past the GPU's limit)


@contextmanager
def open_clip(args: argparse.Namespace) -> Iterator[ClipPlan]:
    """Check every option, open the inputs and plan the render; the inputs close on exit."""
    from realtime.batch import Shot
    from realtime.cues import load_cues
    from realtime.focus import (
        DEFAULT_EASING,
        FAR_FOCUS_M,
        FocusKey,
        FocusTrack,
        easing,
        rack,
        resolve_target,
    )
    from realtime.outputs import DEFAULT_FPS, is_video, open_output
    from realtime.outputs.video import DEFAULT_QUALITY, VIDEO_CODECS
    from realtime.sources.frames import is_pattern
    from realtime.sources.options import PhotoClip, inputs_from_args, open_inputs

    # Every option is checked before any file is read.
    rack_m = parse_rack(args.rack) if args.rack is not None else None
    duration = (
        parse_positive(args.duration, "--duration", "S") if args.duration is not None else None
    )
    fps = parse_fps(args.fps) if args.fps is not None else None
    size = parse_size(args.size) if args.size is not None else None
    quality = parse_quality(args.quality) if args.quality is not None else None
    chunk = parse_frames(args.frames) if args.frames is not None else None
    tiles = tile_options_from_args(args)
    breathing = parse_number(args.breathing, "--breathing", "AMOUNT") if args.breathing else 0.0
    if args.easing is not None:
        easing(args.easing)
    if args.codec is not None and args.codec not in VIDEO_CODECS:
        raise InputError(f"--codec {args.codec}: expected one of {', '.join(VIDEO_CODECS)}")

    inputs = inputs_from_args(args)
    cues = None
    target = None  # --focus auto / --focus-at: picked on the first frame's depth
    if args.cues is not None:
        given = [
            flag
            for flag, value in (
                ("--rgb", args.rgb),
                ("--depth", args.depth),
                ("--source", args.source),
                ("--sensor-noise", args.sensor_noise),
                ("--focus", args.focus),
                ("--focus-at", args.focus_at),
                ("--rack", args.rack),
                ("--easing", args.easing),
                ("--depth-scale", args.depth_scale),
                ("--disparity", args.disparity),
                ("--inverse-depth", args.inverse_depth),
            )
            if value is not None
        ]
        if given:
            raise InputError(f"{given[0]} cannot be combined with --cues (the cue file sets it)")
        cues = load_cues(args.cues)
        inputs = replace(
            inputs, rgb=cues.input.rgb, depth=cues.input.depth, convention=cues.input.convention
        )
        lens = cues.lens
        output = args.output if args.output is not None else cues.output.path
        if output is None:
            raise InputError(f"{args.cues}: no [output] path; give -o OUT")
        fps = fps if fps is not None else cues.output.fps
        size = size if size is not None else cues.output.size
        quality = quality if quality is not None else cues.output.quality
    else:
        if inputs.source is None:
            require_inputs(args, photo_depth=True)
        if inputs.source is not None and inputs.source.live:
            raise InputError(
                f"--source {inputs.source.text}: render reads clips; record the camera "
                "(realsense:REC.db3) or show it live with rackfocus preview"
            )
        if args.output is None:
            raise InputError("-o OUT is required")
        output = args.output
        if rack_m is not None and args.focus is not None:
            raise InputError("--focus and --rack both set the focus; give one of them")
        target = focus_target_from_args(args)
        placeholder = FAR_FOCUS_M if target is not None else None
        lens = lens_from_args(args, focus_m=rack_m[0] if rack_m is not None else placeholder)
    output = str(output)
    if args.resume and is_video(output):
        raise InputError("--resume needs an image-sequence output (video frames are not files)")
    codec = args.codec
    if cues is not None and args.output is None:  # the cue file's path: its codec applies
        codec = codec if codec is not None else _cue_codec(cues, output)

    source, rate = open_inputs(inputs, size, fps, args.loop)
    if isinstance(source, PhotoClip) and cues is None:  # lens defaults from the photo's EXIF
        lens = lens_from_args(args, lens.focus_m, photo=source.lens)
    try:
        fps = fps if fps is not None else rate if rate is not None else DEFAULT_FPS
        if duration is not None:
            count = max(1, round(duration * fps))
        elif cues is not None:
            count = max(1, round(cues.output.duration_s * fps))
        elif source.frame_count is not None:
            count = source.frame_count
        elif not (is_video(output) or is_pattern(output)):
            count = 1  # stills into one image (with --stats, --size, ...): a clip of one frame
        else:
            raise InputError("--duration S is required: the inputs are still images")
        n = source.frame_count
        if n is not None and count > n and not args.loop:
            sys.stderr.write(
                f"rackfocus: warning: the inputs have {n} frames; rendering {n} of {count} "
                "(--loop repeats them)\n"
            )
            count = n
        first, last = chunk if chunk is not None else (0, count - 1)
        if last >= count:
            raise InputError(f"--frames {args.frames}: the clip has {count} frames (0-{count - 1})")

        def first_depth() -> np.ndarray:
            """The first frame's depth at its colour's size: pixel and auto keys pick on it."""
            from realtime.sources.depth import depth_at_color_size

            color0, depth0 = source.read(0, resize=False)  # type: ignore[call-arg]
            return depth_at_color_size(depth0, color0)

        if cues is not None:
            track = cues.focus_track(first_depth())
        elif rack_m is not None:
            if count < 2:
                raise InputError("--rack needs a clip of at least 2 frames (--duration, --fps)")
            name = args.easing if args.easing is not None else DEFAULT_EASING
            track = rack(rack_m[0], rack_m[1], (count - 1) / fps, name)
        else:
            if args.easing is not None:
                raise InputError("--easing applies to --rack")
            if target is not None:
                lens = lens.with_focus(resolve_target(target, first_depth()))
            track = FocusTrack((FocusKey(0.0, lens.focus_m),))
        for t in (track.start_s, track.end_s):  # a track must not focus inside the lens
            track.lens_at(lens, t)
        color, _ = source.read(first)
        frame_size = (color.shape[1], color.shape[0])
        writer = open_output(
            output,
            frame_size,
            fps,
            count,
            codec,
            quality if quality is not None else DEFAULT_QUALITY,
        )
        shot = Shot(source, lens, track, fps, breathing, inputs.condition_depth)
        yield ClipPlan(shot, writer, range(first, last + 1), count, output, tiles)
    finally:
        source.close()
