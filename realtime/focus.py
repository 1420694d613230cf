"""Focus as a pure, deterministic function of time: easings, keyed tracks, picking, follow.

A rack focus is a track of keys (time, distance). Between two keys the focus
moves linearly in dioptres (1 / distance), the way a lens's focus ring moves:
the helicoid's travel, and the depth of field around the focal plane, are both
close to uniform in dioptres, so a rack from 1 m to 10 m spends most of its
time near 1 m, as it does on a real lens. The easing of a segment shapes that
motion in time:

    d(t) = 1 / lerp(1/d0, 1/d1, ease(u)),   u = (t - t0) / (t1 - t0)

Live use (autofocus, "follow the subject") is `FocusFollower`: a critically
damped follow of a target depth, solved in closed form so that it is the same
at any frame rate.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from realtime.errors import InputError
from realtime.lens import MM_PER_M, Lens

Easing = Callable[[float], float]

DEFAULT_EASING = "smoothstep"  # easing of a key that names none
PICK_WINDOW = 9  # side of the square window a clicked pixel's depth is the median of, px
PICK_WINDOW_MAX = 129  # pick_depth grows an empty window up to this side (a 64 px radius)
AUTO_WINDOW_FRACTION = 0.1  # autofocus window side, as a fraction of the shorter image side
FOLLOW_TIME_CONSTANT_S = 0.25  # FocusFollower: settles to ~98% of a step in 4 of these
FOLLOW_DEAD_BAND_D = 0.01  # FocusFollower: target changes this small (dioptres) are ignored
FAR_FOCUS_M = 1000.0  # the follower never focuses beyond this (dioptres stay > 0)
BREATHING_OFF = 0.0  # breathing_scale amount that disables breathing
NEAR_PERCENTILE = 5.0  # the nearest subject: this percentile of the frame's valid depths
FAR_PERCENTILE = 95.0  # the background: this percentile
SUBJECT_STRIDE = 4  # subject depths are taken on every 4th pixel of every 4th row


# --- Easings --------------------------------------------------------------------------------
# Each maps [0, 1] onto [0, 1], is monotonic, and is exact at both ends (ease(0) == 0.0 and
# ease(1) == 1.0 in floating point, so keys are hit exactly).


def linear(u: float) -> float:
    """Constant speed; the ring starts and stops abruptly."""
    return u


def smoothstep(u: float) -> float:
    """3u^2 - 2u^3: starts and stops at rest, symmetric about (1/2, 1/2)."""
    return u * u * (3.0 - 2.0 * u)


def cubic(u: float) -> float:
    """Cubic ease-in-out: 4u^3, then its point reflection; symmetric, a harder S than smoothstep."""
    if u < 0.5:
        return 4.0 * u * u * u
    v = 2.0 - 2.0 * u
    return 1.0 - 0.5 * v * v * v


def focus_puller(u: float) -> float:
    """A human focus pull: a quick start, then a long gentle settle onto the mark.

    ease(u) = 1 - (1 - u)^4 (1 + 4u), the CDF of a Beta(2, 4) distribution. Its
    speed, ease'(u) = 20 u (1 - u)^3 >= 0, is zero at both ends (the ring starts
    and lands at rest, no jolt), peaks early at u = 1/4 (the puller whips the ring
    towards the mark) and decays slowly as a cube (they ease onto the mark rather
    than risk overshooting it and hunting back). 81% of the travel is done by
    u = 1/2, against 50% for the symmetric easings.
    """
    v = 1.0 - u
    return 1.0 - v * v * v * v * (1.0 + 4.0 * u)


EASINGS: dict[str, Easing] = {
    "linear": linear,
    "smoothstep": smoothstep,
    "cubic": cubic,
    "focus_puller": focus_puller,
}


def easing(name: str) -> Easing:
    """The easing function called `name`; InputError naming the choices if there is none."""
    try:
        return EASINGS[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown easing {name!r} (expected {', '.join(EASINGS)})") from None


def ease(name: str, u: float) -> float:
    """The easing `name` at u, with u clamped to [0, 1]."""
    return easing(name)(min(max(u, 0.0), 1.0))


# --- Keyed tracks ---------------------------------------------------------------------------


def _positive(value: float | None, what: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"{what} must be a positive number, got {value}")


@dataclass(frozen=True)
class FocusKey:
    """Focus (and optionally aperture) at one moment; the segment ending here uses `easing`."""

    time_s: float  # when the focus reaches this key, seconds
    distance_m: float  # focus distance at this key, metres (finite, > 0)
    f_number: float | None = None  # f-number at this key; None keeps the previous key's
    easing: str = DEFAULT_EASING  # easing of the segment that ends at this key

    def __post_init__(self) -> None:
        if not math.isfinite(self.time_s):
            raise InputError(f"focus key time must be finite, got {self.time_s}")
        _positive(self.distance_m, "focus distance")
        _positive(self.f_number, "f-number")
        easing(self.easing)


@dataclass(frozen=True)
class FocusTrack:
    """Keys in strictly increasing time; focus and f-number are held before the first and after
    the last key.

    f-number: a key without one keeps the value in effect at the previous key
    (before any key sets one, the lens's own). Between keys it moves linearly in
    stops (2 log2 N), i.e. geometrically in N, the way an aperture ring's click
    stops are spaced and exposure is perceived, with the segment's easing.
    """

    keys: tuple[FocusKey, ...]  # at least one, times strictly increasing

    def __post_init__(self) -> None:
        if not self.keys:
            raise InputError("a focus track needs at least one key")
        for i in range(1, len(self.keys)):
            a, b = self.keys[i - 1], self.keys[i]
            if not b.time_s > a.time_s:
                raise InputError(
                    f"focus key #{i + 1} at {b.time_s} s is not after key #{i} at {a.time_s} s"
                )

    @property
    def start_s(self) -> float:
        """Time of the first key."""
        return self.keys[0].time_s

    @property
    def end_s(self) -> float:
        """Time of the last key."""
        return self.keys[-1].time_s

    def _segment(self, t: float) -> tuple[int, float] | None:
        """(i, eased u) for t inside segment keys[i-1] -> keys[i]; None when t is outside."""
        if not math.isfinite(t):
            raise InputError(f"time must be finite, got {t}")
        i = bisect.bisect_right([k.time_s for k in self.keys], t)
        if i == 0 or i == len(self.keys):
            return None
        a, b = self.keys[i - 1], self.keys[i]
        return i, ease(b.easing, (t - a.time_s) / (b.time_s - a.time_s))

    def focus_at(self, t: float) -> float:
        """Focus distance in metres at time t: dioptre interpolation between the keys around t."""
        seg = self._segment(t)
        if seg is None:
            return self.keys[0 if t < self.start_s else -1].distance_m
        i, e = seg
        return dioptre_lerp(self.keys[i - 1].distance_m, self.keys[i].distance_m, e)

    def f_numbers(self, base_f_number: float) -> tuple[float, ...]:
        """The f-number in effect at each key, carrying values forward from `base_f_number`."""
        out: list[float] = []
        current = base_f_number
        for key in self.keys:
            current = key.f_number if key.f_number is not None else current
            out.append(current)
        return tuple(out)

    def f_number_at(self, t: float, base_f_number: float) -> float:
        """f-number at time t; `base_f_number` (the lens's) holds until a key sets another."""
        _positive(base_f_number, "f-number")
        values = self.f_numbers(base_f_number)
        seg = self._segment(t)
        if seg is None:
            return values[0 if t < self.start_s else -1]
        i, e = seg
        n0, n1 = values[i - 1], values[i]
        if e <= 0.0 or n0 == n1:
            return n0
        if e >= 1.0:
            return n1
        return n0 * (n1 / n0) ** e  # linear in stops: log N = lerp(log N0, log N1, e)

    def lens_at(self, lens: Lens, t: float) -> Lens:
        """`lens` with the track's focus distance and f-number at time t."""
        return replace(lens, focus_m=self.focus_at(t), f_number=self.f_number_at(t, lens.f_number))


def dioptre_lerp(d0: float, d1: float, e: float) -> float:
    """1 / lerp(1/d0, 1/d1, e): exact at e = 0 and e = 1 and for holds (d0 == d1)."""
    if e <= 0.0 or d0 == d1:
        return d0
    if e >= 1.0:
        return d1
    return 1.0 / ((1.0 - e) / d0 + e / d1)


def rack(
    from_m: float,
    to_m: float,
    duration_s: float,
    easing: str = DEFAULT_EASING,
    start_s: float = 0.0,
    hold_before_s: float = 0.0,
    hold_after_s: float = 0.0,
) -> FocusTrack:
    """A single rack: hold `from_m` from `start_s` for `hold_before_s`, move to `to_m` over
    `duration_s`, hold `to_m` for `hold_after_s`. The track spans all three."""
    if not duration_s > 0:
        raise InputError(f"rack duration must be positive, got {duration_s} s")
    if not (hold_before_s >= 0 and hold_after_s >= 0):
        raise InputError(f"holds must be >= 0 s, got {hold_before_s} s and {hold_after_s} s")
    keys = [FocusKey(start_s, from_m)]
    t = start_s + hold_before_s
    if hold_before_s > 0:
        keys.append(FocusKey(t, from_m))
    t += duration_s
    keys.append(FocusKey(t, to_m, easing=easing))
    if hold_after_s > 0:
        keys.append(FocusKey(t + hold_after_s, to_m))
    return FocusTrack(tuple(keys))


# --- Picking focus from a depth map ---------------------------------------------------------


def pick_depth(
    depth_m: np.ndarray,
    x: int,
    y: int,
    window: int = PICK_WINDOW,
    max_window: int = PICK_WINDOW_MAX,
) -> float:
    """Depth of a clicked pixel (column x, row y), robust to holes and edges.

    The median of the valid (finite, > 0) depths in a `window`-sided square around
    (x, y), clipped at the image borders (an even side behaves as the next odd
    one). The median keeps a click on a silhouette on one side of it rather than
    averaging fore- and background. If the window holds no valid depth it grows
    (side 2s + 1) up to `max_window`; then InputError.
    """
    depth = np.asarray(depth_m)
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[:, :, 0]
    if depth.ndim != 2 or depth.size == 0:
        raise InputError(f"depth map must be a non-empty 2-D array, got shape {depth.shape}")
    h, w = depth.shape
    if not (0 <= x < w and 0 <= y < h):
        raise InputError(f"pixel ({x}, {y}) is outside the {w}x{h} depth map")
    if window < 1:
        raise InputError(f"pick window must be at least 1 px, got {window}")
    side = window
    while True:
        r = side // 2
        patch = depth[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1]
        valid = patch[np.isfinite(patch) & (patch > 0)]
        if valid.size:
            return float(np.median(valid))
        if side >= max_window:
            raise InputError(f"no valid depth within {r} px of pixel ({x}, {y})")
        side = min(2 * side + 1, max_window)


@dataclass(frozen=True)
class PixelTarget:
    """Focus on whatever is at an image pixel (coordinates in the depth map's pixels)."""

    x: int  # column, 0 at the left
    y: int  # row, 0 at the top
    window: int = PICK_WINDOW  # side of the median window, px


@dataclass(frozen=True)
class AutoTarget:
    """Autofocus: the median depth of a window at the image centre, like a camera's centre AF."""

    window_fraction: float = AUTO_WINDOW_FRACTION  # window side / shorter image side


@dataclass(frozen=True)
class FractionTarget:
    """Focus on whatever is at fractions of the image's width and height (0..1 each)."""

    x: float  # 0 at the left edge, 1 at the right
    y: float  # 0 at the top edge, 1 at the bottom
    window: int = PICK_WINDOW  # side of the median window, px

    def __post_init__(self) -> None:
        if not (0.0 <= self.x <= 1.0 and 0.0 <= self.y <= 1.0):
            raise InputError(f"point ({self.x:g}, {self.y:g}) is not within 0..1 of the image")


@dataclass(frozen=True)
class NearTarget:
    """The nearest subject: NEAR_PERCENTILE of the valid depths (the show's "near")."""


# metres, a pixel or a point to pick, centre autofocus or the nearest subject
FocusTarget = float | PixelTarget | FractionTarget | AutoTarget | NearTarget


def pixel_of(x: float, y: float, size: tuple[int, int]) -> tuple[int, int]:
    """The pixel (column, row) at fractions (x, y) of an image of `size` (width, height)."""
    w, h = size
    return min(max(math.floor(x * w), 0), w - 1), min(max(math.floor(y * h), 0), h - 1)


def subject_depths(depth_m: np.ndarray) -> tuple[float, float]:
    """(nearest subject, background) of a depth map, metres: low and high percentiles of its
    valid depths (every SUBJECT_STRIDE-th pixel), so specks and holes do not count."""
    sample = np.asarray(depth_m)[::SUBJECT_STRIDE, ::SUBJECT_STRIDE]
    valid = sample[np.isfinite(sample) & (sample > 0)]
    if valid.size == 0:
        raise InputError("the frame has no valid depth")
    near, far = np.percentile(valid, [NEAR_PERCENTILE, FAR_PERCENTILE])
    return float(near), float(far)


@dataclass(frozen=True)
class TargetKey:
    """A focus key whose distance may still have to be picked from a depth map."""

    time_s: float  # when the focus reaches this key, seconds
    target: FocusTarget  # what to focus on
    f_number: float | None = None  # f-number at this key; None keeps the previous key's
    easing: str = DEFAULT_EASING  # easing of the segment that ends at this key


def resolve_target(target: FocusTarget, depth_m: np.ndarray | None) -> float:
    """The focus distance in metres a target stands for, picking from `depth_m` if needed."""
    if isinstance(target, PixelTarget | FractionTarget | AutoTarget | NearTarget):
        if depth_m is None:
            raise InputError("a pixel or auto focus target needs a depth map")
        if isinstance(target, PixelTarget):
            return pick_depth(depth_m, target.x, target.y, target.window)
        if isinstance(target, NearTarget):
            return subject_depths(depth_m)[0]
        if isinstance(target, FractionTarget):
            h, w = np.shape(depth_m)[:2]
            return pick_depth(depth_m, *pixel_of(target.x, target.y, (w, h)), target.window)
        h, w = np.shape(depth_m)[:2]
        side = max(1, round(target.window_fraction * min(h, w)))
        return pick_depth(depth_m, w // 2, h // 2, side, max(side, PICK_WINDOW_MAX))
    return float(target)


def resolve_keys(keys: Sequence[TargetKey], depth_m: np.ndarray | None) -> FocusTrack:
    """A FocusTrack with every key's target resolved to metres against `depth_m`."""
    return FocusTrack(
        tuple(
            FocusKey(k.time_s, resolve_target(k.target, depth_m), k.f_number, k.easing)
            for k in keys
        )
    )


# --- Live follow ----------------------------------------------------------------------------
# Critically damped second-order follow of a target x* (here in dioptres), natural frequency w:
#
#     x'' + 2 w x' + w^2 (x - x*) = 0
#
# With e = x - x* and v = x', the exact solution over a step dt from (e0, v0) is
#
#     e(dt) = (e0 + (v0 + w e0) dt) exp(-w dt)
#     v(dt) = (v0 - w (v0 + w e0) dt) exp(-w dt)
#
# (differentiate e to check v). Being exact, n steps of dt equal one step of n dt: the
# follow is frame-rate independent. From rest, e(t) = e0 (1 + w t) exp(-w t) never changes
# sign: no overshoot. It reaches a residual of exp(-4) (98.2%, what a first-order lag of
# time constant tau reaches in 4 tau) at w t = s, the root of (1 + s) exp(-s) = exp(-4),
# s = 5.93684740722..., so w = (s / 4) / tau: the follow settles as a lag of time constant
# tau would, but starts from rest instead of with a jump in speed.
OMEGA_TAU = 5.936847407220219 / 4.0  # w * tau for the critically damped follow (see above)


def critically_damped_step(
    x: float, v: float, target: float, omega: float, dt: float
) -> tuple[float, float]:
    """(position, velocity) after dt of a critically damped follow of `target` (exact)."""
    e0 = x - target
    decay = math.exp(-omega * dt)
    a = v + omega * e0
    return target + (e0 + a * dt) * decay, (v - omega * a * dt) * decay


class FocusFollower:
    """Autofocus / follow focus for live use: focus glides to a moving target depth.

    The follow runs in dioptres (like the focus ring) and is critically damped,
    so a step in the target is reached smoothly, without overshoot, in about
    4 time constants (98%). Target changes within `dead_band_d` dioptres of the
    target being followed are ignored, so a noisy depth reading does not make the
    focus hunt; about a fifth of the depth of field of a 50 mm f/2 lens (~0.05 D
    for a 0.03 mm circle of confusion) at the default.
    """

    def __init__(
        self,
        time_constant_s: float = FOLLOW_TIME_CONSTANT_S,
        dead_band_d: float = FOLLOW_DEAD_BAND_D,
        focus_m: float | None = None,
    ) -> None:
        _positive(time_constant_s, "follow time constant")
        if not (math.isfinite(dead_band_d) and dead_band_d >= 0):
            raise InputError(f"dead band must be >= 0 dioptres, got {dead_band_d}")
        self.time_constant_s = time_constant_s
        self.dead_band_d = dead_band_d
        self.omega = OMEGA_TAU / time_constant_s
        self._x: float | None = None  # focus, dioptres
        self._v = 0.0  # focus speed, dioptres per second
        self._target: float | None = None  # the target being followed, dioptres
        if focus_m is not None:
            self.reset(focus_m)

    def reset(self, focus_m: float) -> None:
        """Jump to `focus_m` at rest, following it."""
        _positive(focus_m, "focus distance")
        self._x = self._target = 1.0 / focus_m
        self._v = 0.0

    @property
    def focus_m(self) -> float | None:
        """Current focus distance in metres; None before the first target."""
        if self._x is None:
            return None
        return 1.0 / max(self._x, 1.0 / FAR_FOCUS_M)

    def update(self, target_m: float | None, dt: float) -> float:
        """Advance by dt seconds towards `target_m` and return the focus distance in metres.

        A missing target (None, NaN, <= 0: no depth under the AF point) keeps the
        previous one; an infinite one is focus at infinity (0 dioptres, shown as
        FAR_FOCUS_M). The first target is taken at once.
        """
        if not (math.isfinite(dt) and dt >= 0):
            raise InputError(f"time step must be >= 0 s, got {dt}")
        if target_m is not None and target_m > 0 and not math.isnan(target_m):
            d = 1.0 / target_m
            if self._x is None:
                self._x = d
            if self._target is None or abs(d - self._target) > self.dead_band_d:
                self._target = d
        if self._x is None or self._target is None:
            raise InputError("focus follower has no target yet")
        self._x, self._v = critically_damped_step(self._x, self._v, self._target, self.omega, dt)
        focus = self.focus_m
        assert focus is not None
        return focus


# --- Focus breathing ------------------------------------------------------------------------
# A unit-focusing thin lens focused at zf puts the sensor at v = f zf / (zf - f) behind it
# instead of f, so the image of the scene is larger by v / f = zf / (zf - f) = 1 + m, where
# m = f / (zf - f) is the lens's magnification. Normalised to 1 at infinity (m = 0):
#
#     scale(zf) = 1 + amount * f / (zf - f)
#
# amount 1 is that physical lens; internally focusing lenses breathe less (0 < amount < 1)
# or the other way (amount < 0); 0 turns breathing off.


def breathing_scale(lens: Lens, focus_m: float, amount: float = BREATHING_OFF) -> float:
    """Image magnification from focus breathing at `focus_m`, 1.0 at infinity (see above)."""
    f_m = lens.focal_length_mm / MM_PER_M
    if not focus_m > f_m:
        raise InputError(f"focus distance {focus_m} m must be beyond the focal length")
    if amount == 0:
        return 1.0
    return 1.0 + amount * f_m / (focus_m - f_m)
