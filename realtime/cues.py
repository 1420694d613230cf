"""Cue files: a TOML description of a shot (lens, inputs, focus keys, output).

    [lens]                      # any Lens field; all optional
    focal_length_mm = 50
    f_number = 2.0

    [input]                     # paths relative to the cue file
    rgb = "color.png"
    depth = "depth.png"
    depth_scale = 0.0002        # metres per stored unit (default 1); or
                                # disparity = FB (depth = FB / value), or
                                # inverse_depth = [near, far] (1 = near, 0 = far)

    [[focus]]                   # optional, times strictly increasing
    time = 0.0
    distance = 1.2              # exactly one of distance (m), pixel = [x, y], auto = true
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
"""

from __future__ import annotations

import math
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import NoReturn

import numpy as np

from realtime.errors import InputError
from realtime.focus import (
    DEFAULT_EASING,
    AutoTarget,
    FocusKey,
    FocusTarget,
    FocusTrack,
    PixelTarget,
    TargetKey,
    easing,
    resolve_target,
)
from realtime.lens import Lens

CODECS = ("h264", "prores", "lossless", "png", "exr", "tif")  # output encodings
DEFAULT_CODEC = "h264"  # codec when [output] names none
DEFAULT_FPS = 24.0  # frame rate when [output] names none
DEFAULT_QUALITY = 8  # encoder quality when [output] names none
QUALITY_RANGE = (0, 10)  # imageio-ffmpeg's quality scale, 10 best
SECTIONS = ("lens", "input", "focus", "output")  # top-level tables a cue file may hold
TARGET_KEYS = ("distance", "pixel", "auto")  # a [[focus]] key takes exactly one of these
TARGET_LIST = ", ".join(TARGET_KEYS)


class CueError(InputError):
    """A bad cue file; the message is `file:line: [section] key 'name': what is wrong`."""

    def __init__(self, message: str, path: str, line: int | None, key: str | None) -> None:
        super().__init__(message)
        self.path = path  # the cue file, as given
        self.line = line  # 1-based line of the problem, None if unknown
        self.key = key  # the offending key, None for a whole section


@dataclass(frozen=True)
class DepthScale:
    """Depth is stored as metres / metres_per_unit (e.g. 0.001 for millimetre PNGs)."""

    metres_per_unit: float = 1.0  # metres per stored unit


@dataclass(frozen=True)
class Disparity:
    """Disparity is stored: depth_m = focal_baseline / value (0 = no data)."""

    focal_baseline: float  # focal length in px times baseline in metres


@dataclass(frozen=True)
class InverseDepth:
    """Normalised inverse depth is stored: 1/depth = lerp(1/far_m, 1/near_m, value)."""

    near_m: float  # depth of stored value 1
    far_m: float  # depth of stored value 0


DepthEncoding = DepthScale | Disparity | InverseDepth


@dataclass(frozen=True)
class CueInput:
    """The images a shot is composited from."""

    rgb: Path  # colour image, resolved against the cue file's folder
    depth: Path  # depth image, same
    encoding: DepthEncoding = DepthScale()  # how stored depth values become metres


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
                raise _cue_error(str(self.path), line, f"[[focus]] #{i + 1}", name, str(e)) from e
            keys.append(FocusKey(key.time_s, distance, key.f_number, key.easing))
        return FocusTrack(tuple(keys))


def _target_key_name(target: FocusTarget) -> str:
    if isinstance(target, PixelTarget):
        return "pixel"
    if isinstance(target, AutoTarget):
        return "auto"
    return "distance"


def _cue_error(path: str, line: int | None, where: str, key: str | None, msg: str) -> CueError:
    at = f"{path}:{line}" if line is not None else path
    what = f"{where} key '{key}'" if key is not None else where
    return CueError(f"{at}: {what}: {msg}", path, line, key)


# --- Line numbers ---------------------------------------------------------------------------
# tomllib reports lines only for syntax errors, so keys are located by scanning the text:
# a line `[name]` or `[[name]]` opens a table (array tables are numbered from 1 in order),
# a line `key = ...` records the key in the current table. Lines inside multi-line strings
# are skipped. Inline tables and dotted keys are not followed; their keys fall back to the
# line of the table that holds them. The result is only used to point messages at a line.

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


@dataclass(frozen=True)
class KeyLines:
    """1-based line numbers of the tables and keys of a TOML text."""

    tables: Mapping[tuple[str, int], int]  # (table, index) -> header line; index 0: plain table
    keys: Mapping[tuple[str, int, str], int]  # (table, index, key) -> line; table "" is the root

    @classmethod
    def scan(cls, text: str) -> KeyLines:
        """Scan `text` (see the comment above for what is understood)."""
        tables: dict[tuple[str, int], int] = {}
        keys: dict[tuple[str, int, str], int] = {}
        counts: dict[str, int] = {}
        table = ("", 0)
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if in_string in line:
                    in_string = None
                continue
            if m := _HEADER.match(line):
                name = m.group(2).strip("\"' ")
                index = 0
                if m.group(1) == "[[":
                    index = counts[name] = counts.get(name, 0) + 1
                table = (name, index)
                tables.setdefault(table, number)
            elif m := _KEY.match(line):
                keys.setdefault((*table, m.group(1).strip("\"'")), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
        return cls(tables, keys)

    def find(self, table: str, index: int, key: str | None = None) -> int | None:
        """Line of `key` in a table (or of the table itself), falling back to the table."""
        if key is not None:
            if (table, index, key) in self.keys:
                return self.keys[(table, index, key)]
            if table == "":
                return self.tables.get((key, 0), self.tables.get((key, 1)))
        return self.tables.get((table, index))


# --- Typed access to one table --------------------------------------------------------------

_MISSING = object()


class _Table:
    """One table of the cue file: typed getters that raise CueError with file, line and key."""

    def __init__(
        self, path: str, lines: KeyLines, name: str, index: int, data: Mapping[str, object]
    ) -> None:
        self.path = path
        self.lines = lines
        self.name = name
        self.index = index
        self.data = data
        self.label = f"[[{name}]] #{index}" if index else f"[{name}]"

    def fail(self, key: str | None, msg: str) -> NoReturn:
        """Raise CueError at the line of `key` (or of this table when key is None or absent)."""
        raise _cue_error(
            self.path, self.lines.find(self.name, self.index, key), self.label, key, msg
        )

    def check_keys(self, known: Iterable[str]) -> None:
        """Reject the first key, in file order, that is not in `known`."""
        known = tuple(known)
        for key in self.data:
            if key not in known:
                self.fail(key, f"unknown key (expected one of {', '.join(known)})")

    def has(self, key: str) -> bool:
        """Whether the table sets `key`."""
        return key in self.data

    def number(
        self,
        key: str,
        default: object = _MISSING,
        minimum: float | None = None,
        positive: bool = False,
    ) -> float:
        """A finite number (TOML integer or float) as float; optionally positive or >= minimum."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"expected a number, got {_toml_repr(value)}")
        if not math.isfinite(value):
            self.fail(key, f"expected a finite number, got {value}")
        if positive and not value > 0:
            self.fail(key, f"must be positive, got {value}")
        if minimum is not None and not value >= minimum:
            self.fail(key, f"must be >= {minimum}, got {value}")
        return float(value)

    def integer(
        self, key: str, default: object = _MISSING, bounds: tuple[int, int] | None = None
    ) -> int:
        """A TOML integer, optionally within inclusive `bounds`."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer, got {_toml_repr(value)}")
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            self.fail(key, f"must be in {bounds[0]}..{bounds[1]}, got {value}")
        return value

    def string(self, key: str, default: object = _MISSING) -> str:
        """A TOML string."""
        value = self._get(key, default)
        if not isinstance(value, str):
            self.fail(key, f"expected a string, got {_toml_repr(value)}")
        return value

    def choice(self, key: str, choices: Iterable[str], default: object = _MISSING) -> str:
        """A string that must be one of `choices`; the message lists them."""
        value = self.string(key, default)
        choices = tuple(choices)
        if value not in choices:
            self.fail(key, f"unknown {key} {value!r} (expected {', '.join(choices)})")
        return value

    def int_pair(self, key: str, minimum: int) -> tuple[int, int]:
        """A required array of two integers, each >= minimum."""
        value = self._get(key, _MISSING)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            self.fail(key, f"expected two integers [a, b], got {_toml_repr(value)}")
        if not all(v >= minimum for v in value):
            self.fail(key, f"values must be >= {minimum}, got {_toml_repr(value)}")
        return value[0], value[1]

    def file(self, key: str, base: Path) -> Path:
        """A required path, relative to `base`, of a file that exists."""
        path = base / self.string(key)
        if not path.is_file():
            self.fail(key, f"no such file: {path}")
        return path

    def _get(self, key: str, default: object) -> typing.Any:
        """The raw value of `key`, `default` if absent; absent without a default is an error."""
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.fail(key, "missing (required)")
        return default


def _toml_repr(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


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


def _load_lens(table: _Table) -> Lens:
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


def _load_input(table: _Table, base: Path) -> CueInput:
    encodings = ("depth_scale", "disparity", "inverse_depth")
    table.check_keys(("rgb", "depth", *encodings))
    rgb = table.file("rgb", base)
    depth = table.file("depth", base)
    given = [k for k in encodings if table.has(k)]
    if len(given) > 1:
        table.fail(given[1], f"'{given[0]}' is already given; use one of {', '.join(encodings)}")
    encoding: DepthEncoding = DepthScale()
    if given == ["depth_scale"]:
        encoding = DepthScale(table.number("depth_scale", positive=True))
    elif given == ["disparity"]:
        encoding = Disparity(table.number("disparity", positive=True))
    elif given == ["inverse_depth"]:
        value = table.data["inverse_depth"]
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            table.fail("inverse_depth", f"expected [near, far] in metres, got {_toml_repr(value)}")
        near, far = float(value[0]), float(value[1])
        if not (math.isfinite(far) and 0 < near < far):
            table.fail("inverse_depth", f"need 0 < near < far, got [{near}, {far}]")
        encoding = InverseDepth(near, far)
    return CueInput(rgb, depth, encoding)


def _load_focus_key(table: _Table, lens: Lens) -> TargetKey:
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
        x, y = table.int_pair("pixel", minimum=0)
        target = PixelTarget(x, y)
    else:
        if table.data["auto"] is not True:
            table.fail("auto", f"expected true, got {_toml_repr(table.data['auto'])}")
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


def _load_output(table: _Table, base: Path, last_key_s: float) -> CueOutput:
    table.check_keys(("path", "fps", "duration", "size", "codec", "quality"))
    return CueOutput(
        path=base / table.string("path") if table.has("path") else None,
        fps=table.number("fps", DEFAULT_FPS, positive=True),
        duration_s=table.number("duration", last_key_s, minimum=0.0),
        size=table.int_pair("size", minimum=1) if table.has("size") else None,
        codec=table.choice("codec", CODECS, DEFAULT_CODEC),
        quality=table.integer("quality", DEFAULT_QUALITY, QUALITY_RANGE),
    )


_SYNTAX_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def load_cues(path: str | Path) -> Cues:
    """Read and check a cue file; every problem is a CueError naming file, line and key."""
    name = str(path)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise CueError(f"{name}: cannot read cue file: {reason}", name, None, None) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _SYNTAX_AT.search(msg)
        line = int(m.group(1)) if m else None
        if m:
            msg = f"{msg[: m.start()]} (column {m.group(2)})"
        at = f"{name}:{line}" if line is not None else name
        raise CueError(f"{at}: TOML syntax error: {msg}", name, line, None) from e

    lines = KeyLines.scan(text)
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
        raise _cue_error(name, None, "[input]", None, "missing section (needs rgb and depth)")

    def table(section: str) -> _Table:
        return _Table(name, lines, section, 0, data.get(section, {}))

    lens = _load_lens(table("lens"))
    cue_input = _load_input(table("input"), base)
    raw_keys = data.get("focus", [])
    keys: list[TargetKey] = []
    focus_lines: list[int | None] = []
    for i, raw in enumerate(raw_keys, start=1):
        key_table = _Table(name, lines, "focus", i, raw)
        focus_key = _load_focus_key(key_table, lens)
        if keys and not focus_key.time_s > keys[-1].time_s:
            key_table.fail(
                "time", f"{focus_key.time_s} s is not after the previous key's {keys[-1].time_s} s"
            )
        keys.append(focus_key)
        focus_lines.append(lines.find("focus", i))

    output = _load_output(table("output"), base, keys[-1].time_s if keys else 0.0)
    return Cues(path, lens, cue_input, tuple(keys), output, tuple(focus_lines))
