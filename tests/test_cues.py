"""Cue files: a valid file loads into the expected dataclasses; every error names file:line:key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from realtime.cues import CueError, CueInput, CueOutput, Cues, cue_text, load_cues
from realtime.errors import InputError
from realtime.focus import AutoTarget, PixelTarget, TargetKey
from realtime.lens import Lens
from realtime.sources.depth import DepthConvention
from realtime.tomlfile import KeyLines

VALID = """\
# A rack from the table to the window.
[lens]
focal_length_mm = 50
f_number = 2.0
sensor_width_mm = 36

[input]
rgb = "color.png"        # paths relative to the cue file
depth = "depth.png"
depth_scale = 0.0002

[[focus]]
time = 0.0
distance = 1.2
[[focus]]
time = 2.0
pixel = [320, 200]       # pick depth at x=320, y=200
easing = "smoothstep"
f_number = 2.8
[[focus]]
time = 3.0
auto = true

[output]
path = "out.mp4"
fps = 24
duration = 3.0
size = [960, 540]
codec = "h264"
quality = 8
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


@pytest.fixture
def shot(tmp_path: Path) -> Path:
    """A folder with the input files a cue file names (their content is not read)."""
    (tmp_path / "color.png").write_bytes(b"")
    (tmp_path / "depth.png").write_bytes(b"")
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "show.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_round_trips(shot: Path) -> None:
    path = write(shot, VALID)
    cues = load_cues(path)
    assert cues == Cues(
        path=path,
        lens=Lens(focal_length_mm=50.0, f_number=2.0, sensor_width_mm=36.0),
        input=CueInput(shot / "color.png", shot / "depth.png", DepthConvention.scaled(0.0002)),
        focus=(
            TargetKey(0.0, 1.2),
            TargetKey(2.0, PixelTarget(320, 200), 2.8, "smoothstep"),
            TargetKey(3.0, AutoTarget()),
        ),
        output=CueOutput(shot / "out.mp4", 24.0, 3.0, (960, 540), "h264", 8),
        focus_lines=(
            line_of(VALID, "[[focus]]", 1),
            line_of(VALID, "[[focus]]", 2),
            line_of(VALID, "[[focus]]", 3),
        ),
    )
    assert cues.output.frame_count == 72


def test_focus_track_resolves_picks_against_a_depth_map(shot: Path) -> None:
    cues = load_cues(write(shot, VALID))
    depth = np.full((480, 640), 4.0)
    depth[200, 320] = np.nan  # a hole under the click: the median ignores it
    depth[220:260, 300:340] = 0.9  # the subject at the centre
    track = cues.focus_track(depth)
    assert [k.distance_m for k in track.keys] == [1.2, 4.0, 0.9]
    lens = track.lens_at(cues.lens, 2.0)
    assert (lens.focus_m, lens.f_number) == (4.0, 2.8)
    assert track.lens_at(cues.lens, 0.0).f_number == 2.0  # the lens's until a key sets one


def test_defaults_and_other_depth_encodings(shot: Path) -> None:
    text = '[input]\nrgb = "color.png"\ndepth = "depth.png"\ndisparity = 120.5\n'
    cues = load_cues(write(shot, text))
    assert cues.lens == Lens()
    assert cues.input.convention == DepthConvention.disparity(120.5)
    assert cues.focus == ()
    assert cues.output == CueOutput()
    assert cues.focus_track().focus_at(5.0) == Lens().focus_m
    text = text.replace("disparity = 120.5", "inverse_depth = [0.5, 20]")
    assert load_cues(write(shot, text)).input.convention == DepthConvention.inverse(0.5, 20.0)
    assert load_cues(write(shot, text.replace("inverse_depth = [0.5, 20]", ""))).input == CueInput(
        shot / "color.png", shot / "depth.png", DepthConvention.metric()
    )


@pytest.mark.parametrize(
    "convention",
    [
        DepthConvention.metric(),
        DepthConvention.scaled(0.0002),
        DepthConvention.disparity(120.5),
        DepthConvention.inverse(0.5, 20.0),
    ],
)
def test_cue_text_loads_back_to_the_same_lens_inputs_and_convention(
    shot: Path, convention: DepthConvention
) -> None:
    lens = Lens(focal_length_mm=85.0, f_number=1.4, focus_m=2.5, blades=6, max_coc_px=48.0)
    path = write(shot, cue_text(lens, shot / "color.png", shot / "depth.png", convention))
    cues = load_cues(path)
    assert cues.input == CueInput(
        (shot / "color.png").resolve(), (shot / "depth.png").resolve(), convention
    )
    assert cues.focus_track().lens_at(cues.lens, 0.0) == lens


def test_duration_defaults_to_the_last_key(shot: Path) -> None:
    text = VALID.replace("duration = 3.0\n", "")
    assert load_cues(write(shot, text)).output.duration_s == 3.0


def edit(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


# (cue text, text on the expected line, key or None, message fragment)
ERRORS = [
    pytest.param(
        edit('easing = "smoothstep"', 'easing = "bouncy"'),
        'easing = "bouncy"',
        "easing",
        "[[focus]] #2 key 'easing': unknown easing 'bouncy' "
        "(expected linear, smoothstep, cubic, focus_puller)",
        id="unknown-easing",
    ),
    pytest.param(
        edit("fps = 24", "fps = 24\nfps = 25"),
        "fps = 25",
        None,
        "TOML syntax error",
        id="syntax",
    ),
    pytest.param(
        edit("[lens]", "[camera]\niso = 100\n[lens]"),
        "[camera]",
        "camera",
        "[camera]: unknown section (expected lens, input, focus, output)",
        id="unknown-section",
    ),
    pytest.param(
        edit("f_number = 2.0", "fnumber = 2.0"),
        "fnumber",
        "fnumber",
        "[lens] key 'fnumber': unknown key (expected one of focal_length_mm, f_number",
        id="unknown-key",
    ),
    pytest.param(
        edit("f_number = 2.0", 'f_number = "2"'),
        'f_number = "2"',
        "f_number",
        "[lens] key 'f_number': expected a number, got '2'",
        id="wrong-type",
    ),
    pytest.param(
        edit("quality = 8", "quality = 11"),
        "quality = 11",
        "quality",
        "[output] key 'quality': must be in 0..10, got 11",
        id="out-of-range",
    ),
    pytest.param(
        edit("size = [960, 540]", "size = [960]"),
        "size = [960]",
        "size",
        "[output] key 'size': expected two integers",
        id="bad-size",
    ),
    pytest.param(
        edit("f_number = 2.0", "f_number = -1"),
        "f_number = -1",
        "f_number",
        "[lens] key 'f_number': f-number must be positive, got -1.0",
        id="lens-rejects",
    ),
    pytest.param(
        edit("time = 3.0", "time = 1.5"),
        "time = 1.5",
        "time",
        "[[focus]] #3 key 'time': 1.5 s is not after the previous key's 2.0 s",
        id="not-increasing",
    ),
    pytest.param(
        edit("pixel = [320, 200]", "distance = 2.0\npixel = [320, 200]"),
        "pixel = [320, 200]",
        "pixel",
        "[[focus]] #2 key 'pixel': 'distance' is already given",
        id="several-targets",
    ),
    pytest.param(
        edit("distance = 1.2", "distance = 0.02"),
        "distance = 0.02",
        "distance",
        "must be beyond the focal length",
        id="focus-inside-focal-length",
    ),
    pytest.param(
        edit('codec = "h264"', 'codec = "divx"'),
        'codec = "divx"',
        "codec",
        "[output] key 'codec': unknown codec 'divx' (expected h264, prores, lossless, png, "
        "exr, tif)",
        id="unknown-codec",
    ),
    pytest.param(
        edit('depth = "depth.png"', 'depth = "missing.png"'),
        'depth = "missing.png"',
        "depth",
        "[input] key 'depth': no such file",
        id="missing-input",
    ),
    pytest.param(
        edit("depth_scale = 0.0002", "depth_scale = 0.0002\ndisparity = 100"),
        "disparity = 100",
        "disparity",
        "'depth_scale' is already given",
        id="two-depth-encodings",
    ),
    pytest.param(
        "[focus]\ntime = 0\ndistance = 1\n",
        "[focus]",
        "focus",
        "[focus]: expected an array of tables, written [[focus]]",
        id="focus-not-array",
    ),
    pytest.param(
        edit("time = 0.0\n", ""),
        "[[focus]]",
        "time",
        "[[focus]] #1 key 'time': missing (required)",
        id="missing-key",
    ),
    pytest.param(
        edit("[lens]", "[[lens]]"),
        "[[lens]]",
        "lens",
        "[lens]: expected a table, written [lens]",
        id="lens-not-table",
    ),
]


@pytest.mark.parametrize(("text", "line_text", "key", "message"), ERRORS)
def test_errors_name_file_line_and_key(
    shot: Path, text: str, line_text: str, key: str | None, message: str
) -> None:
    path = write(shot, text)
    with pytest.raises(CueError) as info:
        load_cues(path)
    error = info.value
    line = line_of(text, line_text)
    assert str(error).startswith(f"{path}:{line}: "), str(error)
    assert message in str(error)
    assert (error.path, error.line, error.key) == (str(path), line, key)
    assert "\n" not in str(error)
    assert isinstance(error, InputError)


def test_no_target_points_at_the_focus_table(shot: Path) -> None:
    text = edit("auto = true", "easing = 'linear'")
    path = write(shot, text)
    with pytest.raises(CueError) as info:
        load_cues(path)
    line = line_of(text, "[[focus]]", 3)
    assert str(info.value) == f"{path}:{line}: [[focus]] #3: needs one of distance, pixel, auto"
    assert (info.value.line, info.value.key) == (line, None)


def test_missing_file_and_missing_input(tmp_path: Path) -> None:
    with pytest.raises(CueError, match=r"nope.toml: cannot read cue file: No such file"):
        load_cues(tmp_path / "nope.toml")
    with pytest.raises(CueError, match=r"show.toml: \[input\]: missing section"):
        load_cues(write(tmp_path, "[lens]\nf_number = 2\n"))


def test_failed_pick_reports_the_key_line(shot: Path) -> None:
    path = write(shot, VALID)
    cues = load_cues(path)
    depth = np.full((100, 100), 2.0)  # too small: pixel (320, 200) is outside
    with pytest.raises(CueError) as info:
        cues.focus_track(depth)
    assert str(info.value).startswith(f"{path}:{line_of(VALID, '[[focus]]', 2)}: [[focus]] #2 ")
    assert "key 'pixel': pixel (320, 200) is outside the 100x100 depth map" in str(info.value)


def test_key_lines_scanner() -> None:
    text = 'a = 1\n[t]\nb = """\nc = 2\n"""\n"d" = 3\n[[arr]]\ne = 4\n[[arr]]\ne = 5\n'
    lines = KeyLines.scan(text)
    assert lines.find("", 0, "a") == 1
    assert lines.find("t", 0, "b") == 3
    assert lines.find("t", 0, "c") == 2  # inside a multi-line string: falls back to [t]
    assert lines.find("t", 0, "d") == 6
    assert lines.find("arr", 2, "e") == 10
    assert lines.find("", 0, "arr") == 7
