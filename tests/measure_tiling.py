"""Measure tiled rendering for the README ("Large frames"); not a test (takes minutes).

    .venv/bin/python tests/measure_tiling.py [--before /work/wt-base/.venv/bin/rackfocus]

1. Seams: the seam scene of tests/test_tiling.py at 4000x3000, rendered whole and in
   1024 px tiles in this process: largest float difference and 8-bit codes that differ.
2. Before and after: an 8000x6000 PNG still (8-bit colour, 16-bit depth) rendered by
   the `--before` build and by this one, one after the other, under /usr/bin/time -v:
   wall time, CPU time, peak resident memory, and the 8-bit difference of the outputs.
3. Any size: a 20000x300 strip and a 12000x9000 still rendered by this build (exit
   status, peak memory, no non-finite pixel reported by the writer).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))

from test_tiling import LENS, codes, seam_scene, tiled  # noqa: E402

from realtime.pipeline import Compositor  # noqa: E402
from realtime.sources.images import linear_to_srgb  # noqa: E402

Image.MAX_IMAGE_PIXELS = None  # reading back the 108 MP output
HERE = Path(sys.executable).parent / "rackfocus"
BAND = 500  # rows of a generated still made at a time
LENS_ARGS = ["--depth-scale", "0.001", "--focus", "2", "--f-number", "1.4"]


def seams(width: int = 4000, height: int = 3000, tile: int = 1024) -> str:
    color, depth = seam_scene(width, height)
    comp = Compositor()
    whole = comp.render(color, depth, LENS)
    parts = tiled(comp, color, depth, tile)
    diff = np.abs(parts - whole)
    relative = float((diff / np.maximum(1.0, np.abs(whole))).max())
    flipped = np.abs(codes(parts) - codes(whole)).max(axis=2)
    return (
        f"seams {width}x{height}, --tile-size {tile}: float max |diff| {diff.max():.3g} "
        f"(relative {relative:.3g}), 8-bit: {int((flipped > 0).sum())} of {width * height} px "
        f"differ, by at most {int(flipped.max())}"
    )


def photo(folder: Path, width: int, height: int) -> list[str]:
    """A still like a photograph: textured background at 8-10 m, a subject at 2 m, a
    foreground bar at 0.7 m, small lights; colour PNG and 16-bit depth PNG (mm)."""
    rng = np.random.default_rng(1)
    rgb = np.empty((height, width, 3), np.uint8)
    depth = np.empty((height, width), np.uint16)
    freq = np.array([0.05, 0.08, 0.11])
    for y0 in range(0, height, BAND):
        yy, xx = np.mgrid[y0 : min(y0 + BAND, height), 0:width].astype(np.float32)
        c = 0.3 + 0.2 * np.sin(xx[..., None] * freq) * np.cos(yy[..., None] * freq[::-1])
        c = c + rng.uniform(0, 0.1, c.shape)
        z = 8.0 + 2.0 * xx / width
        subject = (np.abs(xx / width - 0.5) < 0.12) & (np.abs(yy / height - 0.5) < 0.2)
        z[subject], c[subject] = 2.0, (0.8, 0.5, 0.2)
        bar = np.abs(xx / width - 0.22) < 0.05
        z[bar], c[bar] = 0.7, (0.1, 0.6, 0.2)
        lights = rng.uniform(size=z.shape) < 1e-4
        c[lights] = 30.0
        rgb[y0 : y0 + BAND] = np.rint(linear_to_srgb(np.clip(c, 0, 1)) * 255)
        depth[y0 : y0 + BAND] = np.rint(z * 1000)
    names = (folder / f"c{width}x{height}.png", folder / f"d{width}x{height}.png")
    iio.imwrite(names[0], rgb)
    iio.imwrite(names[1], depth)
    return ["--rgb", str(names[0]), "--depth", str(names[1]), *LENS_ARGS]


def timed_run(command: list[str]) -> tuple[int, str, dict[str, float]]:
    """Exit status, stderr and /usr/bin/time -v's wall s, CPU s and peak RSS (GB)."""
    run = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    err = run.stderr

    def field(name: str) -> str:
        m = re.search(rf"{re.escape(name)}: (.+)", err)
        return m.group(1).strip() if m else "0"

    wall = sum(
        float(p) * 60**i
        for i, p in enumerate(
            reversed(field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"))
        )
    )
    stats = {
        "wall_s": wall,
        "cpu_s": float(field("User time (seconds)")) + float(field("System time (seconds)")),
        "peak_gb": int(field("Maximum resident set size (kbytes)")) * 1024 / 1e9,
    }
    return run.returncode, err, stats


def describe(what: str, rc: int, err: str, stats: dict[str, float]) -> str:
    warned = "NaN or infinite" in err
    return (
        f"{what}: exit {rc}, {stats['wall_s']:.1f} s wall, {stats['cpu_s']:.1f} s CPU, "
        f"peak {stats['peak_gb']:.2f} GB{', NON-FINITE PIXELS' if warned else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="/work/wt-base/.venv/bin/rackfocus")
    parser.add_argument("--skip-seams", action="store_true")
    args = parser.parse_args()
    if not args.skip_seams:
        print(seams(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs = photo(folder, 8000, 6000)
        outs = {}
        for name, exe in (("before", args.before), ("after", str(HERE))):
            outs[name] = folder / f"{name}.png"
            rc, err, stats = timed_run([exe, "render", *inputs, "-o", str(outs[name])])
            print(describe(f"8000x6000 {name}", rc, err, stats), flush=True)
        a, b = (iio.imread(outs[n]).astype(np.int32) for n in ("before", "after"))
        flipped = np.abs(a - b).max(axis=2)
        print(
            f"8000x6000 before vs after, 8-bit: {int((flipped > 0).sum())} px differ, "
            f"by at most {int(flipped.max())}",
            flush=True,
        )
        for width, height in ((20000, 300), (12000, 9000)):
            inputs = photo(folder, width, height)
            out = folder / f"o{width}x{height}.png"
            rc, err, stats = timed_run([str(HERE), "render", *inputs, "-o", str(out)])
            shape = iio.imread(out).shape if rc == 0 else None
            print(describe(f"{width}x{height}", rc, err, stats) + f", output {shape}", flush=True)


if __name__ == "__main__":
    main()
