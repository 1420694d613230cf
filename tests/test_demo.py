"""`rackfocus demo` renders the built-in scene with no input files."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from realtime.cli import main


def test_demo_writes_stills_and_video(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--size", "320x180"]) == 0
    for name in ("input.png", "depth.png", "near.png", "far.png", "strip.png", "rack.mp4"):
        assert (out / name).stat().st_size > 0, name
    near = iio.imread(out / "near.png").astype(float)
    far = iio.imread(out / "far.png").astype(float)
    assert near.shape == (180, 320, 3)
    assert np.abs(near - far).mean() > 2.0  # focus moved: the two stills differ
    assert iio.imread(out / "strip.png").shape == (180, 320 * 6, 3)


def test_demo_bad_size_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "-o", str(tmp_path), "--size", "big"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
