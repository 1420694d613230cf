"""`rackfocus show`'s command line, checked into one frozen `ShowOptions`.

    rackfocus show --config show.toml [--windowed] [--osc-port N] [--web PORT] [--log FILE]
    rackfocus show --rgb PATH --depth PATH [depth and lens options] [--windowed] ...

Every option is checked here, before any file is read or window opened; a
mistake is one line and exit code 2. Options given on the command line
override the config's [show] table; the lens options are the base the config's
[lens] table changes key by key.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from pathlib import Path

from realtime.errors import InputError
from realtime.focus import FAR_FOCUS_M
from realtime.lens import Lens
from realtime.options import (
    add_lens_arguments,
    add_sink_arguments,
    add_web_arguments,
    lens_from_args,
    parse_fps,
    parse_size,
    sinks_from_args,
    web_from_args,
)
from realtime.show.config import DEFAULT_PLAYLIST, PORT_RANGE, ShowConfig, ShowSettings, SourceSpec
from realtime.sources.depth import DepthConvention
from realtime.sources.frames import input_kind
from realtime.sources.options import add_input_arguments, inputs_from_args

SOAK_DT_S = 1.0 / 30.0  # show time per frame of a soak (unless --fixed-dt)
COMMAND_LINE_SOURCE = "main"  # the name of the source --rgb and --depth describe

EPILOG = """\
A fullscreen installation that racks focus by itself (a looping playlist from
--config), obeys OSC show control (--osc-port) and a phone's browser (--web),
sends its picture on as NDI (--ndi) or a network stream (--stream),
reloads its config when the file changes, logs to --log (rotating) and notifies
systemd's watchdog. See examples/show.toml and examples/rackfocus-show.service,
and the README's OSC table and web remote."""


@dataclass(frozen=True)
class ShowOptions:
    """What the command line asks of a show; every value checked."""

    config: Path | None  # the show config; None: --rgb/--depth and the default playlist
    rgb: str | None  # without a config: the colour input
    depth: str | None  # and the depth input
    convention: DepthConvention  # how stored depth becomes metres
    resize_depth: bool  # resample depth to the colour's size when they differ
    fps: float | None  # input frame rate of sequences and videos
    lens: Lens  # the base lens; focus_m is a placeholder when `focus_m` is None
    focus_m: float | None  # --focus
    overrides: tuple[tuple[str, object], ...] = ()  # ShowSettings fields set on the command line
    frames: int | None = None  # scripted: present this many frames, then exit
    fixed_dt: float | None = None  # scripted: seconds of show time per frame
    screenshot: Path | None = None  # scripted: save the last frame here (PNG)
    soak: int | None = None  # soak: present this many frames, then report
    source: str | None = None  # --source: a camera, recording or synthetic scene
    sensor_noise: str | None = None  # --sensor-noise
    condition_depth: bool = False  # --condition-depth (on by default for sensors)

    def settings(self, base: ShowSettings) -> ShowSettings:
        """The config's [show] settings under the command line's."""
        return replace(base, **dict(self.overrides))  # type: ignore[arg-type]

    def command_line_config(self) -> ShowConfig:
        """The show --rgb and --depth (or --source) describe: one source, the default
        playlist."""
        if self.source is not None:
            spec = SourceSpec(
                COMMAND_LINE_SOURCE,
                "",
                "",
                fps=self.fps,
                source=self.source,
                sensor_noise=self.sensor_noise,
                condition_depth=self.condition_depth,
            )
            return ShowConfig(
                None, ShowSettings(), self.lens, self.focus_m, (spec,), DEFAULT_PLAYLIST
            )
        assert self.rgb is not None and self.depth is not None
        for path in (self.rgb, self.depth):
            input_kind(path)  # a missing input is one line now, not a failed source later
        spec = SourceSpec(
            COMMAND_LINE_SOURCE,
            self.rgb,
            self.depth,
            self.convention,
            self.fps,
            None,
            self.resize_depth,
            condition_depth=self.condition_depth,
        )
        return ShowConfig(None, ShowSettings(), self.lens, self.focus_m, (spec,), DEFAULT_PLAYLIST)


def add_show_arguments(parser: argparse.ArgumentParser) -> None:
    """The show's options: config or inputs, lens, output, OSC, scripted runs."""
    parser.add_argument("--config", metavar="FILE", help="show config (TOML): sources, playlist")
    add_input_arguments(parser)
    for action in parser._actions:  # with --config the inputs come from its [[source]] tables
        if action.dest in ("rgb", "depth"):
            action.required = False
    add_lens_arguments(parser)
    group = parser.add_argument_group("show")
    add = group.add_argument
    add("--windowed", action="store_true", help="a window instead of fullscreen (rehearsal)")
    add("--monitor", metavar="N|NAME", help="fullscreen on this monitor (index or name)")
    add("--window-size", metavar="WxH", help="window size (default: the source's, fit)")
    add("--no-vsync", action="store_true", help="do not wait for the display's refresh")
    add(
        "--target-fps",
        type=float,
        metavar="F",
        help="while focus or the picture moves, render at a lower resolution to hold F frames "
        "per second (default 30; 0: always full resolution; --fixed-dt runs: 0)",
    )
    add(
        "--max-fps",
        type=float,
        metavar="F",
        help="frame-rate cap (default: none when vsync paces the monitor, else 60)",
    )
    add("--osc-port", type=int, metavar="N", help="listen for OSC on UDP port N (0: any)")
    add("--osc-host", metavar="ADDR", help="listen on this address (default 0.0.0.0)")
    add("--osc-reply-port", type=int, metavar="N", help="send /status replies to port N")
    add_web_arguments(group)
    add_sink_arguments(group)
    add("--rack-duration", type=float, metavar="S", help="seconds of an OSC /focus/pick rack")
    add("--fps", metavar="F", help="input frames per second of --rgb/--depth sequences")
    add("--log", metavar="FILE", help="also log to FILE (rotating)")
    script = parser.add_argument_group("scripted runs (tests, benchmarks)")
    add = script.add_argument
    add("--frames", type=int, metavar="N", help="present N frames, then exit")
    add("--fixed-dt", type=float, metavar="S", help="advance show time S seconds per frame")
    add("--screenshot", metavar="PNG", help="save the last frame presented (8-bit sRGB PNG)")
    add(
        "--soak",
        type=int,
        metavar="FRAMES",
        help="present FRAMES frames as fast as possible, then report memory, GL objects "
        "and frame times",
    )


def _port(value: int | None, option: str, low: int) -> int | None:
    if value is not None and not low <= value <= PORT_RANGE[1]:
        raise InputError(f"{option} {value}: must be a UDP port, {low}..{PORT_RANGE[1]}")
    return value


def _positive(value: float | None, option: str, zero: bool = False) -> float | None:
    if value is not None and not (math.isfinite(value) and (value >= 0 if zero else value > 0)):
        raise InputError(f"{option} {value}: must be a {'' if zero else 'positive '}number")
    return value


def options_from_args(args: argparse.Namespace) -> ShowOptions:
    """The checked options; InputError (one line) on the first bad one."""
    inputs = inputs_from_args(args)
    given = args.rgb is not None or args.depth is not None or args.source is not None
    if args.config is not None and given:
        raise InputError("give --config FILE or --rgb and --depth (or --source), not both")
    if (
        args.config is None
        and inputs.source is None
        and (inputs.rgb is None or inputs.depth is None)
    ):
        raise InputError("--config FILE, or --rgb PATH and --depth PATH (or --source), is required")
    for option, value in (("--frames", args.frames), ("--soak", args.soak)):
        if value is not None and value < 1:
            raise InputError(f"{option} {value}: must be at least 1")
    if args.frames is not None and args.soak is not None:
        raise InputError("--frames and --soak: give one")
    _positive(args.fixed_dt, "--fixed-dt")
    screenshot = Path(args.screenshot) if args.screenshot else None
    if screenshot is not None and screenshot.suffix.lower() != ".png":
        raise InputError(f"--screenshot {args.screenshot}: must be a .png file")
    for option, path in (("--screenshot", screenshot), ("--log", args.log)):
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise InputError(f"{option} {path}: folder does not exist")
    ndi, stream = sinks_from_args(args)
    web_port, web_host, web_token = web_from_args(args)
    overrides: dict[str, object] = {}
    if args.windowed:
        overrides["windowed"] = True
    if args.monitor is not None:
        overrides["monitor"] = int(args.monitor) if args.monitor.isdigit() else args.monitor
    if args.window_size is not None:
        overrides["window_size"] = parse_size(args.window_size, "--window-size")
    if args.no_vsync:
        overrides["vsync"] = False
    for key, value in (
        ("max_fps", _positive(args.max_fps, "--max-fps")),
        ("target_fps", _positive(args.target_fps, "--target-fps", zero=True)),
        ("osc_port", _port(args.osc_port, "--osc-port", 0)),
        ("osc_host", args.osc_host),
        ("osc_reply_port", _port(args.osc_reply_port, "--osc-reply-port", PORT_RANGE[0])),
        ("web_port", web_port),
        ("web_host", web_host),
        ("web_token", web_token),
        ("ndi", ndi),
        ("stream", stream),
        ("rack_duration_s", _positive(args.rack_duration, "--rack-duration", zero=True)),
        ("log", Path(args.log) if args.log else None),
    ):
        if value is not None:
            overrides[key] = value
    placeholder = args.focus if args.focus is not None else FAR_FOCUS_M  # focus may come later
    return ShowOptions(
        config=Path(args.config) if args.config else None,
        rgb=None if inputs.rgb is None else str(inputs.rgb),
        depth=None if inputs.depth is None else str(inputs.depth),
        convention=inputs.convention,
        resize_depth=inputs.resize_depth,
        source=inputs.source.text if inputs.source is not None else None,
        sensor_noise=inputs.sensor_noise,
        condition_depth=inputs.condition_depth,
        fps=parse_fps(args.fps) if args.fps is not None else None,
        lens=lens_from_args(args, focus_m=placeholder),  # checks the lens options early
        focus_m=args.focus,
        overrides=tuple(overrides.items()),
        frames=args.frames,
        fixed_dt=args.fixed_dt,
        screenshot=screenshot,
        soak=args.soak,
    )


def load(options: ShowOptions) -> ShowConfig:
    """The show the options describe: the config file, or --rgb and --depth."""
    if options.config is None:
        return options.command_line_config()
    from realtime.show.config import load_config

    return load_config(options.config, options.lens)


__all__ = [
    "COMMAND_LINE_SOURCE",
    "EPILOG",
    "SOAK_DT_S",
    "ShowOptions",
    "add_show_arguments",
    "load",
    "options_from_args",
]
