"""Shaders load from a built wheel as well as from the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RENDER_FROM_WHEEL = """
import numpy as np
from realtime.gl.shaders import shader_dir
from realtime.lens import Lens
from realtime.pipeline import Compositor
print(shader_dir())
color = np.zeros((32, 32, 3), np.float32)
color[16, 16] = 10.0
out = Compositor().render(color, np.full((32, 32), 5.0, np.float32), Lens(focus_m=2.0))
print(round(float(out.sum()), 1))
"""


def test_wheel_carries_shaders_and_renders(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("rackfocus-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    for name in ("gather.frag", "dof_common.glsl", "bench/brute.frag", "groundtruth/scene.vert"):
        assert f"realtime/shaders/{name}" in names
    for name in ("index.html", "remote.js", "remote.css"):  # the web remote's page
        assert f"realtime/show/remote/{name}" in names
    result = subprocess.run(
        [sys.executable, "-c", RENDER_FROM_WHEEL],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    where, energy = result.stdout.split()
    assert Path(where) == site / "realtime" / "shaders"
    assert float(energy) == 30.0  # 10 in each channel, kept by the blur
