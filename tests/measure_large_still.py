"""A 12 MP still in a 1440x1080 preview window: a scripted click-rack's time (not a test).

    python tests/measure_large_still.py [--before CHECKOUT] [--rounds 2] [--keep DIR]

Two 4032x3024 inputs: the demo scene rendered at that size (colour and depth at
full size) and the iPhone portrait in tests/data/photos (its 768x576 depth is
upsampled on the GPU, guided by the colour). Each runs `rackfocus preview
--window-size 1440x1080 --frames 60 --fixed-dt 0.0333 --click X,Y@0.5 --stats` on a
private Xvfb, from this checkout and, with --before, from another one (the code
before a change), alternating, so both see the same load. Prints the wall time of
each run, the loop's own time and the composites from --stats.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from xvfb_server import xvfb_display  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZE = (4032, 3024)
WINDOW = "1440x1080"
SCREEN = (1920, 1200)
RACK = ["--frames", "60", "--fixed-dt", "0.0333", "--stats"]
CLICKS = {"demo": "2700,1500@0.5", "pug": "2360,1840@0.5"}  # a far sphere; the pug's head


def make_inputs(folder: Path) -> dict[str, list[str]]:
    """The two inputs as .npy colour (linear) and depth (metres): their preview options."""
    from realtime.gl.context import create_offscreen_context
    from realtime.groundtruth import SCENES, render_rgbd
    from realtime.sources.photos import read_photo

    scene = SCENES["demo"]()
    color, depth = render_rgbd(create_offscreen_context(), scene, scene.lens, *SIZE, supersample=2)
    np.save(folder / "demo_c.npy", color)
    np.save(folder / "demo_d.npy", depth)
    photo = read_photo(ROOT / "tests" / "data" / "photos" / "iphone13pro_portrait_pug.heic")
    np.save(folder / "pug_c.npy", photo.color)
    np.save(folder / "pug_d.npy", photo.depth_m.astype(np.float32))
    return {
        name: ["--rgb", str(folder / f"{name}_c.npy"), "--depth", str(folder / f"{name}_d.npy")]
        for name in ("demo", "pug")
    }


def run(checkout: Path, display: str, args: list[str]) -> tuple[float, str]:
    """(wall seconds, the --stats line) of one preview run from `checkout`."""
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env |= {"DISPLAY": display, "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-m", "realtime", "preview", *args]
    t0 = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=checkout)
    wall = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    stats = next(line for line in result.stdout.splitlines() if line.startswith("frames "))
    return wall, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="make the inputs here and keep them")
    args = parser.parse_args()
    checkouts = {"after": ROOT} if args.before is None else {"before": args.before, "after": ROOT}
    with tempfile.TemporaryDirectory() as scratch, xvfb_display(SCREEN) as display:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        inputs = make_inputs(folder)
        for round_ in range(args.rounds):
            for name, files in inputs.items():
                for label, checkout in checkouts.items():
                    options = [*files, "--window-size", WINDOW, *RACK, "--click", CLICKS[name]]
                    wall, stats = run(checkout, display, options)
                    loop = re.search(r"composites (\d+), ([\d.]+) s", stats)
                    assert loop is not None, stats
                    print(
                        f"round {round_ + 1} {name} {label}: wall {wall:.1f} s, loop "
                        f"{float(loop.group(2)):.1f} s, {loop.group(1)} composites",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
