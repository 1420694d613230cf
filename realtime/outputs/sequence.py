"""Numbered image sequences out: frame k is written to `pattern % k`, atomically.

A pattern holds one printf field for the frame number, `%d` or `%0Nd`
(`frames/out_%04d.png`); `%%` is a literal percent sign. The format follows
the extension as for single images (`write_image`): .png 8-bit sRGB, .exr and
.tif float32 linear, .npy float32. Frame names depend only on k, so chunks
rendered on different machines (`--frames A-B`) fill one folder without
clashes, and `--resume` can tell done frames by their files: every file is
written under a temporary name and renamed, so a file that exists is complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from realtime.errors import InputError
from realtime.outputs.images import WRITERS, write_image
from realtime.outputs.strips import Bands, write_image_bands
from realtime.sources.frames import check_pattern, frame_fields, is_pattern
from realtime.sources.images import PathLike, one_line


class SequenceWriter:
    """Writes frame k to `pattern % k` with write_image; creates the folder if needed."""

    def __init__(self, pattern: PathLike) -> None:
        self.pattern = check_pattern(pattern)
        ext = Path(self.pattern).suffix.lower()
        if ext not in WRITERS:
            raise InputError(
                f"{self.pattern}: unknown output type {ext or '(none)'!r}; "
                f"use one of {', '.join(WRITERS)}"
            )
        self.folder = Path(self.pattern).parent
        self._made_folder = False

    @property
    def describe(self) -> str:
        """What is written, for progress and stats lines."""
        return f"{Path(self.pattern).suffix.lstrip('.')} sequence"

    def frame_path(self, k: int) -> Path:
        """The file of frame k."""
        return Path(self.pattern % k)

    def exists(self, k: int) -> bool:
        """Whether frame k's file is there (complete, since files appear by rename)."""
        return self.frame_path(k).is_file()

    def _make_folder(self) -> None:
        if not self._made_folder:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise InputError(f"{self.folder}: cannot create folder: {one_line(e)}") from e
            self._made_folder = True

    def write(self, k: int, linear_rgb: np.ndarray) -> None:
        """Write frame k (atomic)."""
        self._make_folder()
        write_image(self.frame_path(k), linear_rgb)

    def write_bands(self, k: int, size: tuple[int, int], bands: Bands) -> None:
        """Write frame k given as bands of rows (a tiled render; atomic)."""
        self._make_folder()
        write_image_bands(self.frame_path(k), size, bands)

    def finish(self) -> None:
        """Nothing to do: every frame is complete when written."""

    def abort(self) -> None:
        """Nothing to undo: frames already written are complete and kept (see --resume)."""


class ImageWriter:
    """A clip of one frame written to one image file (no frame number)."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in WRITERS:
            raise InputError(
                f"{self.path}: unknown output type {self.path.suffix or '(none)'!r}; "
                f"use one of {', '.join(WRITERS)}"
            )

    @property
    def describe(self) -> str:
        """What is written, for progress and stats lines."""
        return f"{self.path.suffix.lstrip('.')} image"

    def frame_path(self, k: int) -> Path:
        """The one file (there is one frame)."""
        return self.path

    def exists(self, k: int) -> bool:
        """Whether the file is there."""
        return self.path.is_file()

    def write(self, k: int, linear_rgb: np.ndarray) -> None:
        """Write the image (atomic)."""
        write_image(self.path, linear_rgb)

    def write_bands(self, k: int, size: tuple[int, int], bands: Bands) -> None:
        """Write the image given as bands of rows (a tiled render; atomic)."""
        write_image_bands(self.path, size, bands)

    def finish(self) -> None:
        """Nothing to do."""

    def abort(self) -> None:
        """Nothing to undo."""


__all__ = ["ImageWriter", "SequenceWriter", "check_pattern", "frame_fields", "is_pattern"]
