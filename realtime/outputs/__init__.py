"""Rendered frames out: video files (`video`) or numbered image sequences (`sequence`).

Every writer has the same small interface, `FrameWriter`, which the frame loop
(`realtime.batch`) drives: `write(k, rgb)` for each frame, then `finish()`, or
`abort()` on any failure or interrupt. Neither kind leaves a partial file: a
video is moved into place by `finish()` only, image frames appear by rename.
`open_output` picks the writer from the path:

    out.mp4 / out.mov / out.mkv   video (codec: --codec, else by extension)
    frames/out_%04d.png           one file per frame (.png, .exr, .tif, .npy)
    out.png                       a single image, for a clip of one frame
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from realtime.errors import InputError
from realtime.outputs.images import IMAGE_CODECS
from realtime.outputs.sequence import ImageWriter, SequenceWriter, is_pattern
from realtime.outputs.video import (
    DEFAULT_QUALITY,
    VIDEO_CODECS,
    VIDEO_EXTENSIONS,
    VideoWriter,
    write_depth_video,
)
from realtime.sources.images import PathLike

CODECS = (*VIDEO_CODECS, *IMAGE_CODECS)  # every output encoding a cue file may name
DEFAULT_CODEC = "h264"  # a cue file's codec when its [output] names none
DEFAULT_FPS = 24.0  # frames per second of a clip when neither options, cues nor video set it


class FrameWriter(Protocol):
    """Where the frame loop puts frames."""

    @property
    def describe(self) -> str:
        """A few words on what is written (e.g. 'h264 (libx264, yuv420p)')."""
        ...

    def frame_path(self, k: int) -> Path | None:
        """The file frame k goes to, or None when frames share one file (video)."""
        ...

    def exists(self, k: int) -> bool:
        """Whether frame k is already complete on disk (for --resume)."""
        ...

    def write(self, k: int, linear_rgb: np.ndarray) -> None:
        """Write frame k (HxWx3 float32, linear light)."""
        ...

    def finish(self) -> None:
        """Complete the output after the last frame."""
        ...

    def abort(self) -> None:
        """Stop after a failure or interrupt, leaving no partial file."""
        ...


def is_video(path: PathLike) -> bool:
    """Whether `path` names a video file rackfocus writes (by extension)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def open_output(
    path: PathLike,
    size: tuple[int, int],
    fps: float,
    frame_count: int,
    codec: str | None = None,
    quality: int = DEFAULT_QUALITY,
) -> FrameWriter:
    """The writer for `path` (see the module docstring); InputError on a bad combination."""
    if is_video(path):
        return VideoWriter(path, size, fps, codec, quality)
    if codec is not None:
        raise InputError(
            f"--codec {codec} applies to video outputs ({', '.join(VIDEO_EXTENSIONS)})"
        )
    if is_pattern(path):
        return SequenceWriter(path)
    if frame_count > 1:
        raise InputError(
            f"{path}: the clip has {frame_count} frames; write them to a numbered pattern "
            f"such as out_%04d{Path(path).suffix or '.png'} or to a video "
            f"({', '.join(VIDEO_EXTENSIONS)})"
        )
    return ImageWriter(path)


__all__ = [
    "CODECS",
    "DEFAULT_CODEC",
    "DEFAULT_FPS",
    "IMAGE_CODECS",
    "FrameWriter",
    "ImageWriter",
    "SequenceWriter",
    "VideoWriter",
    "is_pattern",
    "is_video",
    "open_output",
    "write_depth_video",
]
