"""A farm's video frames between the chunks and the final encode: the encoder's own input.

A local video render sends ffmpeg `encode_srgb(frame, bits)`: 8-bit codes for
H.264, 16-bit for ProRes and FFV1. Farm chunks write exactly those codes, one
lossless TIFF per frame (zlib, horizontal predictor; a 1080p H.264 frame is a
few MB), under final names in a hidden folder beside the video, atomically. The
driver then feeds them, in order, to the same VideoWriter a local render uses
(`write_codes`), so ffmpeg receives the same bytes and the video is identical;
the folder is removed once the video is in place, and kept when the job fails
so that `--resume` renders only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.outputs.images import write_tiff_codes
from realtime.outputs.video import VideoWriter, encode_srgb
from realtime.sources.images import one_line

FRAMES_SUFFIX = ".frames"  # out.mp4 -> .out.mp4.frames/ beside it
FRAME_NAME = "frame_%08d.tif"  # frame k's file in that folder


def frames_folder(video: str | Path) -> Path:
    """The hidden folder a farm render of `video` keeps its frames in."""
    p = Path(video)
    return p.parent / f".{p.name}{FRAMES_SUFFIX}"


class CodeFrames:
    """A FrameWriter of video frames as encoder codes of `bits` (8 or 16), one file each."""

    def __init__(self, folder: str | Path, bits: int) -> None:
        self.folder = Path(folder)
        self.bits = bits

    @property
    def describe(self) -> str:
        """What is written, for stats lines."""
        return f"{self.bits}-bit codes for the video"

    def frame_path(self, k: int) -> Path:
        """The file of frame k."""
        return self.folder / (FRAME_NAME % k)

    def exists(self, k: int) -> bool:
        """Whether frame k's file is there (complete: files appear by rename)."""
        return self.frame_path(k).is_file()

    def write(self, k: int, linear_rgb: np.ndarray) -> None:
        """Write frame k's codes (atomic); the folder is created on first use."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"{self.folder}: cannot create folder: {one_line(e)}") from e
        write_tiff_codes(self.frame_path(k), encode_srgb(linear_rgb, self.bits))

    def read(self, k: int) -> np.ndarray:
        """Frame k's codes, as written."""
        import tifffile

        return np.asarray(tifffile.imread(self.frame_path(k)))

    def finish(self) -> None:
        """Nothing to do: every frame is complete when written."""

    def abort(self) -> None:
        """Nothing to undo: frames already written are complete and kept (see --resume)."""

    def remove(self, frames: Iterable[int]) -> None:
        """Delete these frames' files, then the folder if nothing else is left in it."""
        for k in frames:
            self.frame_path(k).unlink(missing_ok=True)
        try:
            self.folder.rmdir()
        except OSError:
            pass  # other files: leave them


def encode_video(writer: VideoWriter, frames: CodeFrames, order: range) -> None:
    """Encode frames `order` into the video and move it into place; then drop the frames.

    A frame that is missing raises InputError naming it; the video is then not
    written and the frames stay.
    """
    missing = [k for k in order if not frames.exists(k)]
    if missing:
        raise InputError(
            f"{frames.frame_path(missing[0])}: frame {missing[0]} is missing "
            f"({len(missing)} of {len(order)}); run again with --resume"
        )
    try:
        for k in order:
            writer.write_codes(k, frames.read(k))
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    frames.remove(order)


__all__ = ["FRAMES_SUFFIX", "CodeFrames", "encode_video", "frames_folder"]
