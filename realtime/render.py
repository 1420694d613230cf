"""`rackfocus render`: an RGB-D image or clip in, depth of field out, as an image, a numbered
image sequence or a video.

    rackfocus render --rgb c.png --depth d.exr --focus 2 -o out.png          # one image
    rackfocus render --rgb c.png --depth d.exr --focus-at 0.5,0.4 -o out.png # focus picked there
    rackfocus render --rgb c.png --depth d.exr --rack 1:4 --duration 2 -o rack.mp4
    rackfocus render --rgb rgb_%04d.png --depth depth_%04d.png --depth-scale 0.001 \\
        --focus 1.5 -o frames/out_%04d.exr --frames 0-99 --resume
    rackfocus render --cues show.toml

A single image with a still RGB-D pair and no clip options is the original
still-image command, unchanged. Everything else is a clip of N frames, frame k
at t = k / fps (see realtime.batch):

    N       --duration S: round(S * fps); else the cue file's duration; else the
            inputs' length (sequences, videos). Inputs shorter than N stop the clip
            at their end (with a warning) unless --loop.
    focus   --rack FROM:TO: a rack over the whole clip, FROM at frame 0 and TO at
            frame N - 1 exactly (the rack lasts (N - 1) / fps), eased by --easing
            and interpolated in dioptres; --focus D: a fixed focus; --cues: the
            file's keys (pixel/auto keys picked on the first frame's depth).
    fps     --fps (a number or a ratio, 24000/1001); else the cue file's; else the
            colour video's; else 24.

With --cues, inputs, lens, focus keys and output settings come from the file;
--rgb, --depth, --focus, --rack, --easing and the depth-convention options are
refused, and --fps, --duration, --size, --codec, --quality and -o override the
file's [output].
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from realtime.clip import SIGTERM_EXIT, Terminated, open_clip, require_inputs, stop_on_sigterm
from realtime.errors import InputError
from realtime.options import (
    FOCUS_AT_HELP,
    add_farm_arguments,
    add_lens_arguments,
    add_tiling_arguments,
    focus_target_from_args,
    lens_from_args,
    tile_options_from_args,
)
from realtime.sources.limits import limit_input_memory
from realtime.sources.options import add_input_arguments

if TYPE_CHECKING:
    pass

CLIP_OPTIONS = (  # options that make a render a clip (the still-image path takes none)
    "cues",
    "rack",
    "duration",
    "fps",
    "easing",
    "breathing",
    "loop",
    "size",
    "codec",
    "quality",
    "frames",
    "resume",
    "progress",
    "stats",
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "render",
        help="render an RGB-D image or clip (rack focus, sequences, video) with depth of field",
    )
    add_input_arguments(parser)
    add_lens_arguments(parser)
    parser.add_argument("--focus-at", metavar="X,Y", help=FOCUS_AT_HELP)
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output .png (8-bit sRGB), .exr/.tif/.npy (float, linear); a numbered pattern "
        "such as frames/out_%%04d.png for a clip; or a video .mp4 (H.264), .mov (ProRes), "
        ".mkv (lossless FFV1)",
    )
    clip = parser.add_argument_group("clips (rack focus, image sequences, video)")
    add = clip.add_argument
    add("--cues", metavar="TOML", help="shot description: inputs, lens, focus keys, output")
    add("--rack", metavar="FROM:TO", help="rack focus from FROM to TO metres over the clip")
    add("--duration", metavar="S", help="clip length in seconds")
    add("--fps", metavar="F", help="frames per second (default 24, or the video's; 24000/1001)")
    add("--easing", metavar="NAME", help="easing of the rack (default smoothstep)")
    add(
        "--breathing",
        metavar="AMOUNT",
        help="focus breathing: magnify by 1 + AMOUNT f / (focus - f) (1 = a unit-focusing "
        "lens; default 0, off)",
    )
    add(
        "--loop",
        action="store_true",
        help="loop sequence/video inputs shorter than the clip (default: stop at their end)",
    )
    add("--size", metavar="WxH", help="resample the inputs to this size")
    out = parser.add_argument_group("clip output")
    add = out.add_argument
    add("--codec", metavar="NAME", help="video codec: h264 (.mp4), prores (.mov), lossless (.mkv)")
    add("--quality", metavar="Q", help="H.264 quality 0..10 (default 8, about CRF 17)")
    add("--frames", metavar="A-B", help="render only frames A..B (inclusive, 0-based)")
    add("--resume", action="store_true", help="skip frames whose files already exist")
    add("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    add("--stats", action="store_true", help="print the time spent per stage (GPU, readback, ...)")
    add_tiling_arguments(parser)
    add_farm_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.ray is not None:
        from realtime.farm import run_farm  # Ray is imported only when asked for

        return run_farm(args)
    if args.chunk_frames is not None:
        raise InputError("--chunk-frames applies to --ray")
    limit_input_memory(tile_options_from_args(args).memory_bytes)  # before any file is read
    if _is_still_render(args):
        return _run_still(args)
    return _run_clip(args)


def _run_still(args: argparse.Namespace) -> int:
    """The original still-image render: one image pair, one focus, one image (in tiles
    when it is past the GPU's limits, realtime.tiling)."""
    import numpy as np

    from realtime.focus import FAR_FOCUS_M, resolve_target
    from realtime.frameloop import FileSink, FrameLoop, StillFrames
    from realtime.outputs import ImageWriter
    from realtime.outputs.images import write_image
    from realtime.pipeline import Compositor, read_rgb
    from realtime.sources.depth import depth_at_color_size
    from realtime.sources.options import (
        convention_from_args,
        inputs_from_args,
        load_inputs,
        load_photo,
        upsample_mode,
    )
    from realtime.tiling import TiledComposite

    require_inputs(args, photo_depth=True)
    condition = inputs_from_args(args).condition_depth  # --condition-depth on|off, checked
    if args.output is None:
        raise InputError("-o OUT is required")
    target = focus_target_from_args(args)  # picked from the depth once it is read
    lens = lens_from_args(args, FAR_FOCUS_M if target is not None else None)  # checked early
    tiles = tile_options_from_args(args)
    writer = ImageWriter(args.output)
    if args.depth is None:  # a photo that carries its depth, and its lens's EXIF
        if convention_from_args(args).kind != "metric":
            raise InputError(
                "the depth-convention options apply to --depth; a photo's own "
                "depth states its convention"
            )
        photo, depth = load_photo(args.rgb, args.resize_depth, upsample_mode(args))
        color = photo.color
        lens = lens_from_args(args, lens.focus_m, photo=photo.lens)
    else:
        color, depth = load_inputs(args, keep_integers=True)  # sRGB samples: decoded by the loop
    if target is not None:  # picked where the colour's pixel is, on the depth at its size
        lens = lens.with_focus(resolve_target(target, depth_at_color_size(depth, color)))
    comp = Compositor()
    frames = StillFrames(color, depth)
    loop = FrameLoop(comp, frames, condition_depth=condition, tiling=tiles.resolve(comp.ctx))
    composite = loop.compose_frame(0, lens)
    if isinstance(composite, TiledComposite):
        FileSink(writer, loop.times).write(0, composite, lens)
        return 0
    out = read_rgb(composite)
    if not np.isfinite(out).all():
        raise RuntimeError("the compositor produced non-finite pixels")
    write_image(args.output, out)
    return 0


def _is_still_render(args: argparse.Namespace) -> bool:
    """No clip option, a single-image output and still inputs: the original command."""
    from realtime.outputs import is_pattern, is_video
    from realtime.sources.frames import are_stills

    if any(getattr(args, name) not in (None, False) for name in CLIP_OPTIONS):
        return False
    if args.source is not None:
        return False  # sensors and video pairs are clips
    if args.output is not None:
        try:
            if is_video(args.output) or is_pattern(args.output):
                return False
        except InputError:
            return True  # the still path reports it
    return are_stills(args.rgb, args.depth)


def _run_clip(args: argparse.Namespace) -> int:
    """Render a clip (or a single frame of one) through realtime.batch."""
    from realtime.batch import Progress, render_frames
    from realtime.pipeline import Compositor

    with open_clip(args) as clip:
        progress = Progress(len(clip.frames), sys.stderr, args.progress or sys.stderr.isatty())
        try:
            with stop_on_sigterm():
                stats = render_frames(
                    clip.shot,
                    clip.writer,
                    clip.frames,
                    Compositor(),
                    args.resume,
                    progress,
                    clip.tiles,
                )
        except Terminated:
            sys.stderr.write("rackfocus: terminated\n")
            return SIGTERM_EXIT
    if args.stats:
        print(stats.report(clip.writer.describe))
    return 0
