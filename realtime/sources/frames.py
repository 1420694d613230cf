"""Frame sources: the colour (linear) and depth (metres) of input frame k of a clip.

Each of --rgb and --depth is, independently, one of:

    still      an image file: the same frame at every index
    numbered   a printf pattern, `rgb_%04d.png`: every file the pattern matches, in
               number order, which must be contiguous (a gap is an error, since a missing
               frame would put colour and depth out of step); the first number may be
               anything (1001 is common); input frame i is the i-th file
    glob       `rgb_*.png`: the matching files in natural order ("2" before "10")
    video      any other file (realtime.sources.video)

Lengths. When colour and depth both move they must have the same number of frames
(InputError otherwise). A still pairs with anything. Input frame i is output frame i:
no retiming between the input's frame rate and --fps. A clip longer than its inputs
stops at their end (the front end shortens it, with a warning) unless `loop` is set,
when output frame k reads input frame k mod n. Looping is opt-in because a silent
wrap-around jumps the picture back to the start.
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from realtime.errors import InputError
from realtime.sources.depth import (
    ASPECT_TOLERANCE,
    DEPTH_EXTENSIONS,
    DepthConvention,
    depth_for_color,
    is_smaller_picture,
    load_depth,
    resample_depth,
)
from realtime.sources.images import COLOR_EXTENSIONS, PathLike, check_file, load_color
from realtime.sources.video import ColorVideo, DepthVideo

InputKind = Literal["still", "numbered", "glob", "video"]
IMAGE_EXTENSIONS = tuple(sorted({*COLOR_EXTENSIONS, *DEPTH_EXTENSIONS}))  # a file is a still
FRAME_FIELD = re.compile(r"%(0\d+)?d")  # the printf field that numbers frames
PERCENT = re.compile(r"%(%|(0\d+)?d|.?)")  # any % sequence, to reject the unknown ones
RATE_TOLERANCE = 0.001  # colour and depth videos' frame rates may differ by this fraction
DIGITS = re.compile(r"(\d+)")


# --- numbered patterns --------------------------------------------------------------------


def frame_fields(text: str) -> int:
    """How many frame-number fields (%d, %0Nd) `text` holds; InputError on other % uses."""
    count = 0
    for m in PERCENT.finditer(text):
        if m.group(1) == "%":
            continue
        if FRAME_FIELD.fullmatch(m.group(0)):
            count += 1
        else:
            raise InputError(
                f"{text}: unsupported '{m.group(0)}'; number frames with %d or %04d "
                "(%% for a literal percent sign)"
            )
    return count


def is_pattern(path: PathLike) -> bool:
    """Whether `path` is a numbered-sequence pattern (holds a %d or %0Nd field)."""
    return frame_fields(str(path)) > 0


def check_pattern(pattern: PathLike) -> str:
    """`pattern` as a string if it has exactly one frame field, in the file name."""
    text = str(pattern)
    if frame_fields(text) != 1 or frame_fields(Path(text).name) != 1:
        raise InputError(
            f"{text}: a numbered pattern needs exactly one %d or %04d field, in the file name"
        )
    return text


def numbered_files(pattern: PathLike) -> list[Path]:
    """The files a numbered pattern matches, in number order; InputError if none or a gap."""
    text = check_pattern(pattern)
    p = Path(text)
    folder = p.parent if str(p.parent) else Path(".")
    m = FRAME_FIELD.search(p.name.replace("%%", "\0\0"))
    assert m is not None
    prefix = p.name[: m.start()].replace("%%", "%")
    suffix = p.name[m.end() :].replace("%%", "%")
    width = int(m.group(1)) if m.group(1) else 1
    regex = re.compile(re.escape(prefix) + rf"(\d{{{width},}})" + re.escape(suffix))
    if not folder.is_dir():
        raise InputError(f"{text}: folder {folder} does not exist")
    found: dict[int, Path] = {}
    for entry in folder.iterdir():
        match = regex.fullmatch(entry.name)
        if match is None:
            continue
        number = int(match.group(1))
        if p.name % number == entry.name and entry.is_file():  # the pattern's own spelling
            found[number] = entry
    if not found:
        raise InputError(f"{text}: no files match the pattern")
    numbers = sorted(found)
    first, last = numbers[0], numbers[-1]
    if len(numbers) != last - first + 1:
        missing = next(n for n in range(first, last + 1) if n not in found)
        raise InputError(f"{text}: frame {p.name % missing} is missing (found {first}..{last})")
    return [found[n] for n in numbers]


def _natural_key(path: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in DIGITS.split(path)]


def glob_files(pattern: PathLike) -> list[Path]:
    """The files a glob matches, in natural order; InputError if none."""
    text = str(pattern)
    names = sorted((n for n in glob.glob(text) if Path(n).is_file()), key=_natural_key)
    if not names:
        raise InputError(f"{text}: no files match the pattern")
    return [Path(n) for n in names]


def input_kind(path: PathLike) -> InputKind:
    """What kind of input `path` names (see the module docstring); InputError if nothing."""
    text = str(path)
    p = Path(text)
    if p.is_file():
        return "still" if p.suffix.lower() in IMAGE_EXTENSIONS else "video"
    if is_pattern(text):
        return "numbered"
    if glob.has_magic(text):
        return "glob"
    check_file(p)  # raises the usual one-line message for a missing file or a folder
    raise InputError(f"{p}: not a readable file")


def is_still(path: PathLike) -> bool:
    """Whether `path` is a single image file (not a sequence or a video)."""
    return input_kind(path) == "still"


def are_stills(*paths: PathLike | None) -> bool:
    """Whether every given path is a single image; None, missing and unreadable paths count
    as stills, so that their one-line error comes from the still-image path."""
    for path in paths:
        if path is None:
            continue
        try:
            if input_kind(path) != "still":
                return False
        except InputError:
            pass
    return True


# --- streams: one input (colour or depth) as indexed frames ------------------------------------


class Stream(Protocol):
    """Frames of one input; `frame_count` None for a still (any index gives the image)."""

    label: str  # the path or pattern, for messages
    frame_count: int | None  # frames in the input; None for a still

    def read(self, index: int) -> np.ndarray:
        """Frame `index`: colour HxWx3 linear float32, or depth HxW metres (NaN = no data)."""
        ...

    def close(self) -> None:
        """Release decoders."""
        ...


class FileStream:
    """A still (one path) or a sequence of image files, loaded by `loader`, last one cached."""

    def __init__(
        self,
        label: str,
        paths: list[Path],
        loader: Callable[[Path], np.ndarray],
        still: bool,
    ) -> None:
        self.label = label
        self.paths = paths
        self.loader = loader
        self.frame_count = None if still else len(paths)
        self._cache: tuple[int, np.ndarray] | None = None

    def read(self, index: int) -> np.ndarray:
        """Frame `index` (a still ignores it)."""
        i = 0 if self.frame_count is None else index
        if self._cache is None or self._cache[0] != i:
            self._cache = (i, self.loader(self.paths[i]))
        return self._cache[1]

    def close(self) -> None:
        """Drop the cached frame."""
        self._cache = None


def open_stream(
    path: PathLike, role: Literal["rgb", "depth"], convention: DepthConvention
) -> Stream:
    """The colour or depth input `path` names, of whatever kind (see the module docstring)."""
    kind = input_kind(path)
    if kind == "video":
        return ColorVideo(path) if role == "rgb" else DepthVideo(path, convention)
    if role == "rgb":
        loader: Callable[[Path], np.ndarray] = load_color
    else:

        def loader(p: Path) -> np.ndarray:
            return load_depth(p, convention)

    if kind == "still":
        return FileStream(str(path), [Path(path)], loader, still=True)
    paths = numbered_files(path) if kind == "numbered" else glob_files(path)
    return FileStream(str(path), paths, loader, still=False)


# --- resampling ---------------------------------------------------------------------------


def _taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, weights), each n_out x taps: a triangle filter as wide as the scale step."""
    scale = n_in / n_out
    support = max(scale, 1.0)  # filter radius in input pixels (area-like when shrinking)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    taps = 2 * math.ceil(support) + 1
    first = np.floor(centres - support).astype(np.int64) + 1
    idx = first[:, None] + np.arange(taps)[None, :]
    w = np.maximum(0.0, 1.0 - np.abs(idx - centres[:, None]) / support)
    w[(idx < 0) | (idx >= n_in)] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    return np.clip(idx, 0, n_in - 1), w.astype(np.float32)


def resize_color(color: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resample linear colour to width x height (separable triangle filter; area-like when
    shrinking, bilinear when enlarging)."""
    h, w = color.shape[:2]
    out = np.asarray(color, dtype=np.float32)
    if h != height:
        idx, wt = _taps(h, height)
        out = np.einsum("ot,otwc->owc", wt, out[idx])
    if w != width:
        idx, wt = _taps(w, width)
        out = np.einsum("pt,optc->opc", wt, out[:, idx])
    return np.ascontiguousarray(out, dtype=np.float32)


# --- the pair ---------------------------------------------------------------------------------


@dataclass
class RGBDFrames:
    """Colour and depth inputs as one source of (colour, depth) frames, ready to render."""

    color: Stream  # linear colour frames
    depth: Stream  # depth frames, metres, NaN = no data
    resize_depth: bool = False  # resample depth (nearest) to the colour's size when they differ
    loop: bool = False  # output frame k reads input frame k mod frame_count
    size: tuple[int, int] | None = None  # (width, height) to resample to; None keeps the input's
    depth_upsample: str = "guided"  # depth smaller than the colour: guided | nearest | bilinear

    def __post_init__(self) -> None:
        a, b = self.color.frame_count, self.depth.frame_count
        if a is not None and b is not None and a != b:
            raise InputError(
                f"{self.color.label} has {a} frames but {self.depth.label} has {b}; colour and "
                "depth must have the same number of frames"
            )
        rates = [
            s.reader.fps for s in (self.color, self.depth) if isinstance(s, ColorVideo | DepthVideo)
        ]
        if len(rates) == 2 and min(rates) > 0 and abs(rates[0] / rates[1] - 1) > RATE_TOLERANCE:
            raise InputError(
                f"{self.color.label} runs at {rates[0]:g} fps but {self.depth.label} at "
                f"{rates[1]:g} fps; colour and depth videos must have the same frame rate"
            )
        self.frame_count: int | None = a if a is not None else b  # None: both are stills
        self._cache: tuple[int, bool, tuple[np.ndarray, np.ndarray]] | None = None

    def input_index(self, k: int) -> int:
        """Input frame that output frame k shows (0 for stills)."""
        n = self.frame_count
        if n is None:
            return 0
        if self.loop:
            return k % n
        if not 0 <= k < n:
            raise InputError(f"frame {k} is past the end of the inputs ({n} frames)")
        return k

    def read(self, k: int, resize: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(colour HxWx3 linear float32, depth HxW metres, all finite) of output frame k,
        at the output size (or, with resize=False, at the input's)."""
        i = self.input_index(k)
        if self._cache is not None and self._cache[:2] == (i, resize):
            return self._cache[2]
        color = self.color.read(i)
        depth = self.depth.read(i)
        height, width = color.shape[:2]
        depth = depth_for_color(
            depth,
            color,
            self.resize_depth,
            f"{self.depth.label} (frame {i})",
            self.color.label,
            self.depth_upsample,
        )
        if resize and self.size is not None and self.size != (width, height):
            out_w, out_h = self.size
            aspect_in, aspect_out = width / height, out_w / out_h
            if abs(aspect_out / aspect_in - 1.0) > ASPECT_TOLERANCE:
                raise InputError(
                    f"output size {out_w}x{out_h} does not have the input's aspect ratio "
                    f"({width}x{height})"
                )
            color = resize_color(color, out_w, out_h)
            if not is_smaller_picture((depth.shape[1], depth.shape[0]), self.size):
                depth = resample_depth(depth, out_h, out_w)  # smaller depth is upsampled later
        self._cache = (i, resize, (color, depth))
        return color, depth

    def close(self) -> None:
        """Release decoders."""
        self._cache = None
        self.color.close()
        self.depth.close()


def open_frames(
    rgb: PathLike,
    depth: PathLike,
    convention: DepthConvention,
    resize_depth: bool = False,
    loop: bool = False,
    size: tuple[int, int] | None = None,
    depth_upsample: str = "guided",
) -> RGBDFrames:
    """The frame source for an --rgb and a --depth of any kinds (see the module docstring)."""
    color_stream = open_stream(rgb, "rgb", convention)
    try:
        depth_stream = open_stream(depth, "depth", convention)
    except BaseException:
        color_stream.close()
        raise
    return RGBDFrames(color_stream, depth_stream, resize_depth, loop, size, depth_upsample)


__all__ = [
    "IMAGE_EXTENSIONS",
    "are_stills",
    "FileStream",
    "RGBDFrames",
    "Stream",
    "check_pattern",
    "frame_fields",
    "glob_files",
    "input_kind",
    "is_pattern",
    "is_still",
    "numbered_files",
    "open_frames",
    "open_stream",
    "resize_color",
]
