"""The show's config file: the cue-file format extended with sources and a looping playlist.

    [show]                       # all optional; command-line options override them
    monitor = 0                  # fullscreen on this monitor: index, or name ("HDMI-1")
    windowed = false             # true: a window (rehearsal) instead of fullscreen
    window_size = [1280, 720]    # the window's size (default: the first source's, fit)
    vsync = true                 # wait for the display's refresh
    max_fps = 60                 # frame-rate cap (default: the monitor's refresh, else 60)
    target_fps = 30              # adaptive resolution while moving (0: always full)
    osc_port = 9000              # listen for OSC on this UDP port (default: no OSC)
    osc_host = "0.0.0.0"         # on this address (default: every interface)
    osc_reply_port = 9001        # /status replies go to this port (default: the sender's)
    web_port = 8080              # serve the web remote on this TCP port (default: none)
    web_host = "127.0.0.1"       # on this address (default: this machine only)
    web_token = "..."            # its token (default: a new one each start, in the log)
    ndi = "rackfocus"            # send every presented frame as this NDI source (default: none)
    stream = "udp://127.0.0.1:5000"  # and as H.264 MPEG-TS to udp:// or srt:// (default: none)
    rack_duration = 1.5          # seconds of an OSC /focus/pick rack
    fade = 1.0                   # seconds of an OSC /show/source cross-fade
    log = "show.log"             # rotating log file, relative to this file
    status_interval = 60         # seconds between status lines in the log

    [lens]                       # any Lens field, as in cue files; focus_m: where to start
    focal_length_mm = 50         # (default: autofocus on the centre of the first frame)
    f_number = 2.0

    [[source]]                   # one or more; the first one shows first
    name = "lobby"               # what cues and /show/source call it
    rgb = "lobby/rgb_%04d.png"   # a still, a numbered sequence, a glob or a video,
    depth = "lobby/d_%04d.png"   # relative to this file
    depth_scale = 0.001          # or disparity = FB, or inverse_depth = [near, far];
                                 # none: float metres
    fps = 24                     # sequences and videos loop at this rate (default: the
                                 # video's, else 24)
    size = [960, 540]            # resample to this size (default: the input's)
    resize_depth = false         # resample depth to the colour's size when they differ

    [[cue]]                      # the playlist, played in order and looped; each cue does
    rack = 1.2                   # one thing: rack to metres, or to "near" (the nearest
    duration = 2.0               # subject) or "far" (the background), over `duration` s
    easing = "focus_puller"      # (default 2 s, smoothstep)

    [[cue]]
    pick = [0.25, 0.6]           # rack to what is at this point (fractions of width, height)

    [[cue]]
    hold = 3.0                   # keep focus and f-number for 3 s

    [[cue]]
    autofocus = 8.0              # follow the nearest subject for 8 s (without hunting)
    time_constant = 0.25         # it settles in about 4 of these (default 0.25 s)

    [[cue]]
    f_number = 4.0               # move the aperture over `duration` (default 2 s)

    [[cue]]
    source = "street"            # cross-fade to another source over `duration`
    duration = 1.0               # (default 1 s; 0 cuts; easing default linear)

Without [[cue]] tables the playlist is DEFAULT_PLAYLIST: rack to the nearest
subject, hold, rack to the background, hold. Every problem is one TomlError
line naming the file, the line and the key (`show.toml:31: [[cue]] #4 key
'rack': ...`); an edited config is checked in full before the show takes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from realtime.cues import DEPTH_KEYS, LENS_KEYS, load_convention
from realtime.errors import InputError
from realtime.focus import DEFAULT_EASING, easing
from realtime.lens import Lens
from realtime.options import DEFAULT_WEB_HOST
from realtime.preview.scaling import DEFAULT_TARGET_FPS
from realtime.show.playlist import (
    DEFAULT_FADE_S,
    DEFAULT_MOVE_S,
    DEFAULT_PICK_RACK_S,
    FADE_EASING,
    SUBJECTS,
    Autofocus,
    Cue,
    FNumber,
    Hold,
    Pick,
    Rack,
    Switch,
)
from realtime.sources.depth import DepthConvention
from realtime.sources.frames import input_kind
from realtime.tomlfile import KeyLines, Table, TomlError, read_toml, toml_error, toml_repr

SECTIONS = ("show", "lens", "source", "cue")  # top-level tables of a show config
DEFAULT_OSC_HOST = "0.0.0.0"  # OSC listens on every interface unless told otherwise
STATUS_INTERVAL_S = 60.0  # a status line goes to the log this often
DEFAULT_PLAYLIST: tuple[Cue, ...] = (Rack("near"), Hold(2.0), Rack("far"), Hold(2.0))
CUE_ACTIONS = ("rack", "pick", "hold", "autofocus", "f_number", "source")  # one per cue
CUE_OPTIONS = {  # the other keys each kind of cue takes
    "rack": ("duration", "easing"),
    "pick": ("duration", "easing"),
    "hold": (),
    "autofocus": ("time_constant",),
    "f_number": ("duration", "easing"),
    "source": ("duration", "easing"),
}
PORT_RANGE = (1, 65535)


@dataclass(frozen=True)
class ShowSettings:
    """The [show] table: output, OSC, defaults of manual commands, logging."""

    monitor: int | str = 0  # fullscreen monitor: index or name
    windowed: bool = False  # a window instead of fullscreen
    window_size: tuple[int, int] | None = None  # None: the first source's size, fit to screen
    vsync: bool = True  # wait for the display's refresh
    max_fps: float | None = None  # frame-rate cap; None: the monitor's refresh, else 60
    target_fps: float = DEFAULT_TARGET_FPS  # adaptive resolution's goal while moving; 0 = off
    osc_host: str = DEFAULT_OSC_HOST  # address OSC listens on
    osc_port: int | None = None  # UDP port; None: no OSC; 0: any free port
    osc_reply_port: int | None = None  # /status replies go here; None: to the sender's port
    web_host: str = DEFAULT_WEB_HOST  # address the web remote listens on
    web_port: int | None = None  # TCP port of the web remote; None: none; 0: any free port
    web_token: str | None = None  # the web remote's token; None: a new one each start
    ndi: str | None = None  # NDI source name the presented frames go out as; None: no NDI
    stream: str | None = None  # udp:// or srt:// URL of an H.264 MPEG-TS stream; None: none
    rack_duration_s: float = DEFAULT_PICK_RACK_S  # rack of /focus/pick
    fade_s: float = DEFAULT_FADE_S  # cross-fade of /show/source
    log: Path | None = None  # rotating log file
    status_interval_s: float = STATUS_INTERVAL_S  # seconds between status lines in the log


@dataclass(frozen=True)
class SourceSpec:
    """One input the show can put on screen."""

    name: str  # what cues and /show/source call it
    rgb: str  # colour: still, numbered sequence, glob or video ("" with `source`)
    depth: str  # depth, of any of the same kinds ("" with `source`)
    convention: DepthConvention = DepthConvention()  # how stored depth becomes metres
    fps: float | None = None  # input frame rate of sequences and videos; None: video's, else 24
    size: tuple[int, int] | None = None  # resample to (width, height); None: the input's
    resize_depth: bool = False  # resample depth to the colour's size when they differ
    source: str | None = None  # instead of rgb/depth: a camera, recording or synthetic scene
    sensor_noise: str | None = None  # a synthetic scene's sensor model
    condition_depth: bool = False  # condition depth on the GPU (on for cameras and sensors)


@dataclass(frozen=True)
class ShowConfig:
    """A checked show config (or the command line's equivalent of one)."""

    path: Path | None  # the file; None for a show set up on the command line
    settings: ShowSettings
    lens: Lens  # the lens; focus_m is a placeholder when `focus_m` is None
    focus_m: float | None  # where focus starts; None: centre autofocus on the first frame
    sources: tuple[SourceSpec, ...]  # at least one, names unique
    playlist: tuple[Cue, ...]  # at least one cue

    def source(self, name: str) -> SourceSpec:
        return next(s for s in self.sources if s.name == name)

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources)


# --- Values ----------------------------------------------------------------------------------


def _flag(table: Table, key: str, default: bool) -> bool:
    value = table.data.get(key, default)
    if not isinstance(value, bool):
        table.fail(key, f"expected true or false, got {toml_repr(value)}")
    return value


def _checked_easing(table: Table, default: str) -> str:
    name = table.string("easing", default)
    try:
        easing(name)
    except InputError as e:
        table.fail("easing", str(e))
    return name


def _fractions(table: Table, key: str) -> tuple[float, float]:
    value = table.data[key]
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        table.fail(key, f"expected [x, y], fractions of the width and height, got {value!r}")
    x, y = float(value[0]), float(value[1])
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        table.fail(key, f"x and y must be in 0..1 (fractions of the frame), got [{x}, {y}]")
    return x, y


# --- Sections --------------------------------------------------------------------------------


def _load_settings(table: Table, base: Path) -> ShowSettings:
    fields = {
        "monitor": "monitor",
        "windowed": "windowed",
        "window_size": "window_size",
        "vsync": "vsync",
        "max_fps": "max_fps",
        "target_fps": "target_fps",
        "osc_host": "osc_host",
        "osc_port": "osc_port",
        "osc_reply_port": "osc_reply_port",
        "web_host": "web_host",
        "web_port": "web_port",
        "web_token": "web_token",
        "ndi": "ndi",
        "stream": "stream",
        "rack_duration": "rack_duration_s",
        "fade": "fade_s",
        "log": "log",
        "status_interval": "status_interval_s",
    }
    table.check_keys(fields)
    values: dict[str, object] = {}
    if table.has("monitor"):
        monitor = table.data["monitor"]
        if isinstance(monitor, bool) or not isinstance(monitor, int | str) or monitor == "":
            table.fail("monitor", f"expected an index or a name, got {toml_repr(monitor)}")
        if isinstance(monitor, int) and monitor < 0:
            table.fail("monitor", f"must be >= 0, got {monitor}")
        values["monitor"] = monitor
    for key in ("windowed", "vsync"):
        if table.has(key):
            values[key] = _flag(table, key, False)
    if table.has("window_size"):
        values["window_size"] = table.int_pair("window_size", minimum=1)
    if table.has("max_fps"):
        values["max_fps"] = table.number("max_fps", positive=True)
    if table.has("target_fps"):
        values["target_fps"] = table.number("target_fps", minimum=0.0)
    if table.has("osc_host"):
        values["osc_host"] = table.string("osc_host")
    if table.has("osc_port"):
        values["osc_port"] = table.integer("osc_port", bounds=(0, PORT_RANGE[1]))
    if table.has("osc_reply_port"):
        values["osc_reply_port"] = table.integer("osc_reply_port", bounds=PORT_RANGE)
    if table.has("web_host"):
        values["web_host"] = table.string("web_host")
    if table.has("web_port"):
        values["web_port"] = table.integer("web_port", bounds=(0, PORT_RANGE[1]))
    if table.has("web_token"):
        from realtime.show.web import check_token

        try:
            values["web_token"] = check_token(table.string("web_token"), "the token")
        except InputError as e:
            table.fail("web_token", str(e))
    if table.has("ndi"):
        from realtime.outputs.ndi import check_ndi_name

        try:
            values["ndi"] = check_ndi_name(table.string("ndi"), "the name")
        except InputError as e:
            table.fail("ndi", str(e))
    if table.has("stream"):
        from realtime.outputs.stream import check_stream_url

        try:
            values["stream"] = check_stream_url(table.string("stream"), "the URL")
        except InputError as e:
            table.fail("stream", str(e))
    for key in ("rack_duration", "fade"):
        if table.has(key):
            values[fields[key]] = table.number(key, minimum=0.0)
    if table.has("log"):
        values["log"] = base / table.string("log")
    if table.has("status_interval"):
        values["status_interval_s"] = table.number("status_interval", positive=True)
    return ShowSettings(**values)  # type: ignore[arg-type]


def _load_lens(table: Table, base_lens: Lens) -> tuple[Lens, float | None]:
    """`base_lens` with the table's keys replaced; the focus to start at, if the table sets it."""
    table.check_keys(LENS_KEYS)
    values: dict[str, float | int] = {}
    for key in table.data:
        values[key] = table.integer(key) if LENS_KEYS[key] is int else table.number(key)
    so_far: dict[str, float | int] = {}
    for key, value in values.items():  # blame the first key, in file order, the lens rejects
        so_far[key] = value
        try:
            lens = replace(base_lens, **so_far)  # type: ignore[arg-type]
        except InputError as e:
            table.fail(key, str(e))
    lens = replace(base_lens, **values)  # type: ignore[arg-type]
    return lens, (float(values["focus_m"]) if "focus_m" in values else None)


def _input_path(table: Table, key: str, base: Path) -> str:
    """A still, sequence pattern, glob or video relative to `base`, that names something."""
    path = str(base / table.string(key))
    try:
        input_kind(path)
    except InputError as e:
        table.fail(key, str(e))
    return path


def _load_source(table: Table, base: Path) -> SourceSpec:
    sensor_keys = ("source", "sensor_noise", "condition_depth")
    table.check_keys(
        ("name", "rgb", "depth", *DEPTH_KEYS, "fps", "size", "resize_depth", *sensor_keys)
    )
    name = table.string("name")
    if not name.strip():
        table.fail("name", "must not be empty")
    if table.has("source"):
        return _load_sensor_source(table, name)
    return SourceSpec(
        name=name,
        rgb=_input_path(table, "rgb", base),
        depth=_input_path(table, "depth", base),
        convention=load_convention(table),
        fps=table.number("fps", positive=True) if table.has("fps") else None,
        size=table.int_pair("size", minimum=1) if table.has("size") else None,
        resize_depth=_flag(table, "resize_depth", False),
    )


def _load_sensor_source(table: Table, name: str) -> SourceSpec:
    """A [[source]] with `source = "realsense"` (or realsense:SERIAL, realsense:REC.db3,
    synthetic:NAME): the --source spellings, checked without opening anything."""
    from realtime.sources.options import SENSOR_SOURCES
    from realtime.sources.sensor import sensor_model
    from realtime.sources.spec import parse_source

    for key in ("rgb", "depth", *DEPTH_KEYS, "resize_depth"):
        if table.has(key):
            table.fail(key, "applies to rgb/depth inputs, not to a 'source'")
    text = table.string("source")
    try:
        spec = parse_source(text)
        if table.has("sensor_noise"):
            sensor_model(table.string("sensor_noise"))
    except InputError as e:
        table.fail("sensor_noise" if "sensor" in str(e) else "source", str(e))
    return SourceSpec(
        name=name,
        rgb="",
        depth="",
        fps=table.number("fps", positive=True) if table.has("fps") else None,
        size=table.int_pair("size", minimum=1) if table.has("size") else None,
        source=text,
        sensor_noise=table.string("sensor_noise") if table.has("sensor_noise") else None,
        condition_depth=_flag(table, "condition_depth", spec.kind in SENSOR_SOURCES),
    )


def _load_cue(table: Table, lens: Lens, sources: Iterable[str]) -> Cue:
    table.check_keys((*CUE_ACTIONS, *sorted({k for v in CUE_OPTIONS.values() for k in v})))
    given = [k for k in CUE_ACTIONS if table.has(k)]
    if not given:
        table.fail(None, f"needs one of {', '.join(CUE_ACTIONS)}")
    if len(given) > 1:
        table.fail(given[1], f"'{given[0]}' is already given; a cue does one thing")
    action = given[0]
    for key in table.data:
        if key != action and key not in CUE_OPTIONS[action]:
            table.fail(key, f"a {action} cue takes no {key}")
    fade = action == "source"
    duration = table.number(
        "duration", DEFAULT_FADE_S if fade else DEFAULT_MOVE_S, minimum=0.0, positive=not fade
    )
    curve = _checked_easing(table, FADE_EASING if fade else DEFAULT_EASING)
    if action == "rack":
        value = table.data["rack"]
        if isinstance(value, str):
            if value not in SUBJECTS:
                table.fail("rack", f"expected metres, {' or '.join(map(repr, SUBJECTS))}")
            return Rack(value, duration, curve)
        distance = table.number("rack", positive=True)
        try:
            lens.with_focus(distance)
        except InputError as e:
            table.fail("rack", str(e))
        return Rack(distance, duration, curve)
    if action == "pick":
        return Pick(*_fractions(table, "pick"), duration, curve)
    if action == "hold":
        return Hold(table.number("hold", positive=True))
    if action == "autofocus":
        if table.has("time_constant"):
            tau = table.number("time_constant", positive=True)
            return Autofocus(table.number("autofocus", positive=True), tau)
        return Autofocus(table.number("autofocus", positive=True))
    if action == "f_number":
        f_number = table.number("f_number", positive=True)
        return FNumber(f_number, duration, curve)
    name = table.string("source")
    names = tuple(sources)
    if name not in names:
        table.fail("source", f"no [[source]] named {name!r} (have {', '.join(names)})")
    return Switch(name, duration, curve)


# --- The file --------------------------------------------------------------------------------


def load_config(path: str | Path, base_lens: Lens) -> ShowConfig:
    """Read and check a show config; `base_lens` (the command line's) under its [lens] keys.

    Every problem is a TomlError naming the file, the line and the key.
    """
    name = str(path)
    path = Path(path)
    data, lines = read_toml(path, "show config")
    base = path.parent

    def section_error(key: str, msg: str) -> TomlError:
        line = lines.find("", 0, key)
        return TomlError(f"{name}:{line}: [{key}]: {msg}", name, line, key)

    for key, value in data.items():
        if key not in SECTIONS:
            raise section_error(key, f"unknown section (expected {', '.join(SECTIONS)})")
        if key in ("source", "cue"):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise section_error(key, f"expected an array of tables, written [[{key}]]")
        elif not isinstance(value, dict):
            raise section_error(key, f"expected a table, written [{key}]")
    if not data.get("source"):
        raise toml_error(name, None, "[[source]]", None, "missing (a show needs a source)")

    settings = _load_settings(Table(name, lines, "show", 0, data.get("show", {})), base)
    lens, focus_m = _load_lens(Table(name, lines, "lens", 0, data.get("lens", {})), base_lens)
    sources: list[SourceSpec] = []
    for i, raw in enumerate(data["source"], start=1):
        table = Table(name, lines, "source", i, raw)
        spec = _load_source(table, base)
        if spec.name in (s.name for s in sources):
            table.fail("name", f"a source named {spec.name!r} is already defined")
        sources.append(spec)
    names = [s.name for s in sources]
    playlist = tuple(
        _load_cue(Table(name, lines, "cue", i, raw), lens, names)
        for i, raw in enumerate(data.get("cue", []), start=1)
    )
    if playlist and not sum(c.duration_s for c in playlist) > 0:
        raise _cue_error(name, lines, "the playlist must last longer than 0 s")
    return ShowConfig(path, settings, lens, focus_m, tuple(sources), playlist or DEFAULT_PLAYLIST)


def _cue_error(name: str, lines: KeyLines, msg: str) -> TomlError:
    return toml_error(name, lines.find("cue", 1), "[[cue]] #1", None, msg)


__all__ = [
    "DEFAULT_PLAYLIST",
    "SECTIONS",
    "ShowConfig",
    "ShowSettings",
    "SourceSpec",
    "load_config",
]
