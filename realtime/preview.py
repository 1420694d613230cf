"""`rackfocus preview`: a live window onto the compositor; click to rack focus.

The window (glfw, OpenGL 3.3 core, vsync) shows the same `Compositor` passes an
offscreen render runs, drawn by the `Display` pass (sRGB, flipped, letterboxed).
The passes run only when the lens or the input frame changes (a rack or cue in
motion, a new f-number or aperture, the next frame of a sequence or video);
otherwise the window just redraws the last composite, and an idle interactive
window sleeps until the next event.

--rgb and --depth may name image sequences (rgb_%04d.png, rgb_*.png) or videos, read
by the batch renderer's frame sources (realtime.sources.frames). They play in a loop,
one input frame per 1/fps of preview time (fps: --fps, else the video's, else 24);
space pauses them, together with any --cues timeline.

Three layers, arrows pointing one way:
  `Controls`  focus, lens and view state as a pure function of input and time (no GL);
  `Playback`  which input frame of a sequence or video shows at a time (no GL);
  `Window`    the glfw window; its callbacks only queue events;
  `Preview`   the frame loop: events -> Controls -> Compositor -> Display -> swap.

Scripted runs (`--frames`, `--fixed-dt`, `--click X,Y@T`, `--key K@T`, ...) feed
the same event handlers as the mouse and keyboard, so tests drive the real code.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime.errors import InputError
from realtime.focus import (
    DEFAULT_EASING,
    EASINGS,
    FAR_FOCUS_M,
    FocusKey,
    FocusTrack,
    easing,
    rack,
)
from realtime.lens import MM_PER_M, Lens
from realtime.options import add_lens_arguments, lens_from_args, parse_size
from realtime.sources.options import add_input_arguments

if TYPE_CHECKING:  # GL and numpy load only when the preview runs (keeps `--help` fast)
    import moderngl
    import numpy as np

    from realtime.cues import Cues
    from realtime.sources.frames import RGBDFrames

DEFAULT_RACK_S = 0.6  # duration of a click-to-focus rack, seconds
BLADE_CYCLE = (0, 5, 6, 8)  # aperture blades the B key cycles through (0 = circular)
STEPS_PER_STOP = 3  # scroll notches per f-stop (one stop = a factor sqrt(2) in N)
F_NUMBER_RANGE = (0.7, 64.0)  # scrolling stops at these f-numbers
MIN_FOCUS_OVER_F = 1.01  # a rack never targets closer than this many focal lengths
HUD_INTERVAL_S = 0.25  # the window title (HUD) is refreshed at most this often
FPS_WINDOW_S = 1.0  # the HUD's frame rate is averaged over this much recent time
STATS_FRAMES = 1000  # --stats: the median frame time is over at most this many recent frames
IDLE_WAIT_S = 0.25  # an idle window blocks for events at most this long
MIN_WAIT_S = 1e-3  # the shortest wait for a scripted event or the next input frame
FRAME_EPSILON = 1e-9  # input frames: floor(t * fps + this), so t = k / fps shows frame k
SCREEN_FIT = 0.9  # a window opens at most this fraction of the monitor's size
KEY_NAMES = ("b", "d", "i", "space", "f", "s", "h", "q", "escape")  # keys --key can press
TITLE = "rackfocus"

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
  S             save the composite (PNG) and the current state (cue TOML)
  H             this help
  Esc, Q        quit"""


# --- Command line ---------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "preview",
        help="live window: click to rack focus",
        description="A live depth-of-field window onto an RGB-D image.",
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(parser)
    add_lens_arguments(parser)
    group = parser.add_argument_group("preview")
    add = group.add_argument
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
    add(
        "--fps",
        metavar="F",
        help="input frames per second of sequences and videos (default: the video's, "
        "else 24; a ratio such as 24000/1001)",
    )
    add("--save-dir", default=".", metavar="DIR", help="where S saves (default: current folder)")
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
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class ScriptEvent:
    """An input injected at a time on the preview's clock."""

    time_s: float  # when, seconds after the first frame
    kind: str  # "click" (image pixel), "key", "scroll", "resize" or "close"
    value: Any = None  # (x, y), key name, notches, (w, h) or None


def _split_time(text: str, option: str, example: str) -> tuple[str, float]:
    head, sep, tail = text.rpartition("@")
    try:
        t = float(tail)
    except ValueError:
        t = math.nan
    if not sep or not head or not (math.isfinite(t) and t >= 0):
        raise InputError(f"{option} {text}: expected {example}")
    return head, t


def _ints(text: str, sep: str, count: int) -> tuple[int, ...] | None:
    parts = text.lower().split(sep)
    if len(parts) != count or not all(p.strip().isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def parse_script(args: argparse.Namespace) -> list[ScriptEvent]:
    """The scripted events the options describe, in time order (stable for equal times)."""
    events: list[ScriptEvent] = []
    for text in args.click:
        head, t = _split_time(text, "--click", "X,Y@SECONDS (image pixel), e.g. 80,60@0.1")
        xy = _ints(head, ",", 2)
        if xy is None:
            raise InputError(f"--click {text}: expected X,Y@SECONDS (image pixel), e.g. 80,60@0.1")
        events.append(ScriptEvent(t, "click", xy))
    for text in args.key:
        head, t = _split_time(text, "--key", "KEY@SECONDS, e.g. d@0.5")
        if head.lower() not in KEY_NAMES:
            raise InputError(
                f"--key {text}: unknown key {head!r} (expected {', '.join(KEY_NAMES)})"
            )
        events.append(ScriptEvent(t, "key", head.lower()))
    for text in args.scroll:
        head, t = _split_time(text, "--scroll", "NOTCHES@SECONDS, e.g. -2@0.5")
        try:
            notches = int(head)
        except ValueError:
            raise InputError(f"--scroll {text}: expected NOTCHES@SECONDS, e.g. -2@0.5") from None
        events.append(ScriptEvent(t, "scroll", notches))
    for text in args.resize:
        head, t = _split_time(text, "--resize", "WxH@SECONDS, e.g. 320x240@0.5")
        events.append(ScriptEvent(t, "resize", parse_size(head, "--resize")))
    if args.close_at is not None:
        if not (math.isfinite(args.close_at) and args.close_at >= 0):
            raise InputError(f"--close-at {args.close_at}: expected seconds >= 0")
        events.append(ScriptEvent(args.close_at, "close"))
    return sorted(events, key=lambda e: e.time_s)


# --- State: pure functions of input and time ------------------------------------------------


def hold(focus_m: float, t: float = 0.0) -> FocusTrack:
    """A track that holds one focus distance at all times."""
    return FocusTrack((FocusKey(t, focus_m),))


def step_f_number(f_number: float, notches: int) -> float:
    """`f_number` moved by `notches` third stops on the series 2^(k/6), within F_NUMBER_RANGE.

    The current value is first snapped to the nearest third stop, so scrolling
    from any f-number lands on the standard series (2, 2.2, 2.5, 2.8, 3.2, ...).
    """
    per_notch = 2 * STEPS_PER_STOP  # N = 2^(k / 6): a stop is sqrt(2), a third of it 2^(1/6)
    lo, hi = (round(per_notch * math.log2(v)) for v in F_NUMBER_RANGE)
    k = round(per_notch * math.log2(f_number)) + notches
    return float(2.0 ** (min(max(k, lo), hi) / per_notch))


def f_number_label(f_number: float) -> str:
    """How a lens barrel prints an f-number: two significant digits (f/2.8, f/11)."""
    return f"f/{f_number:.2g}" if f_number < 10 else f"f/{f_number:.0f}"


class Controls:
    """Focus, lens and view of the preview, driven by input events and time (no GL).

    The focus is a `FocusTrack` in preview time: a hold, or the rack a click
    started from wherever the focus was at that moment. A cue timeline, while it
    plays, replaces the track (and the f-number, where its keys set one).
    """

    def __init__(
        self,
        lens: Lens,
        depth_m: np.ndarray,
        rack_duration_s: float = DEFAULT_RACK_S,
        easing_name: str = DEFAULT_EASING,
        cues: FocusTrack | None = None,
        view: str = "off",
    ) -> None:
        from realtime.passes.display import SPLIT_DEFAULT, VIEWS

        if not (math.isfinite(rack_duration_s) and rack_duration_s > 0):
            raise InputError(f"--rack-duration must be a positive number, got {rack_duration_s}")
        easing(easing_name)
        if view not in VIEWS:
            raise InputError(f"--view {view}: unknown view (expected {', '.join(VIEWS)})")
        self.lens = lens  # the lens at rest; focus_m is replaced by the track's
        self.depth_m = depth_m
        self.rack_duration_s = rack_duration_s
        self.easing_name = easing_name
        self.track = hold(lens.focus_m)
        self.cues = cues
        self.cue_position_s = cues.start_s if cues is not None else 0.0  # where play resumes
        self.cue_origin_s: float | None = None  # preview time of cue time 0 while playing
        self.view = view
        self.split = SPLIT_DEFAULT  # before/after split, fraction of the image width
        self.hud = True

    # -- time --

    @property
    def playing(self) -> bool:
        return self.cue_origin_s is not None

    def update(self, t: float) -> None:
        """Advance to preview time t: a cue timeline that has reached its end stops there."""
        if self.cues is not None and self.cue_origin_s is not None:
            if t - self.cue_origin_s >= self.cues.end_s:
                self._stop_cues(t)

    def lens_at(self, t: float) -> Lens:
        """The lens (focus and f-number included) to render at preview time t."""
        if self.cues is not None and self.cue_origin_s is not None:
            return self.cues.lens_at(self.lens, t - self.cue_origin_s)
        return self.lens.with_focus(self.track.focus_at(t))

    def animating(self, t: float) -> bool:
        """Whether the lens will change without further input (a rack or cues in motion)."""
        return self.playing or t < self.track.end_s

    # -- input --

    def click(self, x: int, y: int, t: float) -> float:
        """Rack from the current focus to the depth at image pixel (x, y); returns the target."""
        from realtime.focus import pick_depth

        target = pick_depth(self.depth_m, x, y)
        target = max(target, MIN_FOCUS_OVER_F * self.lens.focal_length_mm / MM_PER_M)
        self.pause(t)
        start = self.track.focus_at(t)
        self.track = rack(start, target, self.rack_duration_s, self.easing_name, start_s=t)
        return target

    def scroll(self, notches: int, t: float) -> None:
        """Open (notches > 0) or close the aperture by third stops."""
        if notches == 0:
            return
        if self.lens.artistic_blur_px is not None:  # blur diameter goes as 1 / N
            blur = self.lens.artistic_blur_px * 2.0 ** (notches / (2 * STEPS_PER_STOP))
            self.lens = replace(self.lens, artistic_blur_px=blur)
        else:
            f_number = step_f_number(self.lens_at(t).f_number, -notches)
            self.lens = replace(self.lens, f_number=f_number)

    def cycle_blades(self) -> None:
        i = BLADE_CYCLE.index(self.lens.blades) + 1 if self.lens.blades in BLADE_CYCLE else 0
        self.lens = replace(self.lens, blades=BLADE_CYCLE[i % len(BLADE_CYCLE)])

    def cycle_view(self) -> None:
        from realtime.passes.display import VIEWS

        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]

    def toggle_play(self, t: float) -> bool:
        """Play or pause the cue timeline; False when there is none."""
        if self.cues is None:
            return False
        if self.playing:
            self.pause(t)
            return True
        if self.cue_position_s >= self.cues.end_s:
            self.cue_position_s = self.cues.start_s  # at the end: play again from the top
        self.cue_origin_s = t - self.cue_position_s
        return True

    def pause(self, t: float) -> None:
        """Stop the cue timeline where it is, keeping its focus and f-number."""
        if self.cue_origin_s is not None:
            self._stop_cues(t)

    def _stop_cues(self, t: float) -> None:
        assert self.cues is not None and self.cue_origin_s is not None
        position = min(t - self.cue_origin_s, self.cues.end_s)
        lens = self.cues.lens_at(self.lens, position)
        self.lens = lens
        self.track = hold(lens.focus_m, t)
        self.cue_position_s = position
        self.cue_origin_s = None


class Playback:
    """Which input frame of a sequence or video shows at preview time t (no GL).

    Frames advance one per 1/fps of preview time and loop: input time s shows
    frame floor(s * fps) mod frame_count. Playing, input time runs with preview
    time; paused, it stays where it stopped.
    """

    def __init__(self, frame_count: int, fps: float, playing: bool = True) -> None:
        if frame_count < 1:
            raise ValueError(f"frame_count must be at least 1, got {frame_count}")
        if not (math.isfinite(fps) and fps > 0):
            raise InputError(f"--fps {fps}: must be a positive number")
        self.frame_count = frame_count
        self.fps = fps
        self.position_s = 0.0  # input time where play resumes
        self.origin_s: float | None = 0.0 if playing else None  # preview time of input time 0

    @property
    def playing(self) -> bool:
        return self.origin_s is not None

    def position_at(self, t: float) -> float:
        """Input time (seconds from the first frame, not wrapped) at preview time t."""
        return self.position_s if self.origin_s is None else t - self.origin_s

    def _step(self, t: float) -> int:
        return math.floor(self.position_at(t) * self.fps + FRAME_EPSILON)

    def index_at(self, t: float) -> int:
        """The input frame (0-based) to show at preview time t."""
        return self._step(t) % self.frame_count

    def next_change_s(self, t: float) -> float:
        """Seconds from t until the next frame shows (inf while paused or for one frame)."""
        if self.origin_s is None or self.frame_count == 1:
            return math.inf
        return max((self._step(t) + 1) / self.fps - self.position_at(t), 0.0)

    def play(self, t: float) -> None:
        if self.origin_s is None:
            self.origin_s = t - self.position_s

    def pause(self, t: float) -> None:
        if self.origin_s is not None:
            self.position_s = t - self.origin_s
            self.origin_s = None


# --- Saving the state -----------------------------------------------------------------------


def state_cue_text(
    lens: Lens,
    args: argparse.Namespace,
    rgb: str | Path | None = None,
    depth: str | Path | None = None,
) -> str:
    """The cue file of `lens` on the inputs (rgb, depth replace --rgb, --depth where given)."""
    from realtime.cues import cue_text
    from realtime.sources.options import convention_from_args

    return cue_text(lens, rgb or args.rgb, depth or args.depth, convention_from_args(args))


def next_free_stem(folder: Path, prefix: str) -> Path:
    """folder/prefix-NNN, the first number for which neither .png nor .toml exists."""
    n = 1
    while True:
        stem = folder / f"{prefix}-{n:03d}"
        if not stem.with_suffix(".png").exists() and not stem.with_suffix(".toml").exists():
            return stem
        n += 1


# --- The window -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowEvent:
    """An input the window's callbacks queued for the frame loop."""

    kind: str  # "press" (cursor), "cursor", "key", "scroll", "redraw"
    value: Any = None  # (x, y) in window coordinates, key name, notches


class Window:
    """A glfw window with an OpenGL 3.3 core context; callbacks only queue events.

    Failing to initialise glfw (no display) is an InputError with one line.
    """

    def __init__(
        self,
        size: tuple[int, int],
        title: str,
        vsync: bool = True,
        monitor: int = 0,
        fullscreen: bool = False,
        fit_to_screen: bool = True,
    ) -> None:
        import glfw

        self.glfw = glfw
        self.errors: list[str] = []
        glfw.set_error_callback(self._on_error)
        if not glfw.init():
            message = self.errors[-1] if self.errors else "glfw.init failed"
            _default_error_callback(glfw)
            raise InputError(f"no display: run under xvfb-run or set DISPLAY ({message})")
        try:
            monitors = glfw.get_monitors() or []
            if not 0 <= monitor < max(len(monitors), 1):
                raise InputError(
                    f"--monitor {monitor}: {len(monitors)} monitor(s) connected "
                    f"(0..{len(monitors) - 1})"
                )
            self.monitor = monitors[monitor] if monitors else None
            mode = glfw.get_video_mode(self.monitor) if self.monitor is not None else None
            if fit_to_screen and mode is not None:
                size = fit(size, (mode.size.width, mode.size.height))
            glfw.default_window_hints()
            glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
            glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
            glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
            glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
            glfw.window_hint(glfw.AUTO_ICONIFY, False)
            on: Any = None
            width, height = size
            if fullscreen and self.monitor is not None and mode is not None:
                for hint, value in (
                    (glfw.RED_BITS, mode.bits.red),
                    (glfw.GREEN_BITS, mode.bits.green),
                    (glfw.BLUE_BITS, mode.bits.blue),
                    (glfw.REFRESH_RATE, mode.refresh_rate or glfw.DONT_CARE),
                ):
                    glfw.window_hint(hint, value)
                on = self.monitor
                width, height = mode.size.width, mode.size.height
            self.windowed = (0, 0, *size)  # position and size to restore from fullscreen
            self.handle = glfw.create_window(width, height, title, on, None)
            if not self.handle:
                message = self.errors[-1] if self.errors else "unknown reason"
                raise InputError(f"cannot open an OpenGL 3.3 core window ({message})")
            self.fullscreen = on is not None
            glfw.make_context_current(self.handle)
            glfw.swap_interval(1 if vsync else 0)
            if not self.fullscreen:
                self._match_framebuffer(size)
            glfw.set_mouse_button_callback(self.handle, self._on_mouse_button)
            glfw.set_cursor_pos_callback(self.handle, self._on_cursor)
            glfw.set_scroll_callback(self.handle, self._on_scroll)
            glfw.set_key_callback(self.handle, self._on_key)
            glfw.set_framebuffer_size_callback(self.handle, self._on_redraw)
            glfw.set_window_refresh_callback(self.handle, self._on_redraw)
        except BaseException:
            glfw.terminate()
            _default_error_callback(glfw)
            raise
        self.events: list[WindowEvent] = []
        self._scroll = 0.0  # fractional scroll (touchpads) not yet a whole notch

    def _match_framebuffer(self, size: tuple[int, int]) -> None:
        """On HiDPI displays shrink the window so the framebuffer has `size` pixels."""
        fw, fh = self.framebuffer_size
        ww, wh = self.window_size
        if (fw, fh) != (ww, wh) and min(fw, fh, ww, wh) > 0:
            self.glfw.set_window_size(
                self.handle, max(1, round(size[0] * ww / fw)), max(1, round(size[1] * wh / fh))
            )

    # -- callbacks: queue only --

    def _on_error(self, code: int, description: str | bytes) -> None:
        if isinstance(description, bytes):  # pyGLFW passes bytes; its stubs say str
            description = description.decode(errors="replace")
        self.errors.append(description)

    def _on_mouse_button(self, _window: Any, button: int, action: int, _mods: int) -> None:
        glfw = self.glfw
        if button == glfw.MOUSE_BUTTON_LEFT and action == glfw.PRESS:
            self.events.append(WindowEvent("press", glfw.get_cursor_pos(self.handle)))

    def _on_cursor(self, _window: Any, x: float, y: float) -> None:
        self.events.append(WindowEvent("cursor", (x, y)))

    def _on_scroll(self, _window: Any, _dx: float, dy: float) -> None:
        self._scroll += dy
        notches = int(self._scroll)  # towards zero: a partial notch waits for the rest
        if notches:
            self._scroll -= notches
            self.events.append(WindowEvent("scroll", notches))

    def _on_key(self, _window: Any, key: int, _scancode: int, action: int, _mods: int) -> None:
        if action != self.glfw.PRESS:
            return
        name = {self.glfw.KEY_SPACE: "space", self.glfw.KEY_ESCAPE: "escape"}.get(key)
        if name is None and self.glfw.KEY_A <= key <= self.glfw.KEY_Z:
            name = chr(ord("a") + key - self.glfw.KEY_A)
        if name in KEY_NAMES:
            self.events.append(WindowEvent("key", name))

    def _on_redraw(self, *_args: Any) -> None:
        self.events.append(WindowEvent("redraw"))

    # -- queries and commands --

    def drain(self) -> list[WindowEvent]:
        events, self.events = self.events, []
        return events

    @property
    def framebuffer_size(self) -> tuple[int, int]:
        w, h = self.glfw.get_framebuffer_size(self.handle)
        return int(w), int(h)

    @property
    def window_size(self) -> tuple[int, int]:
        w, h = self.glfw.get_window_size(self.handle)
        return int(w), int(h)

    def should_close(self) -> bool:
        return bool(self.glfw.window_should_close(self.handle))

    def close(self) -> None:
        self.glfw.set_window_should_close(self.handle, True)

    def resize(self, size: tuple[int, int]) -> None:
        self.glfw.set_window_size(self.handle, *size)

    def set_title(self, title: str) -> None:
        self.glfw.set_window_title(self.handle, title)

    def toggle_fullscreen(self) -> None:
        """Fullscreen on the chosen monitor at its current video mode, or back to the window."""
        glfw = self.glfw
        if self.fullscreen:
            x, y, w, h = self.windowed
            glfw.set_window_monitor(self.handle, None, x, y, w, h, glfw.DONT_CARE)
            self.fullscreen = False
        elif self.monitor is not None:
            x, y = glfw.get_window_pos(self.handle)
            self.windowed = (x, y, *self.window_size)
            mode = glfw.get_video_mode(self.monitor)
            if mode is None:
                return
            refresh = mode.refresh_rate or glfw.DONT_CARE  # Xvfb reports 0
            glfw.set_window_monitor(
                self.handle, self.monitor, 0, 0, mode.size.width, mode.size.height, refresh
            )
            self.fullscreen = True

    def poll(self, wait_s: float = 0.0) -> None:
        """Process pending window-system events; block up to `wait_s` for one if > 0."""
        if wait_s > 0:
            self.glfw.wait_events_timeout(wait_s)
        else:
            self.glfw.poll_events()

    def swap(self) -> None:
        self.glfw.swap_buffers(self.handle)

    def destroy(self) -> None:
        self.glfw.destroy_window(self.handle)
        self.glfw.terminate()
        _default_error_callback(self.glfw)


def _default_error_callback(glfw: Any) -> None:
    """Give glfw back its own error reporting (after a Window is done)."""
    glfw.set_error_callback(None)


def fit(size: tuple[int, int], screen: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down (aspect kept) to at most SCREEN_FIT of `screen`; never up."""
    scale = min(1.0, SCREEN_FIT * screen[0] / size[0], SCREEN_FIT * screen[1] / size[1])
    if scale >= 1.0:
        return size
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


# --- The frame loop -------------------------------------------------------------------------


def inverse_depth_range(depth: np.ndarray) -> tuple[float, float]:
    """(1 / farthest, 1 / nearest) valid depth: what the depth view maps to black..white."""
    import numpy as np

    valid = depth[np.isfinite(depth) & (depth > 0)]
    return 1.0 / float(valid.max()), 1.0 / float(valid.min())


@dataclass
class FrameStats:
    """What the HUD and --stats report: swap times, from which rates and frame times follow."""

    frames: int = 0  # frames drawn and swapped
    composites: int = 0  # frames on which the depth-of-field passes ran
    swaps: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_FRAMES))  # wall s
    frame_ms: float = 0.0  # wall time of the last drawn frame, loop start to swap

    def swapped(self, now: float, frame_start: float) -> None:
        self.frames += 1
        self.swaps.append(now)
        self.frame_ms = (now - frame_start) * 1000.0

    def fps(self, now: float) -> float:
        """Frames per second over the last FPS_WINDOW_S (0 when fewer than two frames)."""
        recent = [t for t in self.swaps if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)

    def median_interval_ms(self) -> float:
        """Median time between swaps; the first frame (shader compiles) counts for nothing."""
        times = list(self.swaps)
        gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
        return 1000.0 * gaps[len(gaps) // 2] if gaps else math.nan


class Preview:
    """The window, its compositor and the frame loop."""

    def __init__(
        self,
        args: argparse.Namespace,
        color: np.ndarray,
        depth: np.ndarray,
        controls: Controls,
        script: Sequence[ScriptEvent] = (),
        log: Callable[[str], None] | None = None,
        source: RGBDFrames | None = None,
        playback: Playback | None = None,
    ) -> None:
        """`color` and `depth` are what shows first (frame 0 of `source`, when given).

        With a `source` (sequence or video inputs) and its `playback`, the frame
        loop uploads input frame `playback.index_at(t)` whenever it changes.
        """
        from realtime.passes.display import Display, display_defines
        from realtime.pipeline import Compositor

        self.args = args
        self.depth = depth
        self.source = source
        self.playback = playback if source is not None else None
        self.frame_index = 0  # the input frame the textures hold
        self.controls = controls
        self.script = deque(script)
        self.log = log or (lambda text: print(text, flush=True))
        self.image_size = (depth.shape[1], depth.shape[0])
        self.frames_limit: int | None = args.frames
        self.fixed_dt: float | None = args.fixed_dt
        size = parse_size(args.window_size, "--window-size") if args.window_size else None
        self.window = Window(
            size or self.image_size,
            TITLE,
            vsync=not args.no_vsync,
            monitor=args.monitor,
            fullscreen=args.fullscreen,
            fit_to_screen=size is None,
        )
        try:
            import moderngl

            try:
                self.ctx = moderngl.create_context(require=330)
            except Exception as e:  # moderngl and glcontext raise plain Exceptions
                raise InputError(f"the window has no OpenGL 3.3 context ({e})") from e
            self.compositor = Compositor(self.ctx)
            self.color_tex, self.depth_tex = self.compositor.upload(color, depth)
            self.display = Display(self.ctx, display_defines(controls.lens.max_coc_px))
        except BaseException:
            self.window.destroy()
            raise
        self.inverse_depth_range = inverse_depth_range(depth)
        self.composite: moderngl.Texture | None = None
        self.rendered: tuple[Lens, int] | None = None  # lens and input frame of the composite
        self.lens = controls.lens
        self.stats = FrameStats()
        self.dirty = True  # the window must be redrawn
        self.title = ""
        self.title_at = -math.inf
        self.screenshot: np.ndarray | None = None

    # -- events --

    def handle_key(self, name: str, t: float) -> None:
        c = self.controls
        if name in ("escape", "q"):
            self.window.close()
        elif name == "b":
            c.cycle_blades()
        elif name == "d":
            c.cycle_view()
        elif name == "i":
            c.hud = not c.hud
        elif name == "space":
            self.toggle_play(t)
        elif name == "f":
            self.window.toggle_fullscreen()
        elif name == "s":
            try:
                self.save()
            except InputError as e:  # a full disk must not end the session
                self.log(f"rackfocus: error: {e}")
        elif name == "h":
            self.log(HELP)
        self.dirty = True

    def toggle_play(self, t: float) -> None:
        """Space: pause whatever plays (cues, input frames), or else play them all."""
        c, p = self.controls, self.playback
        if p is None:
            if not c.toggle_play(t):
                self.log("no cue timeline: start with --cues FILE")
            return
        if c.playing or p.playing:
            c.pause(t)
            p.pause(t)
        else:
            c.toggle_play(t)
            p.play(t)

    def handle(self, event: ScriptEvent | WindowEvent, t: float) -> None:
        """Apply one scripted or window event at preview time t."""
        from realtime.passes.display import letterbox, window_to_image

        kind, value = event.kind, event.value
        if kind == "click":
            x, y = value
            self.controls.click(x, y, t)
        elif kind == "press":
            pixel = window_to_image(
                value, self.window.window_size, self.window.framebuffer_size, self.image_size
            )
            if pixel is not None:
                self.controls.click(*pixel, t)
        elif kind == "cursor" and self.controls.view == "split":
            fw = self.window.framebuffer_size[0]
            ww = max(self.window.window_size[0], 1)
            rect = letterbox(self.image_size, self.window.framebuffer_size)
            x = value[0] * fw / ww
            self.controls.split = min(max((x - rect.x) / max(rect.w, 1), 0.0), 1.0)
            self.dirty = True
        elif kind == "key":
            self.handle_key(value, t)
        elif kind == "scroll":
            self.controls.scroll(value, t)
        elif kind == "resize":
            self.window.resize(value)
            self.dirty = True
        elif kind == "close":
            self.window.close()
        elif kind == "redraw":
            self.dirty = True

    # -- drawing --

    def show_frame(self, index: int) -> None:
        """Upload input frame `index` into the input textures, unless they hold it already."""
        if self.source is None or index == self.frame_index:
            return
        color, depth = self.source.read(index)
        if depth.shape != self.depth.shape:
            h, w = depth.shape
            raise InputError(
                f"{self.source.color.label}: frame {index} is {w}x{h} but frame 0 is "
                f"{self.image_size[0]}x{self.image_size[1]}; every frame must have the same size"
            )
        self.color_tex, self.depth_tex = self.compositor.upload(color, depth)
        self.depth = depth
        self.controls.depth_m = depth  # clicks pick focus on the frame shown
        self.inverse_depth_range = inverse_depth_range(depth)
        self.frame_index = index
        self.dirty = True

    def compose(self, lens: Lens) -> None:
        """Run the depth-of-field passes if the lens or the input frame changed since."""
        if (lens, self.frame_index) == self.rendered:
            return
        self.composite = self.compositor.render_textures(self.color_tex, self.depth_tex, lens)
        self.rendered = (lens, self.frame_index)
        self.stats.composites += 1
        self.dirty = True

    def draw(self) -> None:
        """Draw the composite (or a debug view) into the window's back buffer."""
        assert self.composite is not None
        c = self.controls
        self.display.run(
            self.ctx.screen,
            self.window.framebuffer_size,
            self.composite,
            self.color_tex,
            self.depth_tex,
            view=c.view,
            coc_params=self.lens.coc_scale_bias(self.image_size[0]),
            inverse_depth_range=self.inverse_depth_range,
            split=c.split,
        )

    def read_screen(self) -> np.ndarray:
        """The back buffer as HxWx3 uint8, top row first (read before swapping)."""
        import numpy as np

        w, h = self.window.framebuffer_size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=3)
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()

    def save(self) -> None:
        """S: the composite as rendered (PNG, no overlays) and the state as a cue file."""
        from realtime.outputs.images import write_image
        from realtime.pipeline import read_rgb

        assert self.composite is not None
        rgb, depth = self.input_files()
        stem = next_free_stem(Path(self.args.save_dir), Path(rgb).stem)  # rgb_1012, not rgb_%04d
        write_image(stem.with_suffix(".png"), read_rgb(self.composite))
        cue = stem.with_suffix(".toml")
        try:
            cue.write_text(state_cue_text(self.lens, self.args, rgb, depth), encoding="utf-8")
        except OSError as e:
            raise InputError(f"{cue}: cannot write: {e.strerror or e}") from e
        self.log(f"saved {stem.with_suffix('.png')} and {cue}")

    def input_files(self) -> tuple[str | Path, str | Path]:
        """--rgb and --depth, with a sequence's pattern replaced by the shown frame's file."""
        from realtime.sources.frames import FileStream

        files: list[str | Path] = [self.args.rgb, self.args.depth]
        if self.source is not None:
            for i, stream in enumerate((self.source.color, self.source.depth)):
                if isinstance(stream, FileStream) and stream.frame_count is not None:
                    files[i] = stream.paths[self.frame_index]
        return files[0], files[1]

    def hud_title(self, now: float) -> str:
        c = self.controls
        if not c.hud:
            return f"{TITLE} - {Path(self.args.rgb).name}"
        lens = self.lens
        aperture = (
            f"blur {lens.artistic_blur_px:.3g} px"
            if lens.artistic_blur_px is not None
            else f"{f_number_label(lens.f_number)}"
        )
        parts = [TITLE, f"focus {lens.focus_m:.3g} m", aperture]
        if lens.blades:
            parts.append(f"{lens.blades} blades")
        fps = self.stats.fps(now)
        if fps > 0:
            parts.append(f"{fps:.1f} fps, {self.stats.frame_ms:.1f} ms")
        else:
            parts.append("idle")
        if c.view != "off":
            from realtime.passes.display import VIEW_LABELS

            parts.append(VIEW_LABELS[c.view])
        if c.cues is not None:
            parts.append("playing" if c.playing else "paused")
        p = self.playback
        if p is not None:
            state = "" if p.playing else ", paused"
            parts.append(f"frame {self.frame_index + 1}/{p.frame_count}{state}")
        return " | ".join(parts)

    def update_title(self, now: float) -> None:
        if now - self.title_at < HUD_INTERVAL_S:
            return
        title = self.hud_title(now)
        if title != self.title:
            self.window.set_title(title)
            self.title = title
        self.title_at = now

    # -- the loop --

    def run(self) -> int:
        """Run until the window closes (or --frames are drawn); returns the exit code."""
        wall0 = time.perf_counter()
        frame = 0
        try:
            while True:
                frame_start = time.perf_counter()
                t = frame * self.fixed_dt if self.fixed_dt is not None else frame_start - wall0
                self.window.poll()
                while self.script and self.script[0].time_s <= t:
                    self.handle(self.script.popleft(), t)
                for event in self.window.drain():
                    self.handle(event, t)
                if self.window.should_close():
                    break
                self.controls.update(t)
                if self.playback is not None:
                    self.show_frame(self.playback.index_at(t))
                self.lens = self.controls.lens_at(t)
                self.compose(self.lens)
                last = self.frames_limit is not None and frame + 1 >= self.frames_limit
                if self.dirty or self.frames_limit is not None:
                    self.draw()
                    if last and self.args.screenshot:
                        self.screenshot = self.read_screen()
                    self.window.swap()
                    self.dirty = False
                    self.stats.swapped(time.perf_counter(), frame_start)
                self.update_title(time.perf_counter())
                frame += 1
                if last:
                    break
                if self.frames_limit is None and not self.dirty and not self.controls.animating(t):
                    now = t if self.fixed_dt is not None else time.perf_counter() - wall0
                    self.window.poll(self._idle_wait(now))
            if self.args.screenshot and self.screenshot is None:
                self.draw()  # closed before the last frame: capture the state it ended in
                self.screenshot = self.read_screen()
            elapsed = time.perf_counter() - wall0
            return self.finish(elapsed)
        finally:
            self.window.destroy()

    def _idle_wait(self, t: float) -> float:
        """How long an idle window may block: until the HUD refresh, the next scripted event
        or the next input frame."""
        wait = IDLE_WAIT_S
        if self.script:
            wait = min(wait, max(self.script[0].time_s - t, MIN_WAIT_S))
        if self.playback is not None:
            wait = min(wait, max(self.playback.next_change_s(t), MIN_WAIT_S))
        return wait

    def finish(self, elapsed_s: float) -> int:
        if self.args.screenshot and self.screenshot is not None:
            from realtime.outputs.images import write_png_codes

            write_png_codes(self.args.screenshot, self.screenshot)
        if self.args.print_focus:
            print(f"{self.lens.focus_m:.9g}", flush=True)
        if self.args.stats:
            s = self.stats
            median = s.median_interval_ms()
            rate = f"median frame {median:.1f} ms ({1000.0 / median:.1f} fps)"
            fw, fh = self.window.framebuffer_size
            print(
                f"frames {s.frames}, composites {s.composites}, {elapsed_s:.3f} s, "
                f"{rate if s.frames > 1 else 'no frame rate'}, {fw}x{fh}, "
                f"renderer {self.ctx.info['GL_RENDERER']}",
                flush=True,
            )
        return 0


# --- Entry point ----------------------------------------------------------------------------


def _check_options(args: argparse.Namespace) -> None:
    """Option checks that need no files, so mistakes cost no image loading or window."""
    if args.frames is not None and args.frames < 1:
        raise InputError(f"--frames {args.frames}: must be at least 1")
    if args.fixed_dt is not None and not (math.isfinite(args.fixed_dt) and args.fixed_dt > 0):
        raise InputError(f"--fixed-dt {args.fixed_dt}: must be a positive number of seconds")
    if args.screenshot and Path(args.screenshot).suffix.lower() != ".png":
        raise InputError(f"--screenshot {args.screenshot}: must be a .png file")
    if args.screenshot and not Path(args.screenshot).resolve().parent.is_dir():
        raise InputError(f"--screenshot {args.screenshot}: folder does not exist")
    if not Path(args.save_dir).is_dir():
        raise InputError(f"--save-dir {args.save_dir}: not a folder")
    if args.play and not args.cues:
        raise InputError("--play needs --cues FILE")
    if args.window_size:
        parse_size(args.window_size, "--window-size")
    if args.fps is not None:
        from realtime.options import parse_fps

        parse_fps(args.fps)


def _check_script(script: Iterable[ScriptEvent], size: tuple[int, int]) -> None:
    for event in script:
        if event.kind == "click":
            x, y = event.value
            if not (x < size[0] and y < size[1]):
                raise InputError(
                    f"--click {x},{y}@{event.time_s:g}: outside the {size[0]}x{size[1]} image"
                )


def load_frames(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, RGBDFrames | None]:
    """(colour, depth) of the first frame, and the frame source when an input moves.

    Two stills load as they always did (load_inputs); a sequence or video on
    either side opens the batch renderer's frame source, looping.
    """
    from realtime.sources.frames import input_kind, open_frames
    from realtime.sources.options import convention_from_args, load_inputs

    def still(path: str) -> bool:
        try:
            return input_kind(path) == "still"
        except InputError:
            return True  # missing or unreadable: reported as for any still

    if still(args.rgb) and still(args.depth):
        color, depth = load_inputs(args)
        return color, depth, None
    convention = convention_from_args(args)
    source = open_frames(args.rgb, args.depth, convention, args.resize_depth, loop=True)
    try:
        color, depth = source.read(0)
    except BaseException:
        source.close()
        raise
    return color, depth, source


def input_fps(args: argparse.Namespace, source: RGBDFrames) -> float:
    """--fps; else the colour video's frame rate, else the depth video's; else 24."""
    from realtime.options import parse_fps
    from realtime.outputs import DEFAULT_FPS
    from realtime.sources.video import ColorVideo, DepthVideo

    if args.fps is not None:
        return parse_fps(args.fps)
    for stream in (source.color, source.depth):
        if isinstance(stream, ColorVideo | DepthVideo) and stream.reader.fps > 0:
            return stream.reader.fps
    return DEFAULT_FPS


def run(args: argparse.Namespace) -> int:
    _check_options(args)
    script = parse_script(args)
    placeholder = args.focus if args.focus is not None else FAR_FOCUS_M  # focus may come later
    provisional = lens_from_args(args, focus_m=placeholder)  # checks the lens options early
    cues = None
    if args.cues:
        from realtime.cues import load_cues

        cues = load_cues(args.cues)
    color, depth, source = load_frames(args)
    try:
        return _run(args, script, provisional, cues, color, depth, source)
    finally:
        if source is not None:
            source.close()


def _run(
    args: argparse.Namespace,
    script: list[ScriptEvent],
    provisional: Lens,
    cues: Cues | None,
    color: np.ndarray,
    depth: np.ndarray,
    source: RGBDFrames | None,
) -> int:
    _check_script(script, (depth.shape[1], depth.shape[0]))
    track = cues.focus_track(depth) if cues is not None and cues.focus else None
    focus = args.focus
    if focus is None:
        if track is not None:
            focus = track.focus_at(track.start_s)
        else:
            from realtime.focus import AutoTarget, resolve_target

            focus = resolve_target(AutoTarget(), depth)  # centre autofocus
        focus = max(focus, MIN_FOCUS_OVER_F * provisional.focal_length_mm / MM_PER_M)
    lens = lens_from_args(args, focus_m=focus)
    controls = Controls(lens, depth, args.rack_duration, args.easing, track, args.view)
    playback = None
    if source is not None and source.frame_count is not None:
        playback = Playback(source.frame_count, input_fps(args, source))
    preview = Preview(args, color, depth, controls, script, source=source, playback=playback)
    if args.play:
        controls.toggle_play(0.0)
    if args.frames is None:
        print("rackfocus preview: press H for help", file=sys.stderr)
    return preview.run()
