"""`rackfocus preview`'s command line: the options, checked into one frozen `PreviewOptions`.

Every option is checked here, before any file is read or window opened, so a
mistake costs nothing and reads as one line. The app takes the options object,
never the argparse namespace.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

from realtime.errors import InputError
from realtime.focus import DEFAULT_EASING, EASINGS, FAR_FOCUS_M, FocusTarget, easing
from realtime.lens import Lens
from realtime.options import (
    DEFAULT_WEB_HOST,
    FOCUS_AT_HELP,
    add_lens_arguments,
    add_sink_arguments,
    add_web_arguments,
    focus_target_from_args,
    lens_from_args,
    parse_fps,
    parse_size,
    sinks_from_args,
    web_from_args,
)
from realtime.preview.controls import DEFAULT_RACK_S, VIEWS
from realtime.preview.scaling import DEFAULT_TARGET_FPS
from realtime.preview.script import ScriptEvent, parse_script
from realtime.sources.options import Inputs, add_input_arguments, inputs_from_args

HELP = """\
rackfocus preview
  click         rack focus to the clicked point
  scroll        f-number in 1/3 stops (up: wider aperture, more blur;
                with --blur: blur at infinity)
  B             aperture blades: circular, 5, 6, 8
  D             debug view: off, depth, signed CoC, focus peaking, before/after
                (the split follows the mouse)
  I             HUD in the window title: focus, f-number, fps, frame time
  space         play / pause the --cues timeline and sequence / video inputs
  F             fullscreen on --monitor N (again: back to a window)
  S             save the composite at full size (PNG) and the state (cue TOML)
  H             this help
  Esc, Q        quit"""


@dataclass(frozen=True)
class PreviewOptions:
    """What a preview session shows and how; every value checked."""

    inputs: Inputs  # files (image, sequence, video) or a --source (camera, recording, scene)
    lens: Lens  # the lens options; focus_m is a placeholder when `focus_m` is None
    focus_m: float | None  # --focus; None: focus_target, else the cue file's first key, else
    # centre autofocus
    focus_target: FocusTarget | None = None  # --focus-at, --focus auto: picked on frame one
    rack_duration_s: float = DEFAULT_RACK_S  # how long a click-to-focus rack takes
    easing: str = DEFAULT_EASING  # easing of such a rack
    cues: str | None = None  # cue file whose focus keys space plays
    play: bool = False  # start playing the cue timeline at once
    view: str = "off"  # debug view to start in
    fullscreen: bool = False  # open fullscreen on `monitor`
    monitor: int = 0  # monitor index for fullscreen
    window_size: tuple[int, int] | None = None  # None: the image's size, fit to the screen
    vsync: bool = True  # wait for the display's refresh
    target_fps: float = DEFAULT_TARGET_FPS  # adaptive resolution's goal while moving; 0 = off
    fps: float | None = None  # input frame rate of sequences and videos; None: video's, else 24
    size: tuple[int, int] | None = None  # a --source's frame size (synthetic render, camera)
    as_live: bool = False  # play a --source clip as a live source (capture thread)
    save_dir: Path = Path(".")  # where S saves
    frames: int | None = None  # scripted: draw this many frames, then exit
    fixed_dt: float | None = None  # scripted: seconds of preview time per frame
    screenshot: Path | None = None  # scripted: save the last frame here (PNG)
    script: tuple[ScriptEvent, ...] = ()  # scripted input events
    print_focus: bool = False  # print the final focus distance (m) at exit
    stats: bool = False  # print frames, frame rate and renderer at exit
    ndi: str | None = None  # NDI source name the presented frames go out as; None: no NDI
    stream: str | None = None  # udp:// or srt:// URL of an H.264 MPEG-TS stream; None: none
    web_port: int | None = None  # TCP port of the web remote (realtime.preview.remote); 0: any
    web_host: str = DEFAULT_WEB_HOST  # address the web remote listens on
    web_token: str | None = None  # the web remote's token; None: a new one each start

    @property
    def label(self) -> str:
        """The input's name for the window title: the colour file or the --source."""
        source = self.inputs.source
        return source.text if source is not None else Path(str(self.inputs.rgb)).name


def add_preview_arguments(parser: argparse.ArgumentParser) -> None:
    """The preview's options: inputs, lens, window and scripted runs."""
    add_input_arguments(parser)
    add_lens_arguments(parser)
    group = parser.add_argument_group("preview")
    add = group.add_argument
    add("--focus-at", metavar="X,Y", help=FOCUS_AT_HELP + " (the first frame's focus)")
    add(
        "--rack-duration",
        type=float,
        default=DEFAULT_RACK_S,
        metavar="S",
        help=f"seconds a click-to-focus rack takes (default {DEFAULT_RACK_S})",
    )
    add(
        "--easing",
        default=DEFAULT_EASING,
        metavar="NAME",
        help=f"easing of a rack: {', '.join(EASINGS)} (default {DEFAULT_EASING})",
    )
    add("--cues", metavar="FILE", help="cue file (TOML) whose focus keys space plays")
    add("--play", action="store_true", help="start playing the --cues timeline at once")
    add("--view", default="off", metavar="VIEW", help="debug view to start in (see D)")
    add("--fullscreen", action="store_true", help="open fullscreen on --monitor")
    add("--monitor", type=int, default=0, metavar="N", help="monitor for fullscreen (default 0)")
    add("--window-size", metavar="WxH", help="window size (default: the image's, fit to screen)")
    add("--no-vsync", action="store_true", help="do not wait for the display's refresh")
    add_sink_arguments(group)
    add_web_arguments(group)
    add(
        "--target-fps",
        type=float,
        metavar="F",
        help="while focus or the picture moves, render at a lower resolution to hold F frames "
        f"per second (default {DEFAULT_TARGET_FPS:g}; 0 = always full resolution; "
        "scripted --fixed-dt runs default to 0, so they stay deterministic)",
    )
    add(
        "--fps",
        metavar="F",
        help="input frames per second of sequences and videos (default: the video's, "
        "else 24; a ratio such as 24000/1001)",
    )
    add("--save-dir", default=".", metavar="DIR", help="where S saves (default: current folder)")
    add(
        "--size",
        metavar="WxH",
        help="frame size of a --source: a synthetic scene's render size, a camera's stream size",
    )
    add(
        "--as-live",
        action="store_true",
        help="play a --source clip in real time from a capture thread, as a camera would "
        "(newest frame only; for demos and tests of the live path)",
    )
    script = parser.add_argument_group("scripted runs (tests, benchmarks)")
    add = script.add_argument
    add("--frames", type=int, metavar="N", help="draw N frames (every frame), then exit")
    add("--fixed-dt", type=float, metavar="S", help="advance time S seconds per frame")
    add("--screenshot", metavar="PNG", help="save the window's last frame (8-bit sRGB PNG)")
    add("--click", action="append", default=[], metavar="X,Y@T", help="click image pixel at T s")
    add("--key", action="append", default=[], metavar="K@T", help="press key K at T s")
    add("--scroll", action="append", default=[], metavar="N@T", help="scroll N notches at T s")
    add("--resize", action="append", default=[], metavar="WxH@T", help="resize window at T s")
    add("--close-at", type=float, metavar="T", help="close the window at T s")
    add("--print-focus", action="store_true", help="print the final focus distance (m)")
    add("--stats", action="store_true", help="print frames, frame rate and renderer at exit")


def options_from_args(args: argparse.Namespace) -> PreviewOptions:
    """The checked options; InputError (one line) on the first bad one."""
    if args.frames is not None and args.frames < 1:
        raise InputError(f"--frames {args.frames}: must be at least 1")
    if args.fixed_dt is not None and not (math.isfinite(args.fixed_dt) and args.fixed_dt > 0):
        raise InputError(f"--fixed-dt {args.fixed_dt}: must be a positive number of seconds")
    screenshot = Path(args.screenshot) if args.screenshot else None
    if screenshot is not None and screenshot.suffix.lower() != ".png":
        raise InputError(f"--screenshot {args.screenshot}: must be a .png file")
    if screenshot is not None and not screenshot.resolve().parent.is_dir():
        raise InputError(f"--screenshot {args.screenshot}: folder does not exist")
    if not Path(args.save_dir).is_dir():
        raise InputError(f"--save-dir {args.save_dir}: not a folder")
    if args.play and not args.cues:
        raise InputError("--play needs --cues FILE")
    window_size = parse_size(args.window_size, "--window-size") if args.window_size else None
    fps = parse_fps(args.fps) if args.fps is not None else None
    script = parse_script(args.click, args.key, args.scroll, args.resize, args.close_at)
    rack_s = args.rack_duration
    if not (math.isfinite(rack_s) and rack_s > 0):
        raise InputError(f"--rack-duration must be a positive number, got {rack_s}")
    easing(args.easing)
    if args.view not in VIEWS:
        raise InputError(f"--view {args.view}: unknown view (expected {', '.join(VIEWS)})")
    inputs = inputs_from_args(args)
    if inputs.source is None and (inputs.rgb is None or inputs.depth is None):
        raise InputError("--rgb PATH and --depth PATH are required (or --source SPEC)")
    target_fps = args.target_fps
    if target_fps is None:
        target_fps = DEFAULT_TARGET_FPS if args.fixed_dt is None else 0.0
    if not (math.isfinite(target_fps) and target_fps >= 0):
        raise InputError(f"--target-fps {args.target_fps}: must be a number >= 0")
    size = parse_size(args.size) if args.size is not None else None
    if size is not None and (inputs.source is None or inputs.source.kind == "recording"):
        raise InputError("--size applies to --source synthetic:NAME and realsense cameras")
    if args.as_live and (inputs.source is None or inputs.source.live):
        raise InputError("--as-live plays a --source clip (synthetic:, realsense:REC) as a camera")
    ndi, stream = sinks_from_args(args)
    web_port, web_host, web_token = web_from_args(args)
    if web_port is None and (web_host is not None or web_token is not None):
        raise InputError("--web-host and --web-token need --web PORT")
    target = focus_target_from_args(args)
    focus_m = args.focus if target is None else None
    placeholder = focus_m if focus_m is not None else FAR_FOCUS_M  # focus may come later
    return PreviewOptions(
        inputs=inputs,
        lens=lens_from_args(args, focus_m=placeholder),  # checks the lens options early
        focus_m=focus_m,
        focus_target=target,
        rack_duration_s=rack_s,
        easing=args.easing,
        cues=args.cues,
        play=args.play,
        view=args.view,
        fullscreen=args.fullscreen,
        monitor=args.monitor,
        window_size=window_size,
        vsync=not args.no_vsync,
        target_fps=target_fps,
        fps=fps,
        size=size,
        as_live=args.as_live,
        save_dir=Path(args.save_dir),
        frames=args.frames,
        fixed_dt=args.fixed_dt,
        screenshot=screenshot,
        script=script,
        print_focus=args.print_focus,
        stats=args.stats,
        ndi=ndi,
        stream=stream,
        web_port=web_port,
        web_host=web_host or DEFAULT_WEB_HOST,
        web_token=web_token,
    )
