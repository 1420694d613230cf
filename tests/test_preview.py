"""`rackfocus preview`: the live window, checked in real windows under Xvfb.

The session starts its own Xvfb (CI installs it; without it the window tests
fail rather than skip). Every window runs in a subprocess through the command
line, driven by scripted events on a fixed timestep, so runs are deterministic
and no glfw context ever shares this process with the session's EGL context.
The geometry and state logic is tested directly, without a window.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from xvfb_server import xvfb_display

from realtime.cues import cue_text, load_cues
from realtime.errors import InputError
from realtime.focus import FocusKey, FocusTrack, pick_depth
from realtime.frameloop import input_fps
from realtime.lens import Lens
from realtime.options import parse_fps
from realtime.outputs.video import VideoWriter, write_depth_video
from realtime.preview.controls import BLADE_CYCLE, VIEWS, Controls, Playback, step_f_number
from realtime.preview.display import Rect, letterbox, window_to_image
from realtime.preview.reduce import reduce_frame
from realtime.preview.script import parse_script
from realtime.preview.window import fit
from realtime.sources.depth import DepthConvention
from realtime.sources.frames import open_frames
from realtime.sources.images import linear_to_srgb, load_color

ROOT = Path(__file__).resolve().parent.parent
W, H = 160, 120  # test image size
LARGE_W, LARGE_H = 400, 300  # a still 2.5 times the test window's side
SCREEN = (1280, 720)  # the Xvfb screen
NEAR_M, MID_M, FAR_M = 1.0, 2.5, 6.0  # depths of the test scene's three regions
RUN_TIMEOUT_S = 120  # one preview subprocess
CLIP_FRAMES = 3  # frames of the test sequence and videos
CLIP_FPS = 10  # their frame rate (--fps for the sequence; the videos store it)
CLIP_LENS = Lens(focus_m=MID_M, f_number=1.4)


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A private Xvfb server for the session; its DISPLAY string (e.g. ':3')."""
    with xvfb_display(SCREEN) as name:
        yield name


@dataclass(frozen=True)
class Scene:
    """The test RGB-D pair and the options that load it."""

    color: np.ndarray  # HxWx3 linear
    depth: np.ndarray  # HxW metres
    rgb: Path  # color as .npy
    depth_path: Path  # depth as .npy

    @property
    def args(self) -> list[str]:
        return ["--rgb", str(self.rgb), "--depth", str(self.depth_path)]


@pytest.fixture(scope="session")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    """A 160x120 RGB-D pair: a textured plane at FAR_M, a near band, a box at MID_M."""
    folder = tmp_path_factory.mktemp("preview")
    yy, xx = np.mgrid[0:H, 0:W]
    color = np.zeros((H, W, 3), np.float32)
    color[..., 0] = (xx % 16 < 8) * 0.8 + 0.1
    color[..., 1] = (yy % 16 < 8) * 0.6 + 0.1
    color[..., 2] = ((xx + yy) % 32 < 16) * 0.5 + 0.02
    depth = np.full((H, W), FAR_M, np.float32)
    depth[:, :60] = NEAR_M
    depth[40:80, 60:110] = MID_M
    np.save(folder / "c.npy", color)
    np.save(folder / "d.npy", depth)
    return Scene(color, depth, folder / "c.npy", folder / "d.npy")


@pytest.fixture(scope="session")
def large(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    """A 400x300 RGB-D pair for a W x H window: one-pixel texture (a point sample would
    alias it) on a plane at FAR_M, a near band and a box at MID_M whose edges fall
    inside the window's pixels."""
    folder = tmp_path_factory.mktemp("large")
    yy, xx = np.mgrid[0:LARGE_H, 0:LARGE_W]
    color = np.zeros((LARGE_H, LARGE_W, 3), np.float32)
    color[..., 0] = ((xx + yy) % 2) * 0.8 + 0.1
    color[..., 1] = (yy % 40 < 20) * 0.6 + 0.1
    color[..., 2] = ((xx + yy) % 80 < 40) * 0.5 + 0.02
    depth = np.full((LARGE_H, LARGE_W), FAR_M, np.float32)
    depth[:, :148] = NEAR_M
    depth[101:199, 151:276] = MID_M
    np.save(folder / "c.npy", color)
    np.save(folder / "d.npy", depth)
    return Scene(color, depth, folder / "c.npy", folder / "d.npy")


def clip_frame(i: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame i of the test clip: a bright square at NEAR_M moving right over a dim texture."""
    yy, xx = np.mgrid[0:H, 0:W]
    color = np.zeros((H, W, 3), np.float32)
    color[..., 0] = (xx % 16 < 8) * 0.2 + 0.05
    color[..., 1] = (yy % 16 < 8) * 0.2 + 0.05
    color[..., 2] = 0.1
    depth = np.full((H, W), FAR_M, np.float32)
    x0 = 10 + 50 * i
    color[45:75, x0 : x0 + 30] = (1.0, 0.9, 0.6)
    depth[45:75, x0 : x0 + 30] = NEAR_M
    depth[:, 120:] = MID_M  # a strip in focus, the same in every frame
    return color, depth


@dataclass(frozen=True)
class Clip:
    """The test clip as a PNG + .npy image sequence (numbered from 1001)."""

    colors: list[np.ndarray]  # linear, as the loader reads the 8-bit PNGs
    depths: list[np.ndarray]  # metres
    args: list[str]


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    folder = tmp_path_factory.mktemp("sequence")
    colors, depths = [], []
    for i in range(CLIP_FRAMES):
        color, depth = clip_frame(i)
        png = folder / f"rgb_{1001 + i:04d}.png"
        iio.imwrite(png, encode(color).astype(np.uint8))
        np.save(folder / f"depth_{1001 + i:04d}.npy", depth)
        colors.append(load_color(png))
        depths.append(depth)
    args = ["--rgb", str(folder / "rgb_%04d.png"), "--depth", str(folder / "depth_%04d.npy")]
    return Clip(colors, depths, args)


def preview(display: str | None, args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """Run `rackfocus preview ARGS` in a subprocess on `display` (None: no display at all)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if display is not None:
        env["DISPLAY"] = display
    return subprocess.run(
        [sys.executable, "-m", "realtime", "preview", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=RUN_TIMEOUT_S,
        **kw,  # type: ignore[call-overload]
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def encode(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> 8-bit sRGB codes, as the PNG writer and the display pass do."""
    return np.rint(linear_to_srgb(np.clip(linear, 0.0, 1.0)) * 255).astype(np.int16)


def offscreen(compositor, scene: Scene, lens: Lens) -> np.ndarray:
    return compositor.render(scene.color, scene.depth, lens)


def bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """GL_LINEAR magnification/minification with clamp-to-edge, to `size` (w, h)."""
    h, w = image.shape[:2]
    out_w, out_h = size
    x = np.clip((np.arange(out_w) + 0.5) * w / out_w - 0.5, 0, w - 1)
    y = np.clip((np.arange(out_h) + 0.5) * h / out_h - 0.5, 0, h - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[None, :, None], (y - y0)[:, None, None]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


# --- Geometry, without a window --------------------------------------------------------------


def test_letterbox_is_one_to_one_at_image_size_and_centred_otherwise() -> None:
    assert letterbox((160, 120), (160, 120)) == Rect(0, 0, 160, 120)
    assert letterbox((160, 120), (320, 120)) == Rect(80, 0, 160, 120)  # pillarbox
    assert letterbox((160, 120), (160, 240)) == Rect(0, 60, 160, 120)  # letterbox
    assert letterbox((160, 120), (1280, 720)) == Rect(160, 0, 960, 720)
    assert letterbox((160, 120), (0, 0)) == Rect(0, 0, 0, 0)  # minimised window
    assert Rect(80, 10, 160, 100).gl_viewport(120) == (80, 10, 160, 100)
    assert Rect(0, 0, 160, 100).gl_viewport(120) == (0, 20, 160, 100)  # GL: bottom-left


def test_cursor_maps_to_the_image_pixel_drawn_under_it() -> None:
    image = (160, 120)
    assert window_to_image((0.0, 0.0), (160, 120), (160, 120), image) == (0, 0)
    assert window_to_image((159.9, 119.9), (160, 120), (160, 120), image) == (159, 119)
    # pillarbox: the image starts at x = 80
    assert window_to_image((79.0, 10.0), (320, 120), (320, 120), image) is None
    assert window_to_image((80.0, 10.0), (320, 120), (320, 120), image) == (0, 10)
    # 2x scale
    assert window_to_image((101.0, 51.0), (320, 240), (320, 240), image) == (50, 25)
    # HiDPI: the framebuffer has twice the window's pixels; the same window point
    assert window_to_image((50.5, 25.5), (160, 120), (320, 240), image) == (50, 25)


def test_window_fits_the_screen_and_is_never_enlarged() -> None:
    assert fit((160, 120), SCREEN) == (160, 120)
    assert fit((3840, 2160), (1920, 1080)) == (1728, 972)


# --- State, without a window ----------------------------------------------------------------


def test_f_number_steps_in_third_stops_on_the_standard_series() -> None:
    assert step_f_number(2.0, 3) == pytest.approx(2.0 * 2**0.5)
    assert step_f_number(2.0, -1) == pytest.approx(2 ** (5 / 6))
    assert f"{step_f_number(2.0, 1):.2g}" == "2.2"
    assert step_f_number(2.9, 0) == pytest.approx(2**1.5)  # snapped to f/2.8
    assert step_f_number(64.0, 5) == pytest.approx(64.0)  # clamped
    assert step_f_number(0.7, -5) == pytest.approx(2**-0.5)


def test_controls_rack_scroll_blades_and_views(scene: Scene) -> None:
    depth = scene.depth
    c = Controls(Lens(focus_m=FAR_M), depth, rack_duration_s=0.5, easing_name="linear")
    assert not c.animating(0.0)
    target = c.click(10, 60, 1.0)
    assert target == pytest.approx(NEAR_M)
    assert c.lens_at(1.0).focus_m == pytest.approx(FAR_M)
    assert NEAR_M < c.lens_at(1.25).focus_m < FAR_M and c.animating(1.25)
    assert c.lens_at(1.5).focus_m == pytest.approx(NEAR_M) and not c.animating(1.5)
    c.click(80, 60, 1.6)  # from wherever the focus is
    assert c.lens_at(1.6).focus_m == pytest.approx(NEAR_M)
    assert c.lens_at(2.1).focus_m == pytest.approx(MID_M)
    c.scroll(3, 3.0)  # one stop wider
    assert c.lens.f_number == pytest.approx(2**0.5)
    blades = [c.lens.blades]
    for _ in BLADE_CYCLE:
        c.cycle_blades()
        blades.append(c.lens.blades)
    assert blades == [0, 5, 6, 8, 0]
    seen = [c.view]
    for _ in VIEWS:
        c.cycle_view()
        seen.append(c.view)
    assert seen == [*VIEWS, VIEWS[0]]
    artistic = Controls(Lens(focus_m=2.0, artistic_blur_px=10.0), depth)
    artistic.scroll(-6, 0.0)  # two stops narrower: half the blur
    assert artistic.lens.artistic_blur_px == pytest.approx(5.0)


def test_cue_timeline_plays_pauses_and_stops_at_its_end(scene: Scene) -> None:
    track = FocusTrack((FocusKey(0.0, 1.0), FocusKey(1.0, 4.0, f_number=4.0)))
    c = Controls(Lens(focus_m=2.0), scene.depth, cues=track)
    assert c.toggle_play(10.0) and c.playing
    assert c.lens_at(10.0).focus_m == pytest.approx(1.0)
    c.toggle_play(10.5)  # pause mid-way: focus and f-number stay where they were
    paused = c.lens_at(20.0)
    assert 1.0 < paused.focus_m < 4.0 and 2.0 < paused.f_number < 4.0
    c.toggle_play(30.0)  # resume from 0.5 s
    c.update(30.6)
    assert not c.playing  # reached the end
    assert c.lens_at(31.0).focus_m == pytest.approx(4.0)
    assert c.lens_at(31.0).f_number == pytest.approx(4.0)
    assert not Controls(Lens(), scene.depth).toggle_play(0.0)  # no cues: nothing to play


def test_saved_state_is_a_cue_file_that_loads_back(scene: Scene, tmp_path: Path) -> None:
    lens = Lens(focus_m=1.2345, f_number=2.8, blades=6, blade_rotation_deg=15.0)
    path = tmp_path / "state.toml"
    path.write_text(cue_text(lens, scene.rgb, scene.depth_path, DepthConvention.inverse(0.5, 20)))
    cues = load_cues(path)
    assert cues.lens == lens.with_focus(cues.lens.focus_m)
    track = cues.focus_track()
    assert track.focus_at(0.0) == lens.focus_m
    assert track.f_number_at(0.0, 1.0) == lens.f_number
    assert cues.input.rgb == scene.rgb.resolve()
    assert tomllib.loads(path.read_text())["input"]["inverse_depth"] == [0.5, 20.0]


def test_playback_loops_one_frame_per_period_and_pauses() -> None:
    p = Playback(3, 10.0)
    assert [p.index_at(k * 0.05) for k in range(9)] == [0, 0, 1, 1, 2, 2, 0, 0, 1]
    assert p.index_at(0.1) == 1 and p.index_at(0.3) == 0  # exactly on a frame time
    assert p.next_change_s(0.05) == pytest.approx(0.05)
    p.pause(0.25)
    assert not p.playing and p.index_at(100.0) == 2 and p.next_change_s(1.0) == math.inf
    p.play(1.0)  # resumes from input time 0.25
    assert p.index_at(1.0) == 2 and p.index_at(1.05) == 0
    assert Playback(1, 24.0).next_change_s(0.0) == math.inf  # one frame never changes


def test_sequence_fps_is_24_or_the_option(clip: Clip) -> None:
    rgb, depth = clip.args[1], clip.args[3]
    source = open_frames(rgb, depth, DepthConvention.metric(), loop=True)
    try:
        assert source.frame_count == CLIP_FRAMES
        assert input_fps(None, source) == 24.0
        ntsc = input_fps(parse_fps("24000/1001"), source)
        assert ntsc == pytest.approx(24000 / 1001)
    finally:
        source.close()


def test_scripted_events_parse_and_bad_ones_are_one_line_errors() -> None:
    events = parse_script(clicks=["3,4@0.5"], keys=["D@0"], resizes=["320x240@1"], close_at=2.0)
    assert [(e.time_s, e.kind, e.value) for e in events] == [
        (0.0, "key", "d"),
        (0.5, "click", (3, 4)),
        (1.0, "resize", (320, 240)),
        (2.0, "close", None),
    ]
    bad: list[dict[str, list[str]]] = [
        {"clicks": ["3;4@1"]},
        {"clicks": ["3,4"]},
        {"keys": ["z@1"]},
        {"resizes": ["0x5@1"]},
    ]
    for options in bad:
        with pytest.raises(InputError):
            parse_script(**options)


# --- Real windows under Xvfb ----------------------------------------------------------------


def test_window_screenshot_equals_offscreen_render(
    display: str, scene: Scene, compositor, tmp_path: Path
) -> None:
    shot = tmp_path / "shot.png"
    lens = ["--focus", "2.5", "--f-number", "1.4", "--blades", "6"]
    result = ok(preview(display, [*scene.args, *lens, "--frames", "3", "--screenshot", str(shot)]))
    assert result.stderr == ""
    window = iio.imread(shot).astype(np.int16)
    expected = encode(offscreen(compositor, scene, Lens(focus_m=2.5, f_number=1.4, blades=6)))
    assert window.shape == (H, W, 3)
    assert np.abs(window - expected).max() <= 1
    # the blur is really there: the sharp input differs from what the window shows
    assert np.abs(encode(scene.color) - window).max() > 50


def test_depth_smaller_than_the_colour_previews_as_it_renders(
    display: str, scene: Scene, compositor, tmp_path: Path
) -> None:
    """Depth at a quarter of the colour's size (as phones store it) is upsampled on the
    GPU guided by the colour in the preview as in an offscreen render: the window shows
    the same frame (the contract preview = offscreen), and a click picks the clicked depth."""
    from realtime.frameloop import FrameLoop, StillFrames
    from realtime.pipeline import read_rgb

    small = scene.depth[2::4, 2::4].copy()
    np.save(tmp_path / "small.npy", small)
    args = ["--rgb", str(scene.rgb), "--depth", str(tmp_path / "small.npy")]
    shot = tmp_path / "shot.png"
    lens = ["--focus", "2.5", "--f-number", "1.4"]
    result = ok(preview(display, [*args, *lens, "--frames", "3", "--screenshot", str(shot)]))
    assert result.stderr == ""
    loop = FrameLoop(compositor, StillFrames(scene.color, small))
    expected = encode(read_rgb(loop.compose(0, Lens(focus_m=2.5, f_number=1.4))))
    window = iio.imread(shot).astype(np.int16)
    assert window.shape == (H, W, 3) and np.abs(window - expected).max() <= 1
    click = ["--click", "20,60@0.05", "--rack-duration", "0.05", "--fixed-dt", "0.05"]
    result = ok(preview(display, [*args, *lens, *click, "--frames", "4", "--print-focus"]))
    assert float(result.stdout.strip().splitlines()[-1]) == pytest.approx(NEAR_M, rel=1e-3)


def test_focus_at_picks_the_first_frames_focus(display: str, scene: Scene) -> None:
    """`preview --focus-at X,Y` (pixels or fractions) starts focused on what is there; with
    `--focus auto` on the nearest subject (the near band)."""
    for pick in (["--focus-at", "20,60"], ["--focus-at", "0.125,0.5"], ["--focus", "auto"]):
        result = ok(preview(display, [*scene.args, *pick, "--frames", "2", "--print-focus"]))
        assert float(result.stdout.strip().splitlines()[-1]) == pytest.approx(NEAR_M, rel=1e-3)


def test_scripted_click_racks_to_the_clicked_depth_within_the_duration(
    display: str, scene: Scene
) -> None:
    x, y = 20, 60  # on the near band
    target = pick_depth(scene.depth, x, y)
    common = [*scene.args, "--focus", str(FAR_M), "--fixed-dt", "0.05", "--print-focus"]
    rack = ["--click", f"{x},{y}@0.1", "--rack-duration", "0.2", "--easing", "linear"]

    def focus_after(frames: int) -> float:
        result = ok(preview(display, [*common, *rack, "--frames", str(frames)]))
        return float(result.stdout.strip().splitlines()[-1])

    mid = focus_after(5)  # last frame at t = 0.2: half-way through the rack
    assert target < mid < FAR_M
    assert 1 / mid == pytest.approx((1 / target + 1 / FAR_M) / 2, rel=1e-6)  # linear in dioptres
    assert focus_after(7) == pytest.approx(target, rel=1e-6)  # t = 0.3 = click + duration


def test_resized_window_keeps_showing_the_image(
    display: str, scene: Scene, compositor, tmp_path: Path
) -> None:
    expected_linear = offscreen(compositor, scene, Lens(focus_m=2.5))
    expected = encode(expected_linear)
    common = [*scene.args, "--focus", "2.5", "--fixed-dt", "0.05", "--frames", "4"]

    pillar = tmp_path / "pillar.png"
    ok(preview(display, [*common, "--resize", "320x120@0.05", "--screenshot", str(pillar)]))
    window = iio.imread(pillar).astype(np.int16)
    assert window.shape == (120, 320, 3)
    assert np.abs(window[:, 80:240] - expected).max() <= 1
    assert window[:, :80].max() == 0 and window[:, 240:].max() == 0  # black bars

    double = tmp_path / "double.png"
    ok(preview(display, [*common, "--resize", "320x240@0.05", "--screenshot", str(double)]))
    window = iio.imread(double).astype(np.int16)
    assert window.shape == (240, 320, 3)
    assert np.abs(window - encode(bilinear(expected_linear, (320, 240)))).max() <= 1


def test_a_still_larger_than_the_window_renders_at_the_window_size(
    display: str, large: Scene, compositor, tmp_path: Path
) -> None:
    """A 400x300 still in a 160x120 window is reduced once to 160x120 (colour by area,
    depth keeping its edges) and the chain runs on that: the window shows the offscreen
    render of the reduced input pixel for pixel, not the full-size render scaled down on
    screen. A smaller window renders at its own size."""
    lens = Lens(focus_m=MID_M, f_number=1.4)
    common = [*large.args, "--focus", str(MID_M), "--f-number", "1.4", "--window-size", "160x120"]
    common += ["--fixed-dt", "0.05", "--frames", "3", "--stats"]
    expected = {}
    for size, extra in (((W, H), []), ((80, 60), ["--resize", "80x60@0.05"])):
        shot = tmp_path / f"{size[0]}.png"
        result = ok(preview(display, [*common, *extra, "--screenshot", str(shot)]))
        assert f"input {LARGE_W}x{LARGE_H}, rendered at {size[0]}x{size[1]}" in result.stdout
        assert f"composites {1 + len(extra) // 2}," in result.stdout  # one per size
        small = reduce_frame(large.color, large.depth, size)
        expected[size] = encode(compositor.render(*small, lens))
        window = iio.imread(shot).astype(np.int16)
        assert window.shape == (size[1], size[0], 3)
        assert np.abs(window - expected[size]).max() <= 1
    # what the window showed before: the full-size render, scaled down on screen
    full = compositor.render(large.color, large.depth, lens)
    assert np.abs(encode(bilinear(full, (W, H))) - expected[W, H]).max() > 20


def test_a_smaller_window_picks_the_clicked_depth_and_s_saves_the_full_size(
    display: str, large: Scene, compositor, tmp_path: Path
) -> None:
    """Clicks name image pixels whatever the size rendered; S renders the frame shown at
    the input's full size, equal to the offscreen render."""
    args = [*large.args, "--focus", str(FAR_M), "--f-number", "1.4", "--window-size", "160x120"]
    args += ["--fixed-dt", "0.05", "--frames", "4", "--print-focus", "--save-dir", str(tmp_path)]
    events = ["--click", "30,150@0", "--rack-duration", "0.05", "--key", "s@0.1"]
    result = ok(preview(display, [*args, *events]))
    assert float(result.stdout.strip().splitlines()[-1]) == pytest.approx(NEAR_M, rel=1e-6)
    cues = load_cues(tmp_path / "c-001.toml")
    lens = cues.focus_track(large.depth).lens_at(cues.lens, 0.0)
    assert lens.focus_m == pytest.approx(NEAR_M, rel=1e-6)
    saved = iio.imread(tmp_path / "c-001.png").astype(np.int16)
    assert saved.shape == (LARGE_H, LARGE_W, 3)
    assert np.abs(saved - encode(offscreen(compositor, large, lens))).max() <= 1


def test_closing_the_window_exits_0(display: str, scene: Scene) -> None:
    args = [*scene.args, "--focus", "2", "--fixed-dt", "0.05", "--frames", "100000"]
    result = ok(preview(display, [*args, "--close-at", "0.1", "--stats"]))
    frames = int(result.stdout.split("frames ")[1].split(",")[0])
    assert frames == 2  # t = 0 and 0.05; the close arrives at t = 0.1
    result = ok(preview(display, [*scene.args, "--focus", "2", "--key", "q@0"]))
    assert result.stderr.strip() == "rackfocus preview: press H for help"


def test_idle_frames_do_not_rerun_the_passes(display: str, scene: Scene) -> None:
    args = [*scene.args, "--focus", "2", "--fixed-dt", "0.05", "--frames", "20", "--stats"]
    idle = ok(preview(display, args)).stdout
    assert "frames 20, composites 1," in idle
    racking = ok(preview(display, [*args, "--click", "20,60@0", "--rack-duration", "10"]))
    assert "frames 20, composites 20," in racking.stdout
    keys = ["--key", "b@0.2", "--key", "d@0.3", "--scroll", "1@0.4", "--scroll=-1@0.5"]
    assert "composites 4," in ok(preview(display, [*args, *keys])).stdout  # views: no rerun


def test_debug_views_leave_the_composite_untouched(
    display: str, scene: Scene, compositor, tmp_path: Path
) -> None:
    lens = Lens(focus_m=MID_M, f_number=1.4)
    composite = encode(offscreen(compositor, scene, lens))
    common = [*scene.args, "--focus", str(MID_M), "--f-number", "1.4", "--frames", "2"]
    shots = {}
    for view in VIEWS:
        shots[view] = tmp_path / f"{view}.png"
        ok(preview(display, [*common, "--view", view, "--screenshot", str(shots[view])]))
    split = iio.imread(shots["split"]).astype(np.int16)
    assert np.abs(split[:, : W // 2] - encode(scene.color)[:, : W // 2]).max() <= 1  # before
    assert split[:, W // 2].min() == 255  # the line
    assert np.abs(split[:, W // 2 + 1 :] - composite[:, W // 2 + 1 :]).max() <= 1  # after
    depth = iio.imread(shots["depth"])
    assert depth[60, 10].min() == 255 and depth[10, 150].max() == 0  # nearest white, far black
    coc = iio.imread(shots["coc"]).astype(np.int16)
    assert coc[60, 80, 1] > coc[60, 80, 0]  # in focus: green
    assert coc[60, 10, 0] > coc[60, 10, 2] and coc[10, 150, 2] > coc[10, 150, 0]  # warm / cool
    peaking = iio.imread(shots["peaking"]).astype(np.int16)
    marked = (peaking != composite).any(axis=2)
    assert marked[40:80, 60:110].any() and not marked[:, :50].any()  # only the focused box


def test_fullscreen_letterboxes_the_image_on_the_monitor(
    display: str, scene: Scene, tmp_path: Path
) -> None:
    shot = tmp_path / "full.png"
    args = [*scene.args, "--focus", "2", "--fixed-dt", "0.05", "--frames", "4"]
    ok(preview(display, [*args, "--key", "f@0.05", "--screenshot", str(shot)]))
    window = iio.imread(shot)
    assert window.shape == (SCREEN[1], SCREEN[0], 3)
    box = letterbox((W, H), SCREEN)
    assert window[:, : box.x].max() == 0 and window[:, box.x + box.w :].max() == 0
    assert window[:, box.x : box.x + box.w].mean() > 50


def test_s_saves_the_composite_and_a_cue_file_that_reproduces_it(
    display: str, scene: Scene, compositor, tmp_path: Path
) -> None:
    args = [*scene.args, "--focus", "6", "--fixed-dt", "0.05", "--frames", "6"]
    events = ["--click", "80,60@0", "--rack-duration", "0.1", "--scroll=-3@0", "--key", "s@0.2"]
    result = ok(preview(display, [*args, *events, "--save-dir", str(tmp_path)]))
    assert "saved" in result.stdout
    cues = load_cues(tmp_path / "c-001.toml")
    lens = cues.focus_track(scene.depth).lens_at(cues.lens, 0.0)
    assert lens.focus_m == pytest.approx(MID_M) and lens.f_number == pytest.approx(2.0 * 2**0.5)
    saved = iio.imread(tmp_path / "c-001.png").astype(np.int16)
    assert np.abs(saved - encode(offscreen(compositor, scene, lens))).max() <= 1


def test_cues_play_to_their_last_key(display: str, scene: Scene, tmp_path: Path) -> None:
    cue = tmp_path / "shot.toml"
    cue.write_text(
        f'[input]\nrgb = "{scene.rgb}"\ndepth = "{scene.depth_path}"\n'
        "[[focus]]\ntime = 0.0\ndistance = 6.0\n"
        "[[focus]]\ntime = 0.2\npixel = [10, 60]\nf_number = 4.0\n"
    )
    args = [*scene.args, "--cues", str(cue), "--fixed-dt", "0.05", "--print-focus"]
    assert float(ok(preview(display, [*args, "--frames", "2"])).stdout) == 6.0  # not playing
    assert float(ok(preview(display, [*args, "--frames", "6", "--play"])).stdout) == NEAR_M


def test_no_display_is_one_line_and_exit_2(scene: Scene) -> None:
    result = preview(None, [*scene.args, "--focus", "2", "--frames", "1"])
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "rackfocus: error: no display: run under xvfb-run or set DISPLAY"
    )


def test_bad_script_fails_before_opening_a_window(scene: Scene) -> None:
    result = preview(None, [*scene.args, "--focus", "2", "--click", "500,5@0"])
    assert result.returncode == 2
    assert "outside the 160x120 image" in result.stderr


# --- Sequences and videos -------------------------------------------------------------------


def clip_shot(
    display: str, args: list[str], frames: int, path: Path, extra: Sequence[str] = ()
) -> tuple[np.ndarray, str]:
    """(screenshot codes, --stats line) after `frames` frames 0.05 s apart."""
    lens = ["--focus", str(CLIP_LENS.focus_m), "--f-number", str(CLIP_LENS.f_number)]
    steps = ["--fixed-dt", "0.05", "--frames", str(frames), "--stats"]
    result = ok(preview(display, [*args, *lens, *steps, *extra, "--screenshot", str(path)]))
    return iio.imread(path).astype(np.int16), result.stdout


def test_sequence_plays_loops_and_pauses(
    display: str, clip: Clip, compositor, tmp_path: Path
) -> None:
    expected = [
        encode(compositor.render(c, d, CLIP_LENS))
        for c, d in zip(clip.colors, clip.depths, strict=True)
    ]
    assert np.abs(expected[1] - expected[0]).max() > 100  # the frames differ clearly
    args = [*clip.args, "--fps", str(CLIP_FPS)]
    # t = 0.15 s: input frame 1; the passes ran for frames 0 and 1 only; S saves frame 1
    save = ["--key", "s@0.15", "--save-dir", str(tmp_path)]
    window, stats = clip_shot(display, args, 4, tmp_path / "one.png", save)
    assert np.abs(window - expected[1]).max() <= 1
    assert "frames 4, composites 2," in stats
    saved = iio.imread(tmp_path / "rgb_1002-001.png").astype(np.int16)
    assert np.abs(saved - expected[1]).max() <= 1
    cues = load_cues(tmp_path / "rgb_1002-001.toml")  # names the frame's files
    assert (cues.input.rgb.name, cues.input.depth.name) == ("rgb_1002.png", "depth_1002.npy")
    # t = 0.4 s: frames 0, 1, 2, then 0 and 1 again (input frame 4 mod 3)
    window, stats = clip_shot(display, args, 9, tmp_path / "wrap.png")
    assert np.abs(window - expected[1]).max() <= 1
    assert "frames 9, composites 5," in stats
    # space at t = 0.25 s pauses on frame 2
    window, stats = clip_shot(display, args, 9, tmp_path / "paused.png", ["--key", "space@0.25"])
    assert np.abs(window - expected[2]).max() <= 1
    assert "frames 9, composites 3," in stats


def test_video_pair_plays_at_the_video_frame_rate(display: str, compositor, tmp_path: Path) -> None:
    rgb, depth = tmp_path / "rgb.mkv", tmp_path / "depth.mkv"
    frames = [clip_frame(i) for i in range(CLIP_FRAMES)]
    writer = VideoWriter(rgb, (W, H), CLIP_FPS, "lossless")
    for k, (color, _) in enumerate(frames):
        writer.write(k, color)
    writer.finish()
    write_depth_video(depth, [np.rint(d * 1000).astype(np.uint16) for _, d in frames], CLIP_FPS)
    source = open_frames(rgb, depth, DepthConvention.scaled(0.001))
    try:
        color, metres = source.read(2)
    finally:
        source.close()
    expected = encode(compositor.render(color, metres, CLIP_LENS))
    args = ["--rgb", str(rgb), "--depth", str(depth), "--depth-scale", "0.001"]
    # t = 0.5 s at the videos' 10 fps: input frame 5 mod 3
    window, stats = clip_shot(display, args, 11, tmp_path / "video.png")
    assert np.abs(window - expected).max() <= 1
    assert "frames 11, composites 6," in stats
