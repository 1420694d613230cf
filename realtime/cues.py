"""Cue files: a TOML description of a shot (lens, inputs, focus keys, output).

    [lens]                      # any Lens field; all optional
    focal_length_mm = 50
    f_number = 2.0

    [input]                     # paths relative to the cue file
    rgb = "color.png"
    depth = "depth.png"
    depth_scale = 0.0002        # metres per stored unit (default: float metres); or
                                # disparity = FB (depth = FB / value), or
                                # inverse_depth = [near, far] (1 = near, 0 = far)

    [[focus]]                   # optional, times strictly increasing
    time = 0.0
    distance = 1.2              # exactly one of distance (m), pixel = [x, y] (integers:
                                # pixels; with a decimal point: fractions 0..1), auto = true
    easing = "smoothstep"       # easing of the segment ending here
    f_number = 2.8              # optional; a key without one keeps the previous value

    [output]                    # optional
    path = "out.mp4"
    fps = 24
    duration = 3.0              # default: the last focus key's time
    size = [960, 540]           # default: the input's size
    codec = "h264"              # h264 | prores | lossless | png | exr | tif
    quality = 8                 # 0..10

Every problem raises CueError with a one-line message naming the file, the line
and the key, e.g. `show.toml:14: [[focus]] #2 key 'easing': unknown easing ...`.
`cue_text` writes the other way: a lens and its inputs as a cue file (the
preview's S key saves one).
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.focus import (
    DEFAULT_EASING,
    AutoTarget,
    FocusKey,
    FocusTarget,
    FocusTrack,
    FractionTarget,
    PixelTarget,
    TargetKey,
    easing,
    resolve_target,
)
from realtime.lens import Lens
from realtime.outputs import CODECS, DEFAULT_CODEC, DEFAULT_FPS
from realtime.outputs.video import DEFAULT_QUALITY, QUALITY_RANGE
from realtime.sources.depth import DepthConvention
from realtime.sources.images import PathLike
from realtime.tomlfile import Table, TomlError, read_toml, toml_error, toml_repr, toml_value

SECTIONS = ("lens", "input", "focus", "output")  # top-level tables a cue file may hold
TARGET_KEYS = ("distance", "pixel", "auto")  # a [[focus]] key takes exactly one of these
TARGET_LIST = ", ".join(TARGET_KEYS)
DEPTH_KEYS = ("depth_scale", "disparity", "inverse_depth")  # [input] keys naming the encoding

CueError = TomlError  # a cue file's problems: file, line and key in one line


@dataclass(frozen=True)
class CueInput:
    """The images a shot is composited from."""

    rgb: Path  # colour image, resolved against the cue file's folder
    depth: Path  # depth image, same
    convention: DepthConvention = DepthConvention()  # how stored depth values become metres


@dataclass(frozen=True)
class CueOutput:
    """What to render and where."""

    path: Path | None = None  # where to write; None leaves it to the front end
    fps: float = DEFAULT_FPS  # frames per second
    duration_s: float = 0.0  # clip length; 0 renders a single frame at t = 0
    size: tuple[int, int] | None = None  # (width, height); None: the input's size
    codec: str = DEFAULT_CODEC  # one of CODECS
    quality: int = DEFAULT_QUALITY  # encoder quality, QUALITY_RANGE

    @property
    def frame_count(self) -> int:
        """Frames in the clip, at least one."""
        return max(1, round(self.duration_s * self.fps))


@dataclass(frozen=True)
class Cues:
    """A loaded cue file. Pixel and auto focus keys are resolved later, against a depth map."""

    path: Path  # the cue file
    lens: Lens  # lens and default focus
    input: CueInput  # source images
    focus: tuple[TargetKey, ...]  # focus keys, times strictly increasing; may be empty
    output: CueOutput  # render settings
    focus_lines: tuple[int | None, ...] = ()  # line of each [[focus]] header, for messages

    def focus_track(self, depth_m: np.ndarray | None = None) -> FocusTrack:
        """The focus track with pixel/auto keys picked from `depth_m` (metres).

        Without focus keys the track holds the lens's focus. A pick that fails, or
        lands inside the focal length, raises CueError at that key's line.
        """
        if not self.focus:
            return FocusTrack((FocusKey(0.0, self.lens.focus_m),))
        keys = []
        for i, key in enumerate(self.focus):
            name = _target_key_name(key.target)
            try:
                distance = resolve_target(key.target, depth_m)
                self.lens.with_focus(distance)
            except InputError as e:
                line = self.focus_lines[i] if i < len(self.focus_lines) else None
                raise toml_error(str(self.path), line, f"[[focus]] #{i + 1}", name, str(e)) from e
            keys.append(FocusKey(key.time_s, distance, key.f_number, key.easing))
        return FocusTrack(tuple(keys))


def _target_key_name(target: FocusTarget) -> str:
    if isinstance(target, PixelTarget | FractionTarget):
        return "pixel"
    if isinstance(target, AutoTarget):
        return "auto"
    return "distance"


# --- Sections -------------------------------------------------------------------------------


def _lens_field_types() -> dict[str, type]:
    """Lens field -> the TOML value type it takes (int, or float which also accepts integers)."""
    hints = typing.get_type_hints(Lens)
    out: dict[str, type] = {}
    for f in fields(Lens):
        hint = hints[f.name]
        if hint is int:
            out[f.name] = int
        elif hint in (float, float | None):
            out[f.name] = float
        else:  # a new Lens field type needs a rule here
            raise TypeError(f"cue files cannot set Lens.{f.name} of type {hint}")
    return out


LENS_KEYS = _lens_field_types()  # [lens] keys and their types: exactly Lens's fields


def _load_lens(table: Table) -> Lens:
    table.check_keys(LENS_KEYS)
    values: dict[str, float | int] = {}
    for key in table.data:
        values[key] = table.integer(key) if LENS_KEYS[key] is int else table.number(key)
    try:
        return Lens(**values)  # type: ignore[arg-type]
    except InputError as e:
        # Blame the first key, in file order, whose addition makes Lens reject the values.
        so_far: dict[str, float | int] = {}
        for key, value in values.items():
            so_far[key] = value
            try:
                Lens(**so_far)  # type: ignore[arg-type]
            except InputError as inner:
                table.fail(key, str(inner))
        table.fail(None, str(e))


def _load_input(table: Table, base: Path) -> CueInput:
    table.check_keys(("rgb", "depth", *DEPTH_KEYS))
    rgb = table.file("rgb", base)
    depth = table.file("depth", base)
    return CueInput(rgb, depth, load_convention(table))


def load_convention(table: Table) -> DepthConvention:
    """The depth convention a table's depth_scale, disparity or inverse_depth key names
    (float metres when none does); one of them at most. Cue files and show configs."""
    given = [k for k in DEPTH_KEYS if table.has(k)]
    if len(given) > 1:
        table.fail(given[1], f"'{given[0]}' is already given; use one of {', '.join(DEPTH_KEYS)}")
    if given == ["depth_scale"]:
        return DepthConvention.scaled(table.number("depth_scale", positive=True))
    if given == ["disparity"]:
        return DepthConvention.disparity(table.number("disparity", positive=True))
    if given == ["inverse_depth"]:
        value = table.data["inverse_depth"]
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            table.fail("inverse_depth", f"expected [near, far] in metres, got {toml_repr(value)}")
        near, far = float(value[0]), float(value[1])
        if not (math.isfinite(far) and 0 < near < far):
            table.fail("inverse_depth", f"need 0 < near < far, got [{near}, {far}]")
        return DepthConvention.inverse(near, far)
    return DepthConvention.metric()


def _depth_lines(convention: DepthConvention) -> list[str]:
    """The [input] line naming `convention` (none for float metres): _load_input's inverse."""
    if convention.kind == "scaled":
        return [f"depth_scale = {toml_value(float(convention.scale or 0))}"]
    if convention.kind == "disparity":
        return [f"disparity = {toml_value(float(convention.focal_baseline or 0))}"]
    if convention.kind == "inverse":
        return [f"inverse_depth = {toml_value([convention.near_m, convention.far_m])}"]
    return []


def _load_focus_key(table: Table, lens: Lens) -> TargetKey:
    table.check_keys(("time", *TARGET_KEYS, "easing", "f_number"))
    time_s = table.number("time", minimum=0.0)
    given = [k for k in TARGET_KEYS if table.has(k) and table.data[k] is not False]
    if not given:
        table.fail(None, f"needs one of {TARGET_LIST}")
    if len(given) > 1:
        table.fail(given[1], f"'{given[0]}' is already given; a key takes one of {TARGET_LIST}")
    target: FocusTarget
    if given[0] == "distance":
        target = table.number("distance", positive=True)
        try:
            lens.with_focus(target)
        except InputError as e:
            table.fail("distance", str(e))
    elif given[0] == "pixel":
        raw = table.data["pixel"]
        raw = raw if isinstance(raw, list) else []
        value = [v for v in raw if type(v) in (int, float)]
        if len(value) == len(raw) == 2 and any(isinstance(v, float) for v in value):
            # [0.5, 0.4]: fractions of the width and height
            if not all(0.0 <= v <= 1.0 for v in value):
                table.fail("pixel", f"fractions must lie in 0..1, got {toml_repr(value)}")
            target = FractionTarget(float(value[0]), float(value[1]))
        else:
            x, y = table.int_pair("pixel", minimum=0)
            target = PixelTarget(x, y)
    else:
        if table.data["auto"] is not True:
            table.fail("auto", f"expected true, got {toml_repr(table.data['auto'])}")
        target = AutoTarget()
    name = table.string("easing", DEFAULT_EASING)
    try:
        easing(name)
    except InputError as e:
        table.fail("easing", str(e))
    f_number = None
    if table.has("f_number"):
        f_number = table.number("f_number")
        try:
            replace(lens, f_number=f_number)
        except InputError as e:
            table.fail("f_number", str(e))
    return TargetKey(time_s, target, f_number, name)


def _load_output(table: Table, base: Path, last_key_s: float) -> CueOutput:
    table.check_keys(("path", "fps", "duration", "size", "codec", "quality"))
    return CueOutput(
        path=base / table.string("path") if table.has("path") else None,
        fps=table.number("fps", DEFAULT_FPS, positive=True),
        duration_s=table.number("duration", last_key_s, minimum=0.0),
        size=table.int_pair("size", minimum=1) if table.has("size") else None,
        codec=table.choice("codec", CODECS, DEFAULT_CODEC),
        quality=table.integer("quality", DEFAULT_QUALITY, QUALITY_RANGE),
    )


def load_cues(path: str | Path) -> Cues:
    """Read and check a cue file; every problem is a CueError naming file, line and key."""
    name = str(path)
    path = Path(path)
    data, lines = read_toml(path, "cue file")
    base = path.parent

    def section_error(key: str, msg: str) -> CueError:
        line = lines.find("", 0, key)
        return CueError(f"{name}:{line}: [{key}]: {msg}", name, line, key)

    for key, value in data.items():
        if key not in SECTIONS:
            raise section_error(key, f"unknown section (expected {', '.join(SECTIONS)})")
        if key == "focus":
            if not isinstance(value, list) or not all(isinstance(k, dict) for k in value):
                raise section_error(key, "expected an array of tables, written [[focus]]")
        elif not isinstance(value, dict):
            raise section_error(key, f"expected a table, written [{key}]")
    if "input" not in data:
        raise toml_error(name, None, "[input]", None, "missing section (needs rgb and depth)")

    def table(section: str) -> Table:
        return Table(name, lines, section, 0, data.get(section, {}))

    lens = _load_lens(table("lens"))
    cue_input = _load_input(table("input"), base)
    raw_keys = data.get("focus", [])
    keys: list[TargetKey] = []
    focus_lines: list[int | None] = []
    for i, raw in enumerate(raw_keys, start=1):
        key_table = Table(name, lines, "focus", i, raw)
        focus_key = _load_focus_key(key_table, lens)
        if keys and not focus_key.time_s > keys[-1].time_s:
            key_table.fail(
                "time", f"{focus_key.time_s} s is not after the previous key's {keys[-1].time_s} s"
            )
        keys.append(focus_key)
        focus_lines.append(lines.find("focus", i))

    output = _load_output(table("output"), base, keys[-1].time_s if keys else 0.0)
    return Cues(path, lens, cue_input, tuple(keys), output, tuple(focus_lines))


def cue_text(lens: Lens, rgb: PathLike, depth: PathLike, convention: DepthConvention) -> str:
    """A cue file that reproduces `lens` (its focus as one key) on the inputs `rgb`, `depth`.

    Paths are written absolute, so the file works wherever it is moved; load_cues
    of the text gives back the same lens, inputs and convention.
    """
    lines = ["# Saved by rackfocus preview.", "[lens]"]
    for name, value in vars(lens).items():
        if value is not None and name != "focus_m":
            lines.append(f"{name} = {toml_value(value)}")
    lines += ["", "[input]"]
    lines.append(f"rgb = {toml_value(Path(rgb).resolve())}")
    lines.append(f"depth = {toml_value(Path(depth).resolve())}")
    lines += _depth_lines(convention)
    lines += ["", "[[focus]]", "time = 0.0", f"distance = {toml_value(lens.focus_m)}"]
    if lens.artistic_blur_px is None:
        lines.append(f"f_number = {toml_value(lens.f_number)}")
    return "\n".join(lines) + "\n"
