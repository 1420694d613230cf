"""The preview's S key: the frame shown, saved at the input's full size with its cue file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from realtime.errors import InputError
from realtime.frameloop import FrameLoop
from realtime.preview.shown import release_loop

if TYPE_CHECKING:
    from realtime.preview.app import Preview


def save_frame(preview: Preview) -> None:
    """S: the frame shown, rendered at full size (PNG, no overlays; what `rackfocus
    render` makes of it), and the state as a cue file."""
    from realtime.cues import cue_text
    from realtime.outputs.images import write_image

    assert preview.composite is not None and preview.loop.index is not None
    if preview.files is None:
        raise InputError("S saves a cue file of input files; this source has none")
    rgb, depth = preview.files(preview.loop.index)
    stem = next_free_stem(preview.options.save_dir, Path(rgb).stem)  # rgb_1012, not rgb_%04d
    write_image(stem.with_suffix(".png"), render_full_size(preview))
    cue = stem.with_suffix(".toml")
    text = cue_text(preview.lens, rgb, depth, preview.options.inputs.convention)
    try:
        cue.write_text(text, encoding="utf-8")
    except OSError as e:
        raise InputError(f"{cue}: cannot write: {e.strerror or e}") from e
    preview.log(f"saved {stem.with_suffix('.png')} and {cue}")


def render_full_size(preview: Preview) -> np.ndarray:
    """The frame shown through the current lens at the input's full size, HxWx3 linear.

    A frame shown smaller renders through a loop of its own on the window's
    compositor, whose textures then have the full size; that loop is released
    and the window's starts again at the size shown, so the session does not
    keep the full size's memory after the save.
    """
    from realtime.pipeline import read_rgb

    if preview.shown == preview.image_size:
        return read_rgb(preview.loop.compose(preview.frame, preview.lens))
    full = FrameLoop(
        preview.compositor, preview.source, condition_depth=preview.options.inputs.condition_depth
    )
    try:
        return read_rgb(full.compose(preview.frame, preview.lens))
    finally:
        release_loop(full)
        preview.restart_loop(preview.shown)


def next_free_stem(folder: Path, prefix: str) -> Path:
    """folder/prefix-NNN, the first number for which neither .png nor .toml exists."""
    n = 1
    while True:
        stem = folder / f"{prefix}-{n:03d}"
        if not stem.with_suffix(".png").exists() and not stem.with_suffix(".toml").exists():
            return stem
        n += 1
