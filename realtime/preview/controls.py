"""The preview's state as pure functions of input events and time (no GL, no window).

`Controls` holds focus, lens and view: a click racks focus to the depth under
the pointer, scrolling steps the f-number in third stops, keys cycle the
aperture blades and debug views, and a cue timeline, while it plays, drives
focus and f-number. `Playback` says which input frame of a sequence or video
shows at a time.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from realtime.errors import InputError
from realtime.focus import DEFAULT_EASING, FocusKey, FocusTrack, easing, pick_depth, rack
from realtime.lens import MM_PER_M, Lens

DEFAULT_RACK_S = 0.6  # duration of a click-to-focus rack, seconds
BLADE_CYCLE = (0, 5, 6, 8)  # aperture blades the B key cycles through (0 = circular)
STEPS_PER_STOP = 3  # scroll notches per f-stop (one stop = a factor sqrt(2) in N)
F_NUMBER_RANGE = (0.7, 64.0)  # scrolling stops at these f-numbers
MIN_FOCUS_OVER_F = 1.01  # a rack never targets closer than this many focal lengths
FRAME_EPSILON = 1e-9  # input frames: floor(t * fps + this), so t = k / fps shows frame k
VIEWS = ("off", "depth", "coc", "peaking", "split")  # debug views, in the order D cycles them
VIEW_LABELS = {  # what the window title calls each view
    "off": "composite",
    "depth": "depth",
    "coc": "signed CoC",
    "peaking": "focus peaking",
    "split": "before/after",
}
SPLIT_DEFAULT = 0.5  # before/after split line, as a fraction of the image width


def min_focus_m(lens: Lens) -> float:
    """The nearest focus a rack or autofocus may target: just beyond the focal length."""
    return MIN_FOCUS_OVER_F * lens.focal_length_mm / MM_PER_M


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
        target = pick_depth(self.depth_m, x, y)
        target = max(target, min_focus_m(self.lens))
        self.rack_to(target, self.rack_duration_s, t)
        return target

    def rack_to(self, focus_m: float, duration_s: float, t: float) -> None:
        """Rack from the current focus to `focus_m` over `duration_s` (0: at once); a cue
        timeline stops where it is."""
        self.pause(t)
        start = self.track.focus_at(t)
        if duration_s > 0:
            self.track = rack(start, focus_m, duration_s, self.easing_name, start_s=t)
        else:
            self.track = hold(focus_m, t)

    def set_f_number(self, f_number: float, t: float) -> None:
        """The f-number at once (a rack goes on); a cue timeline stops where it is."""
        self.pause(t)
        self.lens = replace(self.lens, f_number=f_number)

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
