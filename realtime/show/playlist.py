"""The show's playlist: cues, and the `Director` that plays them, as pure state of time.

No GL, no window, no sockets: the app hands the Director the show time and the
depth map on screen, and asks it for the lens and the source to show. Tests
drive it with made-up times and depth maps.

A playlist is a sequence of cues, played in order and looped. Each cue starts
where the previous one ended (cue boundaries never drift with the frame rate),
and from the focus and f-number the show has at that moment:

    Rack      rack to a distance (m), or to the nearest subject ("near") or the
              background ("far") of the frame on screen, over `duration_s`, eased
    Pick      rack to whatever is at a point of the frame (fractions of width, height)
    Hold      keep focus and f-number
    Autofocus follow the nearest subject with `FocusFollower` (critically damped,
              with a dead band, so noisy depth neither overshoots nor hunts)
    FNumber   move the aperture, linearly in stops, eased
    Switch    cross-fade to another source over `duration_s`

Manual commands (OSC) take the show out of its playlist: focus, rack, pick and
f-number pause it where it is, and `go`, `next` or `resume` take it up again
(a move that was interrupted continues from wherever the focus is to its goal
over the time its cue had left). A new playlist (`pending`, from an edited
config) takes over at the next cue boundary, playing on from the position after
the cue that just ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from realtime.errors import InputError
from realtime.focus import (
    DEFAULT_EASING,
    FAR_FOCUS_M,
    FOLLOW_TIME_CONSTANT_S,
    FocusFollower,
    FocusKey,
    FocusTrack,
    ease,
    pick_depth,
    pixel_of,
    subject_depths,
)
from realtime.lens import Lens
from realtime.preview.controls import min_focus_m

DEFAULT_MOVE_S = 2.0  # duration of a rack, pick or f-number cue that names none
DEFAULT_FADE_S = 1.0  # cross-fade of a source cue (and of /show/source) that names none
DEFAULT_PICK_RACK_S = 1.5  # rack of an OSC /focus/pick
FADE_EASING = "linear"  # a cross-fade's default easing: a mixer's T-bar moved at constant speed
SUBJECTS = ("near", "far")  # named rack targets
FOLLOW_GRID_D = 1e-6  # autofocus distances are rounded to this many dioptres


# --- Cues ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rack:
    """Rack focus to a distance, or to a subject of the frame on screen."""

    target: float | str  # metres, or "near" (nearest subject) / "far" (background)
    duration_s: float = DEFAULT_MOVE_S  # length of the rack
    easing: str = DEFAULT_EASING  # its easing


@dataclass(frozen=True)
class Pick:
    """Rack focus to the depth at a point of the frame on screen."""

    x: float  # fraction of the width, 0 = left edge
    y: float  # fraction of the height, 0 = top edge
    duration_s: float = DEFAULT_MOVE_S  # length of the rack
    easing: str = DEFAULT_EASING  # its easing


@dataclass(frozen=True)
class Hold:
    """Keep focus and f-number for a while."""

    duration_s: float  # how long


@dataclass(frozen=True)
class Autofocus:
    """Follow the nearest subject for a while (FocusFollower: no overshoot, no hunting)."""

    duration_s: float  # how long
    time_constant_s: float = FOLLOW_TIME_CONSTANT_S  # the follow settles in about 4 of these


@dataclass(frozen=True)
class FNumber:
    """Move the aperture to an f-number."""

    f_number: float  # where to
    duration_s: float = DEFAULT_MOVE_S  # length of the move
    easing: str = DEFAULT_EASING  # its easing


@dataclass(frozen=True)
class Switch:
    """Cross-fade to another source."""

    source: str  # the source's name
    duration_s: float = DEFAULT_FADE_S  # length of the cross-fade; 0 cuts
    easing: str = FADE_EASING  # easing of the fade


Cue = Rack | Pick | Hold | Autofocus | FNumber | Switch
Goal = tuple[float | None, float | None]  # (focus m, f-number) a move ends on; None: unchanged


def _seconds(s: float) -> str:
    return f"{s:g} s"


def describe(cue: Cue) -> str:
    """One line for the log: 'rack to 1.2 m over 2 s (smoothstep)'."""
    if isinstance(cue, Rack):
        what = {"near": "the nearest subject", "far": "the background"}.get(
            str(cue.target), f"{cue.target:g} m" if isinstance(cue.target, float) else ""
        )
        return f"rack to {what} over {_seconds(cue.duration_s)} ({cue.easing})"
    if isinstance(cue, Pick):
        return f"rack to the point ({cue.x:g}, {cue.y:g}) over {_seconds(cue.duration_s)}"
    if isinstance(cue, Hold):
        return f"hold {_seconds(cue.duration_s)}"
    if isinstance(cue, Autofocus):
        return f"autofocus on the nearest subject for {_seconds(cue.duration_s)}"
    if isinstance(cue, FNumber):
        return f"f-number {cue.f_number:g} over {_seconds(cue.duration_s)} ({cue.easing})"
    return f"cross-fade to source '{cue.source}' over {_seconds(cue.duration_s)}"


@dataclass(frozen=True)
class Fade:
    """A cross-fade between two sources in show time."""

    from_source: str  # fading out
    to_source: str  # fading in
    start_s: float  # show time the fade starts
    end_s: float  # and ends
    easing: str = FADE_EASING

    def weight(self, t: float) -> float:
        """How much of `to_source` shows at time t, 0..1."""
        if self.end_s <= self.start_s:
            return 1.0
        return ease(self.easing, (t - self.start_s) / (self.end_s - self.start_s))


# --- Depth helpers ---------------------------------------------------------------------------


def pick_point(depth_m: np.ndarray, x: float, y: float) -> float:
    """The depth at fractions (x, y) of the frame (median of a window; see pick_depth)."""
    h, w = np.shape(depth_m)[:2]
    return pick_depth(depth_m, *pixel_of(x, y, (w, h)))


# --- The director ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    """What an edited config changes in the director: applied at a cue boundary."""

    playlist: tuple[Cue, ...]  # the cues
    lens: Lens  # focal length, blades...; the show keeps its own focus and f-number
    rack_duration_s: float = DEFAULT_PICK_RACK_S  # rack of /focus/pick
    fade_s: float = DEFAULT_FADE_S  # cross-fade of /show/source


class Director:
    """Plays a looping playlist; obeys manual commands; says which lens and source to show.

    Every method takes the show time t (seconds, non-decreasing) and, where a
    target may have to be picked, the depth map (metres) of the source on screen.
    """

    def __init__(
        self,
        program: Program,
        source: str,
        t: float,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if not program.playlist:
            raise InputError("a playlist needs at least one cue")
        self.program = program
        self.lens = program.lens  # its focus_m and f_number are where the show starts
        self.track = _hold(t, program.lens.focus_m, program.lens.f_number)
        self.follower: FocusFollower | None = None  # during an autofocus cue
        self.follow_t = t  # show time of the follower's last step
        self.goal: Goal = (None, None)  # (focus, f-number) the running cue ends on; None: as is
        self.index = -1  # cue playing, 0-based; -1 before the first
        self.cue_end_s = t  # the first update starts cue 0
        self.paused = False  # out of the playlist (paused, or a manual command)
        self.remaining_s = 0.0  # while paused: time the cue had left
        self.source = source  # the source showing (or fading in)
        self.fade: Fade | None = None  # the cross-fade in progress
        self.pending: Program | None = None  # an edited config, waiting for a cue boundary
        self.reloaded = False  # set when `pending` took over; the app clears it
        self.log = log or (lambda line: None)
        self._subjects: tuple[np.ndarray, tuple[float, float]] | None = None

    @property
    def playlist(self) -> tuple[Cue, ...]:
        return self.program.playlist

    @property
    def cue(self) -> Cue | None:
        """The cue playing (or paused), None before the first."""
        return self.playlist[self.index] if self.index >= 0 else None

    # -- time --

    def update(self, t: float, depth_m: np.ndarray | None) -> None:
        """Advance to time t: start every cue whose time has come, step the autofocus."""
        if self.fade is not None and t >= self.fade.end_s:
            self.fade = None
        if not self.paused:
            for _ in range(len(self.playlist) + 1):
                if t < self.cue_end_s:
                    break
                self._advance(self.index + 1, self.cue_end_s, depth_m)
            else:  # far behind (the show stalled): start the next cue now
                self._advance(self.index + 1, t, depth_m)
        if self.follower is not None:
            try:
                near: float | None = self._subject(depth_m, 0)
            except InputError:
                near = None  # no depth to follow: keep the last target
            self.follower.update(near, max(t - self.follow_t, 0.0))
            self.follow_t = t

    def lens_at(self, t: float) -> Lens:
        """The lens to render at time t (call after `update(t)`)."""
        focus, f_number = self._now(t)
        return replace(self.lens, focus_m=focus, f_number=f_number)

    def _now(self, t: float) -> tuple[float, float]:
        """(focus m, f-number) at time t."""
        f_number = self.track.f_number_at(t, self.lens.f_number)
        if self.follower is not None and self.follower.focus_m is not None:
            # The follow approaches its target forever; on a grid of FOLLOW_GRID_D dioptres
            # (invisible) it arrives, and a settled autofocus stops re-running the passes.
            dioptres = round(1.0 / self.follower.focus_m / FOLLOW_GRID_D) * FOLLOW_GRID_D
            return 1.0 / max(dioptres, 1.0 / FAR_FOCUS_M), f_number
        return self.track.focus_at(t), f_number

    # -- cues --

    def _advance(self, index: int, t0: float, depth_m: np.ndarray | None) -> None:
        """Start cue `index` (mod the length) at t0, taking over a pending program first."""
        if self.pending is not None:
            self._take_pending(t0)
        self._start(index % len(self.playlist), t0, depth_m)

    def _take_pending(self, t: float) -> None:
        assert self.pending is not None
        focus, f_number = self._now(t)
        self.program, self.pending = self.pending, None
        self.lens = replace(self.program.lens, focus_m=focus, f_number=f_number)
        self.track = _hold(t, focus, f_number)
        self.follower = None
        self.reloaded = True
        self.log(f"config applied at the cue boundary: {len(self.playlist)} cues")

    def _start(self, index: int, t0: float, depth_m: np.ndarray | None) -> None:
        cue = self.playlist[index]
        focus, f_number = self._now(t0)
        self.index = index
        self.cue_end_s = t0 + cue.duration_s
        self.follower = None
        self.goal = (None, None)
        detail = ""
        if isinstance(cue, Rack | Pick):
            target = self._target(cue, depth_m)
            if target is not None:
                self.goal = (target, None)
                picked = isinstance(cue, Pick) or isinstance(cue.target, str)
                detail = f" -> {target:.4g} m" if picked else ""
        elif isinstance(cue, FNumber):
            self.goal = (None, cue.f_number)
        elif isinstance(cue, Autofocus):
            self.follower = FocusFollower(cue.time_constant_s, focus_m=focus)
            self.follow_t = t0
        elif isinstance(cue, Switch):
            self.switch(cue.source, t0, cue.duration_s, cue.easing)
        self._plan(t0, self.cue_end_s, focus, f_number, self.goal, _easing(cue))
        self.log(f"cue {index + 1}/{len(self.playlist)}: {describe(cue)}{detail}")

    def _target(self, cue: Rack | Pick, depth_m: np.ndarray | None) -> float | None:
        """A rack's focus distance, clamped to what the lens can focus; None if unpickable."""
        try:
            if isinstance(cue, Pick):
                if depth_m is None:
                    raise InputError("no frame to pick from")
                target = pick_point(depth_m, cue.x, cue.y)
            elif isinstance(cue.target, str):
                target = self._subject(depth_m, SUBJECTS.index(cue.target))
            else:
                target = cue.target
        except InputError as e:
            self.log(f"cue {self.index + 1}: cannot pick a focus target ({e}); holding")
            return None
        return self.clamp(target)

    def _subject(self, depth_m: np.ndarray | None, which: int) -> float:
        """The nearest subject (0) or the background (1) of `depth_m`, cached per frame."""
        if depth_m is None:
            raise InputError("no frame to find a subject in")
        if self._subjects is None or self._subjects[0] is not depth_m:
            self._subjects = (depth_m, subject_depths(depth_m))
        return self._subjects[1][which]

    def clamp(self, focus_m: float) -> float:
        """`focus_m` within what the lens can focus on (just beyond f .. FAR_FOCUS_M)."""
        return min(max(focus_m, min_focus_m(self.lens)), FAR_FOCUS_M)

    def _plan(
        self, t0: float, t1: float, focus: float, f_number: float, goal: Goal, easing: str
    ) -> None:
        """The track from (focus, f_number) at t0 to `goal` at t1 (at once if t1 <= t0)."""
        end = (
            goal[0] if goal[0] is not None else focus,
            goal[1] if goal[1] is not None else f_number,
        )
        if end == (focus, f_number) or t1 <= t0:
            self.track = _hold(t0, *end)
        else:
            start = FocusKey(t0, focus, f_number)
            self.track = FocusTrack((start, FocusKey(t1, *end, easing=easing)))

    # -- commands --

    def go(self, index: int, t: float, depth_m: np.ndarray | None) -> None:
        """Start cue `index` (0-based) now and play on from there."""
        self.paused = False
        self._advance(index, t, depth_m)

    def next(self, t: float, depth_m: np.ndarray | None) -> None:
        """Start the cue after the current one now."""
        self.go(self.index + 1, t, depth_m)

    def pause(self, t: float) -> None:
        """Leave the playlist: focus and f-number stay where they are."""
        if self.paused:
            return
        focus, f_number = self._now(t)
        self.track = _hold(t, focus, f_number)
        self.follower = None
        self.remaining_s = max(self.cue_end_s - t, 0.0)
        self.paused = True

    def resume(self, t: float) -> None:
        """Take the playlist up again: the paused cue finishes in the time it had left."""
        if not self.paused:
            return
        self.paused = False
        self.cue_end_s = t + self.remaining_s
        focus, f_number = self._now(t)
        cue = self.cue
        if isinstance(cue, Autofocus):
            self.follower = FocusFollower(cue.time_constant_s, focus_m=focus)
            self.follow_t = t
        self._plan(t, self.cue_end_s, focus, f_number, self.goal, _easing(cue))

    def rack_to(self, focus_m: float, duration_s: float, t: float) -> None:
        """Manual: leave the playlist and rack to `focus_m` over `duration_s` (0: at once)."""
        self.pause(t)
        focus, f_number = self._now(t)
        self._plan(t, t + duration_s, focus, f_number, (self.clamp(focus_m), None), DEFAULT_EASING)

    def pick(self, x: float, y: float, t: float, depth_m: np.ndarray | None) -> None:
        """Manual: rack to what is at fractions (x, y) of the frame."""
        target = self._target(Pick(x, y), depth_m)
        if target is not None:
            self.rack_to(target, self.program.rack_duration_s, t)

    def subject(self, which: str, t: float, depth_m: np.ndarray | None) -> None:
        """Manual: rack to the nearest subject ("near") or the background ("far")."""
        target = self._target(Rack(which), depth_m)
        if target is not None:
            self.rack_to(target, self.program.rack_duration_s, t)

    def set_f_number(self, f_number: float, t: float) -> None:
        """Manual: leave the playlist and set the f-number at once (a rack keeps going)."""
        self.pause(t)
        self.track = FocusTrack(tuple(replace(k, f_number=f_number) for k in self.track.keys))

    def switch(
        self,
        source: str,
        t: float,
        fade_s: float | None = None,
        easing: str = FADE_EASING,
        force: bool = False,
    ) -> None:
        """Cross-fade to `source` over `fade_s` (default: the program's); a fade in progress
        is cut short. Switching to the source showing does nothing unless `force`d (its
        files changed: the show fades from the old frames to the new)."""
        if source == self.source and not force:
            return
        fade_s = self.program.fade_s if fade_s is None else fade_s
        self.fade = Fade(self.source, source, t, t + fade_s, easing) if fade_s > 0 else None
        self.source = source


def _easing(cue: Cue | None) -> str:
    return cue.easing if isinstance(cue, Rack | Pick | FNumber) else DEFAULT_EASING


def _hold(t: float, focus_m: float, f_number: float) -> FocusTrack:
    return FocusTrack((FocusKey(t, focus_m, f_number),))
