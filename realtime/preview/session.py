"""Opening a preview session: the inputs as a frame source, the cue file, the first focus.

Stills are one frame; sequences, videos, recordings and synthetic scenes play in a
loop through `Playback` at their own frame rate (or --fps); a camera is a live
source whose newest frame shows. Then the window opens (realtime.preview.app).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from realtime.errors import InputError
from realtime.frameloop import FrameSource, LiveFrames, StillFrames, input_fps
from realtime.preview.app import Preview
from realtime.preview.controls import Controls, Playback, min_focus_m
from realtime.preview.options import PreviewOptions
from realtime.preview.script import check_clicks

if TYPE_CHECKING:
    from realtime.cues import Cues
    from realtime.sources.frames import RGBDFrames
    from realtime.sources.images import PathLike

FIRST_FRAME_TIMEOUT_S = 10.0  # how long a camera may take to deliver its first frame
Files = Callable[[int], tuple["PathLike", "PathLike"]]


def sequence_files(rgb: PathLike, depth: PathLike, source: RGBDFrames) -> Files:
    """The files of input frame i: --rgb and --depth, a sequence's pattern replaced by its
    i-th file (a cue file's inputs are single files)."""
    from realtime.sources.frames import FileStream

    def files(index: int) -> tuple[PathLike, PathLike]:
        out: list[PathLike] = [rgb, depth]
        for i, stream in enumerate((source.color, source.depth)):
            if isinstance(stream, FileStream) and stream.frame_count is not None:
                out[i] = stream.paths[index]
        return out[0], out[1]

    return files


def run_preview(options: PreviewOptions) -> int:
    """Open the inputs and the window, run the loop; the exit code."""
    from realtime.sources.depth import depth_at_color_size
    from realtime.sources.frames import are_stills, open_frames
    from realtime.sources.options import load_pair, open_inputs

    inputs = options.inputs
    cues = None
    if options.cues:
        from realtime.cues import load_cues

        cues = load_cues(options.cues)
    if inputs.source is not None and (inputs.source.live or options.as_live):
        return _run_live(options, cues)
    if inputs.source is not None:
        clip, rate = open_inputs(inputs, options.size, options.fps, loop=True)
        try:
            color, depth = clip.read(0)
            depth = depth_at_color_size(depth, color)
            assert clip.frame_count is not None
            playback = Playback(clip.frame_count, options.fps or rate or 30.0)
            return _run(options, cues, clip, depth, playback)
        finally:
            clip.close()
    assert inputs.rgb is not None and inputs.depth is not None
    if are_stills(inputs.rgb, inputs.depth):
        color, depth = load_pair(
            str(inputs.rgb),
            str(inputs.depth),
            inputs.convention,
            inputs.resize_depth,
            depth_upsample=inputs.depth_upsample,
        )
        rgb, depth_file = inputs.rgb, inputs.depth

        def still_files(index: int) -> tuple[PathLike, PathLike]:
            return rgb, depth_file

        picking = depth_at_color_size(depth, color)
        return _run(options, cues, StillFrames(color, depth), picking, None, still_files)
    frames = open_frames(
        inputs.rgb,
        inputs.depth,
        inputs.convention,
        inputs.resize_depth,
        True,
        depth_upsample=inputs.depth_upsample,
    )
    try:
        color, depth = frames.read(0)
        depth = depth_at_color_size(depth, color)
        assert frames.frame_count is not None
        playback = Playback(frames.frame_count, input_fps(options.fps, frames))
        files = sequence_files(inputs.rgb, inputs.depth, frames)
        return _run(options, cues, frames, depth, playback, files)
    finally:
        frames.close()


def _run_live(options: PreviewOptions, cues: Cues | None) -> int:
    """A camera (or a clip played as one): wait for its first frame, then show the newest
    frame each turn."""
    from realtime.sources.live import ClipAsLive, LiveSource
    from realtime.sources.options import open_inputs
    from realtime.sources.spec import open_source

    source = options.inputs.source
    assert source is not None
    live: LiveSource
    if source.live:
        opened = open_source(
            source,
            size=options.size,
            fps=options.fps or 30.0,
            sdk_filters=options.inputs.rs_filters,
        )
        assert isinstance(opened, LiveSource)  # what a live spec opens
        live = opened
    else:
        clip, rate = open_inputs(options.inputs, options.size, options.fps, loop=True)
        live = ClipAsLive(clip, options.fps or rate or 30.0, loop=True, name=source.text).start()
    try:
        frames = LiveFrames(live)
        deadline = time.monotonic() + FIRST_FRAME_TIMEOUT_S
        while not frames.poll():
            if time.monotonic() > deadline:
                raise InputError(f"--source {source.text}: no frame ({live.status})")
            time.sleep(0.01)
        frames.index = -1  # the window's loop takes it again as frame 0
        assert frames.frame is not None
        return _run(options, cues, frames, frames.frame.depth)
    finally:
        live.close()


def _run(
    options: PreviewOptions,
    cues: Cues | None,
    source: FrameSource,
    depth: np.ndarray,
    playback: Playback | None = None,
    files: Files | None = None,
) -> int:
    check_clicks(options.script, (depth.shape[1], depth.shape[0]))
    track = cues.focus_track(depth) if cues is not None and cues.focus else None
    focus = options.focus_m
    if focus is None:
        from realtime.focus import AutoTarget, resolve_target

        if options.focus_target is not None:
            focus = resolve_target(options.focus_target, depth)  # --focus-at, --focus auto
        elif track is not None:
            focus = track.focus_at(track.start_s)
        else:
            focus = resolve_target(AutoTarget(), depth)  # centre autofocus
        focus = max(focus, min_focus_m(options.lens))
    lens = options.lens.with_focus(focus)
    controls = Controls(lens, depth, options.rack_duration_s, options.easing, track, options.view)
    preview = Preview(options, source, controls, playback, files)
    if options.play:
        controls.toggle_play(0.0)
    if options.frames is None:
        print("rackfocus preview: press H for help", file=sys.stderr)
    return preview.run()
