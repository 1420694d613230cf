"""`--source` strings: which clip or live source a front end should open.

    realsense                          the first RealSense camera plugged in (live)
    realsense:SERIAL                   the camera with that serial number (live)
    realsense:REC.db3 | realsense:REC.bag   a RealSense recording (clip)
    synthetic:NAME                     a ground-truth scene whose subject moves (clip),
                                       optionally through a sensor model (sensor_noise)
    video:COLOR.mp4,DEPTH.mkv          a colour video and a depth video (clip)
    seq:COLOR_%04d.png,DEPTH_%04d.png  numbered (or glob) image sequences (clip)

`parse_source` only reads the string (no file is touched), so front ends can
check options early; `open_source` opens what it names. Every mistake is a
one-line InputError. Paths in video: and seq: are separated by the first comma
after the kind, so they may not contain commas themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from realtime.errors import InputError
from realtime.sources.depth import DepthConvention
from realtime.sources.frames import input_kind, is_pattern, open_frames
from realtime.sources.live import Clip, LiveSource
from realtime.sources.realsense import RECORDING_SUFFIXES, RealSenseCamera, RealSenseRecording
from realtime.sources.sensor import sensor_model
from realtime.sources.synthetic import DEFAULT_SIZE, SyntheticClip, motion_of

SourceKind = Literal["realsense", "recording", "synthetic", "video", "seq"]
KINDS = ("realsense", "synthetic", "video", "seq")  # the words before the colon
USAGE = (
    "realsense, realsense:SERIAL, realsense:REC.db3, synthetic:NAME, "
    "video:COLOR.mp4,DEPTH.mkv or seq:COLOR_%04d.png,DEPTH_%04d.png"
)
CAMERA_SIZE = (848, 480)  # a live camera's default stream size (the D435's best depth mode)
CAMERA_FPS = 30  # a live camera's default frame rate


@dataclass(frozen=True)
class SourceSpec:
    """What a --source string names; only the fields of its kind are set."""

    kind: SourceKind  # realsense (a live camera), recording, synthetic, video or seq
    text: str  # the string as given, for messages
    serial: str | None = None  # realsense: the camera's serial number; None = the first
    path: str | None = None  # recording: the .db3 / .bag file
    name: str | None = None  # synthetic: the scene
    color: str | None = None  # video / seq: the colour input
    depth: str | None = None  # video / seq: the depth input

    @property
    def live(self) -> bool:
        """Whether it names a live source (a camera) rather than a clip."""
        return self.kind == "realsense"


def _pair(text: str, rest: str) -> tuple[str, str]:
    parts = [p.strip() for p in rest.split(",", 1)]
    if len(parts) != 2 or not all(parts):
        raise InputError(f"--source {text}: give the colour and the depth input, comma-separated")
    return parts[0], parts[1]


def parse_source(text: str) -> SourceSpec:
    """The SourceSpec a --source string names (see the module docstring); InputError if none."""
    stripped = text.strip()
    kind, colon, rest = stripped.partition(":")
    kind, rest = kind.strip().lower(), rest.strip()
    if kind not in KINDS:
        raise InputError(f"--source {text}: unknown source kind {kind!r}; use {USAGE}")
    if kind == "realsense":
        if not rest:
            if colon:
                raise InputError(f"--source {text}: give a serial number or a recording after ':'")
            return SourceSpec("realsense", text)
        if Path(rest).suffix.lower() in RECORDING_SUFFIXES:
            return SourceSpec("recording", text, path=rest)
        if rest.isalnum():
            return SourceSpec("realsense", text, serial=rest)
        raise InputError(
            f"--source {text}: {rest} is neither a serial number nor a recording "
            f"({' or '.join(RECORDING_SUFFIXES)})"
        )
    if not rest:
        what = "a scene name" if kind == "synthetic" else "colour and depth inputs"
        raise InputError(f"--source {text}: give {what} after '{kind}:'")
    if kind == "synthetic":
        motion_of(rest)  # InputError naming the scenes
        return SourceSpec("synthetic", text, name=rest)
    color, depth = _pair(text, rest)
    if kind == "seq":
        return SourceSpec("seq", text, color=color, depth=depth)
    return SourceSpec("video", text, color=color, depth=depth)


def open_source(
    source: str | SourceSpec,
    convention: DepthConvention | None = None,
    sensor_noise: str | None = None,
    size: tuple[int, int] | None = None,
    fps: float = 30.0,
    loop: bool = False,
    resize_depth: bool = False,
    sdk_filters: bool = False,
) -> Clip | LiveSource:
    """Open what `source` names: a clip, or a started live source (a camera).

    `convention` is how video: and seq: depth samples map to metres (metric floats
    when None); `sensor_noise` (None or "realsense") passes a synthetic scene's depth
    through that sensor model; `size` (width, height) is the synthetic render size,
    the camera's stream size, or what video: and seq: frames are resampled to; `fps`
    is the synthetic clip's frame rate and the camera's; `loop` wraps clips around;
    `sdk_filters` runs librealsense's own depth filters on a RealSense source.
    """
    spec = parse_source(source) if isinstance(source, str) else source
    if sdk_filters and spec.kind not in ("realsense", "recording"):
        raise InputError(f"--source {spec.text}: --rs-filters applies to RealSense sources")
    if sensor_noise is not None:
        sensor_model(sensor_noise)  # InputError naming the models
        if spec.kind != "synthetic":
            raise InputError(f"--source {spec.text}: a sensor model applies to synthetic: only")
    if spec.kind == "realsense":
        return RealSenseCamera(spec.serial, size or CAMERA_SIZE, round(fps), sdk_filters).start()
    if spec.kind == "recording":
        assert spec.path is not None
        return RealSenseRecording(spec.path, loop=loop, sdk_filters=sdk_filters)
    if spec.kind == "synthetic":
        assert spec.name is not None
        return SyntheticClip(spec.name, size or DEFAULT_SIZE, fps, sensor_noise, loop=loop)
    assert spec.color is not None and spec.depth is not None
    for path in (spec.color, spec.depth):
        if spec.kind == "video" and input_kind(path) != "video":
            raise InputError(f"--source {spec.text}: {path} is not a video (seq: is for images)")
        if spec.kind == "seq" and not is_pattern(path) and input_kind(path) != "glob":
            raise InputError(
                f"--source {spec.text}: {path} is not a numbered pattern (%04d) or a glob"
            )
    depth_convention = convention if convention is not None else DepthConvention.metric()
    return open_frames(spec.color, spec.depth, depth_convention, resize_depth, loop, size)


__all__ = ["KINDS", "SourceSpec", "open_source", "parse_source"]
