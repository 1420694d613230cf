"""Focus as a function of time: easings, tracks, picking, the live follower, breathing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realtime.errors import InputError
from realtime.focus import (
    EASINGS,
    FOLLOW_DEAD_BAND_D,
    OMEGA_TAU,
    AutoTarget,
    FocusFollower,
    FocusKey,
    FocusTrack,
    PixelTarget,
    TargetKey,
    breathing_scale,
    critically_damped_step,
    ease,
    easing,
    focus_puller,
    pick_depth,
    rack,
    resolve_keys,
    smoothstep,
)
from realtime.lens import Lens

U = np.linspace(0.0, 1.0, 2001)


def harmonic_mean(a: float, b: float) -> float:
    return 2.0 / (1.0 / a + 1.0 / b)


def inverse_ease(name: str, value: float) -> float:
    """u with ease(u) == value, by bisection (easings are monotonic)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ease(name, mid) < value else (lo, mid)
    return 0.5 * (lo + hi)


# --- Easings ---


@pytest.mark.parametrize("name", EASINGS)
def test_easing_is_exact_at_the_ends_monotonic_and_in_range(name: str) -> None:
    f = easing(name)
    assert f(0.0) == 0.0 and f(1.0) == 1.0
    values = np.array([f(float(u)) for u in U])
    assert np.all(np.diff(values) >= 0)
    assert values.min() >= 0.0 and values.max() <= 1.0


@pytest.mark.parametrize("name", ["linear", "smoothstep", "cubic"])
def test_symmetric_easings_are_point_symmetric_about_the_middle(name: str) -> None:
    f = easing(name)
    for u in U:
        assert f(float(u)) + f(float(1.0 - u)) == pytest.approx(1.0, abs=1e-12)
    assert f(0.5) == 0.5


def test_focus_puller_is_front_loaded_and_lands_at_rest() -> None:
    assert focus_puller(0.5) == pytest.approx(0.8125)
    inner = U[1:-1]
    assert all(focus_puller(float(u)) > smoothstep(float(u)) for u in inner)
    # Speed 20 u (1 - u)^3: zero at both ends, peak at u = 1/4.
    h = 1e-6
    speed = [(focus_puller(float(u) + h) - focus_puller(float(u) - h)) / (2 * h) for u in inner]
    assert speed == pytest.approx([20 * u * (1 - u) ** 3 for u in inner], abs=1e-6)
    assert float(inner[int(np.argmax(speed))]) == pytest.approx(0.25, abs=1e-3)


def test_ease_clamps_and_unknown_easing_names_the_choices() -> None:
    assert ease("cubic", -1.0) == 0.0 and ease("cubic", 2.0) == 1.0
    with pytest.raises(InputError, match=r"unknown easing 'bouncy' \(expected linear, smoothstep"):
        easing("bouncy")


# --- Tracks ---


@pytest.mark.parametrize("name", EASINGS)
@pytest.mark.parametrize(("a", "b"), [(0.7, 3.3), (12.0, 0.45)])
def test_rack_hits_both_ends_exactly_and_moves_monotonically(name: str, a: float, b: float) -> None:
    track = rack(a, b, 1.7, easing=name, start_s=0.3)
    assert track.focus_at(0.3) == a and track.focus_at(2.0) == b
    assert track.focus_at(-5.0) == a and track.focus_at(9.0) == b
    d = np.array([track.focus_at(float(t)) for t in np.linspace(0.3, 2.0, 1001)])
    steps = np.diff(d) * np.sign(b - a)
    assert np.all(steps >= 0)


@pytest.mark.parametrize("name", EASINGS)
def test_dioptre_midpoint_is_the_harmonic_mean(name: str) -> None:
    a, b = 0.8, 6.0
    track = rack(a, b, 2.0, easing=name)
    u = inverse_ease(name, 0.5)
    assert track.focus_at(2.0 * u) == pytest.approx(harmonic_mean(a, b), rel=1e-9)
    # Much nearer than the arithmetic mean: a ring moving in dioptres lingers near.
    assert harmonic_mean(a, b) < 0.5 * (a + b)


def test_holds_keep_focus_still() -> None:
    track = rack(1.0, 4.0, 2.0, start_s=1.0, hold_before_s=0.5, hold_after_s=1.5)
    assert [k.time_s for k in track.keys] == [1.0, 1.5, 3.5, 5.0]
    assert track.start_s == 1.0 and track.end_s == 5.0
    assert all(track.focus_at(t) == 1.0 for t in np.linspace(1.0, 1.5, 11))
    assert all(track.focus_at(t) == 4.0 for t in np.linspace(3.5, 5.0, 11))
    assert 1.0 < track.focus_at(2.5) < 4.0


def test_multi_key_track_passes_through_every_key() -> None:
    keys = (
        FocusKey(0.0, 1.0),
        FocusKey(1.0, 5.0, easing="linear"),
        FocusKey(3.0, 5.0),
        FocusKey(4.0, 0.5, easing="focus_puller"),
    )
    track = FocusTrack(keys)
    for key in keys:
        assert track.focus_at(key.time_s) == key.distance_m
    # Linear segment: linear in dioptres.
    assert track.focus_at(0.25) == pytest.approx(1.0 / (0.75 * 1.0 + 0.25 / 5.0))
    assert track.focus_at(2.0) == 5.0  # a hold
    for t in np.linspace(3.0, 4.0, 50):
        assert 0.5 <= track.focus_at(float(t)) <= 5.0


def test_f_number_carries_forward_and_moves_in_stops() -> None:
    track = FocusTrack(
        (
            FocusKey(0.0, 2.0),
            FocusKey(1.0, 2.0, f_number=8.0, easing="linear"),
            FocusKey(2.0, 3.0),
            FocusKey(3.0, 3.0, f_number=4.0, easing="linear"),
        )
    )
    base = 2.0
    assert track.f_numbers(base) == (2.0, 8.0, 8.0, 4.0)
    assert track.f_number_at(-1.0, base) == 2.0
    assert track.f_number_at(0.5, base) == pytest.approx(4.0)  # sqrt(2 * 8): one stop per 1/2
    assert track.f_number_at(1.0, base) == 8.0
    assert track.f_number_at(1.5, base) == 8.0
    assert track.f_number_at(3.0, base) == 4.0 and track.f_number_at(7.0, base) == 4.0
    lens = track.lens_at(Lens(f_number=base), 2.5)
    assert lens.focus_m == 3.0 and lens.f_number == pytest.approx(math.sqrt(32.0))


def test_track_rejects_bad_keys() -> None:
    with pytest.raises(InputError, match="at least one key"):
        FocusTrack(())
    with pytest.raises(InputError, match=r"key #2 at 1.0 s is not after key #1 at 1.0 s"):
        FocusTrack((FocusKey(1.0, 2.0), FocusKey(1.0, 3.0)))
    with pytest.raises(InputError, match="focus distance"):
        FocusKey(0.0, 0.0)
    with pytest.raises(InputError, match="unknown easing"):
        FocusKey(0.0, 1.0, easing="bouncy")
    with pytest.raises(InputError, match="duration"):
        rack(1.0, 2.0, 0.0)


# --- Picking ---


def test_pick_depth_takes_the_median_and_ignores_holes() -> None:
    depth = np.full((20, 30), 2.0)
    depth[8:13, 13:18] = [np.nan, 0.0, np.inf, -1.0, 3.0]  # holes and one outlier per row
    assert pick_depth(depth, x=15, y=10) == 2.0
    depth[:, :] = np.nan
    depth[10, 15] = 1.5
    assert pick_depth(depth, x=15, y=10, window=1) == 1.5
    depth[0, 0] = 4.0
    assert pick_depth(depth, x=1, y=1, window=3) == 4.0  # window clipped at the corner


def test_pick_depth_grows_the_window_then_gives_up() -> None:
    depth = np.zeros((200, 200))
    depth[100, 150] = 3.0  # 50 px from the click
    assert pick_depth(depth, x=100, y=100) == 3.0
    with pytest.raises(InputError, match="no valid depth"):
        pick_depth(np.zeros((200, 200)), x=100, y=100)
    with pytest.raises(InputError, match="outside"):
        pick_depth(depth, x=200, y=0)


def test_resolve_keys_picks_pixels_and_autofocus() -> None:
    depth = np.full((100, 160), 5.0)
    depth[40:60, 70:90] = 1.25  # a subject at the centre
    track = resolve_keys(
        [
            TargetKey(0.0, 3.0),
            TargetKey(1.0, PixelTarget(10, 10)),
            TargetKey(2.0, AutoTarget(), f_number=4.0),
        ],
        depth,
    )
    assert [k.distance_m for k in track.keys] == [3.0, 5.0, 1.25]
    assert track.keys[2].f_number == 4.0
    with pytest.raises(InputError, match="needs a depth map"):
        resolve_keys([TargetKey(0.0, AutoTarget())], None)


# --- Follower ---


def test_settle_constant_matches_a_first_order_lag_at_four_time_constants() -> None:
    s = 4 * OMEGA_TAU
    assert (1 + s) * math.exp(-s) == pytest.approx(math.exp(-4), rel=1e-12)


def test_follower_reaches_98_percent_in_about_four_time_constants() -> None:
    tau = 0.3
    f = FocusFollower(time_constant_s=tau, dead_band_d=0.0, focus_m=1.0)  # 1 D
    target = 0.5  # 2 D: a step of 1 D
    progress = []
    for _ in range(80):
        progress.append(1.0 / f.update(target, tau / 10) - 1.0)
    assert progress[39] == pytest.approx(1 - math.exp(-4), abs=1e-12)  # at 4 tau
    assert progress[34] < 0.98 < progress[39]  # 3.5 tau: not yet


@pytest.mark.parametrize("dt", [1e-3, 1 / 60, 0.1, 0.7])
def test_follower_step_never_overshoots(dt: float) -> None:
    tau = 0.2
    for start, target in [(1.0, 4.0), (4.0, 0.7)]:
        f = FocusFollower(time_constant_s=tau, dead_band_d=0.0, focus_m=start)
        d = [f.update(target, dt) for _ in range(int(3.0 / dt))]
        sign = np.sign(target - start)
        assert np.all(np.diff(d) * sign >= 0)  # monotonic
        assert np.all((target - np.array(d)) * sign >= 0)  # never past the target
    # Analytically: from rest the error is e0 (1 + w t) exp(-w t), never of the other sign.
    x, v = 0.0, 0.0
    for _ in range(1000):
        x, v = critically_damped_step(x, v, 1.0, 3.0, 0.01)
        assert x <= 1.0 and v >= 0.0


def test_follower_is_frame_rate_independent() -> None:
    fine = FocusFollower(time_constant_s=0.25, focus_m=1.0)
    coarse = FocusFollower(time_constant_s=0.25, focus_m=1.0)
    for _ in range(60):
        a = fine.update(3.0, 1 / 60)
    b = coarse.update(3.0, 1.0)
    assert a == pytest.approx(b, abs=1e-9)
    # Uneven frame times agree too.
    jitter = FocusFollower(time_constant_s=0.25, focus_m=1.0)
    rng = np.random.default_rng(1)
    steps = rng.uniform(0.0, 1.0, 37)
    for dt in steps / steps.sum():
        c = jitter.update(3.0, float(dt))
    assert c == pytest.approx(b, abs=1e-9)


def test_dead_band_stops_hunting_on_a_noisy_target() -> None:
    rng = np.random.default_rng(0)
    noisy = 1.0 / (0.5 + rng.uniform(-0.004, 0.004, 600))  # 2 m +- 0.004 D
    steady = FocusFollower(focus_m=2.0)
    hunting = FocusFollower(focus_m=2.0, dead_band_d=0.0)
    a = np.array([steady.update(float(t), 1 / 60) for t in noisy])
    b = np.array([hunting.update(float(t), 1 / 60) for t in noisy])
    assert np.all(a == 2.0)
    assert np.ptp(b) > 1e-3
    # A real move, larger than the band, is followed.
    for _ in range(120):
        moved = steady.update(1.0, 1 / 60)
    assert moved == pytest.approx(1.0, abs=1e-3)
    assert FOLLOW_DEAD_BAND_D > 0.004


def test_follower_holds_through_missing_targets() -> None:
    f = FocusFollower()
    with pytest.raises(InputError, match="no target"):
        f.update(None, 0.1)
    assert f.update(2.0, 0.1) == 2.0  # the first target is taken at once
    assert f.update(float("nan"), 0.1) == 2.0
    assert f.update(0.0, 0.1) == 2.0
    assert f.update(float("inf"), 100.0) == pytest.approx(1000.0)  # clamped far focus


# --- Breathing ---


def test_breathing_is_off_by_default_and_one_at_infinity() -> None:
    lens = Lens(focal_length_mm=50.0)
    assert breathing_scale(lens, 0.3) == 1.0
    assert breathing_scale(lens, math.inf, amount=1.0) == 1.0
    assert breathing_scale(lens, 1.0, amount=1.0) == pytest.approx(1 + 0.05 / 0.95)
    scales = [breathing_scale(lens, d, amount=1.0) for d in (0.5, 1.0, 2.0, 10.0)]
    assert scales == sorted(scales, reverse=True)
    with pytest.raises(InputError):
        breathing_scale(lens, 0.04, amount=1.0)
