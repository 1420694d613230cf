"""The README's rack-smoothness and large-blur figures (run from a checkout).

    .venv/bin/python docs/make_figures.py [--before BAND.npy] [--save-band BAND.npy]

The README's "before" row: an older checkout's chain, run through this script
(PYTHONPATH=OLD .venv/bin/python docs/make_figures.py --only large --save-band
before.npy; commit 6b0f7c3 for the README), then --before before.npy here.

rack-difference-strip.png: the fixed rack of `rackfocus bench` (realtime.smoothness:
TUM frame, 35 mm f/1.4, 1.2 -> 3.5 m over 48 frames), second temporal difference of
display luma at four frames, pipeline above brute force, amplified 8x (the 3/255
threshold of the metric shows as 24/255 grey).

large-blur.png: the bench's demo scene at 960x540 with the blur scaled so the
largest CoC is 250 px, over the middle quarter of the rows (the band brute force is
measured on): ground truth (accumulated over the aperture), [a pipeline band saved
by an older checkout, --before], the pipeline, brute force. PSNRs printed.

demo-input-depth-output.png, demo-rack-strip.png: `rackfocus demo` at 480x270 (input,
depth, focused on the near ball) and at 240x135 (its six-frame rack strip).

tum-before-after.png: the TUM frame in tests/data/tum, input beside
`rackfocus render ... --depth-scale 0.0002 --focus 2.2 --f-number 1.4`, at half size.

live-depth-conditioning.png: synthetic:demo through the RealSense sensor model at
320x180, frame 11, focus 1.78 m (the near sphere): top, rendered from the scene's clean
depth, from raw sensor depth (holes filled as file depth is) and from conditioned
depth; bottom, each one's difference to frame 10, x8.

phone-before-after.png: the iPhone portrait in tests/data/photos rendered as
`rackfocus render --rgb pug.heic --focus-at 0.62,0.6` does, its depth (768x576 in a
4032x3024 photo) upsampled nearest (left) and guided by the colour (right, the
default); two 100 px crops of the muzzle's silhouette, 4x.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from realtime.bench import lens_for_max_coc
from realtime.metrics import display, psnr
from realtime.sources.images import LUMA_WEIGHTS

DOCS = Path(__file__).resolve().parent
STRIP_FRAMES = (9, 19, 29, 39)  # rack frames whose second difference is shown
GAIN = 8.0  # display gain of the difference maps
LARGE_SIZE = (960, 540)
LARGE_COC = 250.0
PHONE_PHOTO = DOCS.parent / "tests" / "data" / "photos" / "iphone13pro_portrait_pug.heic"
PHONE_FOCUS_AT = "0.62,0.6"
# (row, column) of each crop's top-left corner: the head's top, the muzzle, the chin
PHONE_CROPS = ((1400, 2050), (1950, 2560), (2160, 2520))
PHONE_CROP_PX = 100
PHONE_ZOOM = 4


def srgb8(linear: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(display(linear) * 255.0), 0, 255).astype(np.uint8)


def second_difference(frames: list[np.ndarray]) -> np.ndarray:
    """|v[k+1] - 2 v[k] + v[k-1]| of display luma, as metrics.rack_jumps counts it."""
    luma = [display(f) @ np.array(LUMA_WEIGHTS) for f in frames]
    return np.abs(luma[2] - 2.0 * luma[1] + luma[0])


def rack_strip(ctx: Any, compositor: Any) -> np.ndarray:
    from dataclasses import replace

    from realtime.baselines import BruteForce
    from realtime.passes.constants import shader_defines
    from realtime.pipeline import read_rgb
    from realtime.smoothness import rack_input, rack_lenses

    _, color, depth = rack_input(ctx)
    lenses, largest = rack_lenses(depth, depth.shape[1])
    clamp = float(np.ceil(largest))
    brute = BruteForce(ctx, shader_defines(clamp))
    textures = compositor.upload(color, depth)
    color_tex, depth_tex = textures
    rows = []
    for kind in ("pipeline", "brute"):
        maps = []
        for k in STRIP_FRAMES:
            frames = []
            for lens in lenses[k - 1 : k + 2]:
                if kind == "pipeline":
                    out = compositor.render_textures(*textures, lens)
                else:
                    out = brute.run(color_tex, depth_tex, replace(lens, max_coc_px=clamp))
                frames.append(read_rgb(out))
            diff = second_difference(frames)
            print(f"{kind} frame {k}: {(diff > 3 / 255).mean() * 100:.3f}% over 3/255")
            maps.append(np.clip(diff * GAIN * 255.0, 0, 255).astype(np.uint8)[::2, ::2])
        rows.append(np.concatenate(maps, axis=1))
    brute.release()
    strip = np.concatenate(rows, axis=0)
    return np.repeat(strip[..., None], 3, axis=2)


def large_blur(ctx: Any, compositor: Any, before: Path | None, save: Path | None) -> np.ndarray:
    from realtime.baselines import BruteForce
    from realtime.bench import BRUTE_BAND
    from realtime.groundtruth import SCENES, render_ground_truth, render_rgbd
    from realtime.passes.constants import shader_defines
    from realtime.pipeline import read_rgb

    scene = SCENES["demo"]()
    w, h = LARGE_SIZE
    color, depth = render_rgbd(ctx, scene, scene.lens, w, h)
    lens = lens_for_max_coc(scene.lens, depth, LARGE_COC)
    textures = compositor.upload(color, depth)
    out = read_rgb(compositor.render_textures(*textures, lens))
    rows = round(h * BRUTE_BAND)
    first = (h - rows) // 2
    band = slice(first, first + rows)
    brute = BruteForce(ctx, shader_defines(LARGE_COC))
    color_tex, depth_tex = textures
    reference = read_rgb(brute.run(color_tex, depth_tex, lens, rows=(first, rows)))
    brute.release()
    truth = render_ground_truth(ctx, scene, lens, w, h, samples=256)
    if save is not None:
        np.save(save, out[band])  # for --before in a later checkout
    panels = [("ground truth", truth[band])]
    if before is not None:
        panels.append(("before", np.load(before)))
    panels += [("pipeline", out[band]), ("brute force", reference[band])]
    for name, image in panels[1:]:
        print(f"large blur {name}: band PSNR {psnr(image, truth[band]):.2f} dB")
    gap = np.full((4, w, 3), 255, np.uint8)
    parts = [p for _, image in panels for p in (srgb8(image), gap)][:-1]
    return np.concatenate(parts, axis=0)


def demo_figures() -> tuple[np.ndarray, np.ndarray]:
    """(input | depth | near-focus output at 480x270, the rack strip at 240x135)."""
    import tempfile

    from realtime.cli import main as rackfocus

    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "big", Path(folder) / "small"
        rackfocus(["demo", "-o", str(big), "--size", "480x270", "--no-video"])
        rackfocus(["demo", "-o", str(small), "--size", "240x135", "--no-video"])
        panels = [iio.imread(big / f"{name}.png") for name in ("input", "depth", "near")]
        return np.concatenate(panels, axis=1), iio.imread(small / "strip.png")


def tum_before_after() -> np.ndarray:
    """The TUM frame and its render (focus 2.2 m, f/1.4), side by side at half size."""
    import tempfile

    from realtime.cli import main as rackfocus

    tum = DOCS.parent / "tests" / "data" / "tum"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.png"
        args = ["render", "--rgb", str(tum / "color.png"), "--depth", str(tum / "depth.png")]
        lens = ["--depth-scale", "0.0002", "--focus", "2.2", "--f-number", "1.4"]
        rackfocus([*args, *lens, "-o", str(out)])
        pair = [iio.imread(tum / "color.png")[..., :3], iio.imread(out)]
    return np.concatenate([p[::2, ::2] for p in pair], axis=1)


def live_depth_conditioning(ctx: Any, compositor: Any) -> np.ndarray:
    """Clean | raw | conditioned renders of synthetic:demo's sensor frame 11 (top) and their
    differences to frame 10, x8 (bottom); see the module docstring."""
    from realtime.frameloop import FrameLoop
    from realtime.pipeline import read_rgb
    from realtime.sources.synthetic import SyntheticClip

    size, frame, focus_m = (320, 180), 11, 1.78
    noisy = SyntheticClip("demo", size, 30.0, "realsense")
    clean = SyntheticClip("demo", size, 30.0, None)
    lens = noisy.lens.with_focus(focus_m)
    try:
        loops = (
            FrameLoop(compositor, clean),
            FrameLoop(compositor, noisy),
            FrameLoop(compositor, noisy, condition_depth=True),
        )
        columns = []
        for loop in loops:
            shots = [srgb8(read_rgb(loop.compose(k, lens))) for k in range(frame + 1)]
            diff = np.abs(shots[-1].astype(np.int16) - shots[-2].astype(np.int16)) * GAIN
            columns.append(np.concatenate([shots[-1], np.clip(diff, 0, 255).astype(np.uint8)]))
    finally:
        noisy.close()
        clean.close()
    return np.concatenate(columns, axis=1)


def phone_crops() -> np.ndarray:
    """Nearest | guided crops of the phone photo, one row per crop (see the docstring)."""
    import tempfile

    from realtime.cli import main as rackfocus

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        renders = []
        for mode in ("nearest", "guided"):
            out = Path(folder) / f"{mode}.png"
            args = ["render", "--rgb", str(PHONE_PHOTO), "--focus-at", PHONE_FOCUS_AT]
            rackfocus([*args, "--depth-upsample", mode, "-o", str(out)])
            renders.append(iio.imread(out))
    gap = np.full((PHONE_CROP_PX * PHONE_ZOOM, 8, 3), 255, np.uint8)
    for y, x in PHONE_CROPS:
        crops = [r[y : y + PHONE_CROP_PX, x : x + PHONE_CROP_PX] for r in renders]
        zoomed = [np.kron(c, np.ones((PHONE_ZOOM, PHONE_ZOOM, 1), np.uint8)) for c in crops]
        rows.append(np.concatenate([zoomed[0], gap, zoomed[1]], axis=1))
    return np.concatenate(rows, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a large-blur band saved by another checkout")
    parser.add_argument("--save-band", type=Path, help="save this checkout's large-blur band")
    parser.add_argument(
        "--only", choices=("demo", "tum", "live", "rack", "large", "phone"), help="make one"
    )
    args = parser.parse_args()
    from realtime.pipeline import Compositor

    if args.only in (None, "phone"):
        iio.imwrite(DOCS / "phone-before-after.png", phone_crops())
    if args.only in (None, "demo"):
        panels, strip = demo_figures()
        iio.imwrite(DOCS / "demo-input-depth-output.png", panels)
        iio.imwrite(DOCS / "demo-rack-strip.png", strip)
    if args.only in (None, "tum"):
        iio.imwrite(DOCS / "tum-before-after.png", tum_before_after())
    compositor = Compositor()
    ctx = compositor.ctx
    if args.only in (None, "rack"):
        iio.imwrite(DOCS / "rack-difference-strip.png", rack_strip(ctx, compositor))
    if args.only in (None, "live"):
        iio.imwrite(DOCS / "live-depth-conditioning.png", live_depth_conditioning(ctx, compositor))
    if args.only in (None, "large"):
        iio.imwrite(
            DOCS / "large-blur.png", large_blur(ctx, compositor, args.before, args.save_band)
        )


if __name__ == "__main__":
    main()
