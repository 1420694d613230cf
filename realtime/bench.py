"""`rackfocus bench`: speed against the floor and brute force, quality against ground truth.

Every time is GPU-synchronised (the chain is issued, then `ctx.finish()`) and
is the median of `--repeat` runs after one warm-up run, all in one process so
that ratios compare like with like. The brute-force reference costs seconds
per frame at large sizes and the same for every pixel (it visits the whole
largest disc everywhere), so it is drawn over a band of BRUTE_BAND of the
rows through the middle of the frame (fewer where that would take more than
BRUTE_TAPS taps: large blur at large sizes), timed once, and its time scaled to the
whole frame; its PSNR is taken over that band, next to the pipeline's over
the same band. Rack smoothness (realtime/smoothness.py) renders a fixed rack
with both and counts the pixel-steps whose second temporal difference jumps.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from realtime.errors import InputError
from realtime.options import parse_size

SIZES = ((960, 540), (1920, 1080), (3840, 2160))
MAX_COCS = (8.0, 32.0, 64.0, 128.0, 250.0)
SPEED_SCENE = "demo"  # the scene the speed cases render, scaled to each size
QUALITY_SIZE = (960, 540)  # size of the per-scene quality table
GT_SAMPLES = 256  # aperture samples of the accumulation-buffer ground truth
BRUTE_BAND = 0.25  # share of the rows the brute-force reference is drawn over
BRUTE_TAPS = 1.5e10  # at most this many brute-force taps per case (minutes on llvmpipe)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="benchmark speed and quality against ground truth")
    parser.add_argument(
        "--size",
        action="append",
        metavar="WxH",
        help="frame size (repeatable; default 960x540, 1920x1080, 3840x2160)",
    )
    parser.add_argument(
        "--max-coc",
        action="append",
        type=float,
        metavar="PX",
        help="largest CoC diameter (repeatable; default 8, 32, 64, 128, 250)",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, metavar="K", help="timed runs per case (default 5)"
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=GT_SAMPLES,
        metavar="N",
        help=f"ground-truth aperture samples (default {GT_SAMPLES})",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    parser.add_argument(
        "--no-quality", action="store_true", help="skip the per-scene quality table"
    )
    parser.add_argument("--no-rack", action="store_true", help="skip the rack-smoothness measure")
    parser.set_defaults(run=run)


def lens_for_max_coc(lens: Any, depth: Any, max_coc: float) -> Any:
    """The scene's lens in artistic mode, scaled so the largest |CoC| is `max_coc`."""
    from dataclasses import replace

    import numpy as np

    extent = float(np.max(np.abs(1.0 / lens.focus_m - 1.0 / depth)))
    k = max_coc / extent  # coc = K (1/zf - 1/z)
    return replace(lens, artistic_blur_px=k / lens.focus_m, max_coc_px=max_coc)


def median_ms(ctx: Any, issue: Callable[[], object], repeat: int, warm_up: bool = True) -> float:
    """Median wall time of `issue(); ctx.finish()` in milliseconds."""
    if warm_up:
        issue()
        ctx.finish()
    times = []
    for _ in range(max(1, repeat)):
        ctx.finish()
        start = time.perf_counter()
        issue()
        ctx.finish()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def pass_ms(
    ctx: Any, compositor: Any, color: Any, depth: Any, lens: Any, repeat: int
) -> dict[str, float]:
    """Median time of each pass, each finished on its own."""
    samples: dict[str, list[float]] = {}
    clock = [0.0]

    def lap(name: str) -> None:
        ctx.finish()
        now = time.perf_counter()
        samples.setdefault(name, []).append((now - clock[0]) * 1000.0)
        clock[0] = now

    compositor.render_textures(color, depth, lens)
    for _ in range(max(1, repeat)):
        ctx.finish()
        clock[0] = time.perf_counter()
        compositor.render_textures(color, depth, lens, after_pass=lap)
    return {name: statistics.median(v) for name, v in samples.items()}


def speed_case(
    ctx: Any, tools: dict[str, Any], size: tuple[int, int], max_coc: float, args: argparse.Namespace
) -> dict[str, Any]:
    from realtime.groundtruth import SCENES, render_ground_truth, render_rgbd
    from realtime.metrics import psnr, ssim
    from realtime.pipeline import read_rgb

    scene = SCENES[SPEED_SCENE]()
    w, h = size
    color, depth = render_rgbd(ctx, scene, scene.lens, w, h)
    lens = lens_for_max_coc(scene.lens, depth, max_coc)
    comp, floor, brute = tools["compositor"], tools["floor"](max_coc), tools["brute"](max_coc)
    color_tex, depth_tex = comp.upload(color, depth)
    pipeline_ms = median_ms(
        ctx, lambda: comp.render_textures(color_tex, depth_tex, lens), args.repeat
    )
    floor_ms = median_ms(ctx, lambda: floor.run(color_tex, depth_tex, lens), args.repeat)
    passes = pass_ms(ctx, comp, color_tex, depth_tex, lens, args.repeat)
    out = read_rgb(comp.render_textures(color_tex, depth_tex, lens))
    taps_per_row = w * (2 * math.ceil(max_coc / 2) + 1) ** 2
    band_rows = min(h, max(16, min(round(h * BRUTE_BAND), round(BRUTE_TAPS / taps_per_row))))
    first = (h - band_rows) // 2
    band = slice(first, first + band_rows)  # texture rows = image rows (top first)
    brute.run(color_tex, depth_tex, lens, rows=(first, 1))  # llvmpipe compiles on first draw
    band_ms = median_ms(
        ctx,
        lambda: brute.run(color_tex, depth_tex, lens, rows=(first, band_rows)),
        1,
        warm_up=False,
    )
    brute_out = read_rgb(brute.output)
    truth = render_ground_truth(ctx, scene, lens, w, h, samples=args.samples)
    return {
        "width": w,
        "height": h,
        "max_coc": max_coc,
        "pipeline_ms": round(pipeline_ms, 2),
        "floor_ms": round(floor_ms, 2),
        "brute_ms": round(band_ms * h / band_rows, 2),
        "band_rows": band_rows,
        "psnr": round(psnr(out, truth), 2),
        "band_psnr": round(psnr(out[band], truth[band]), 2),
        "brute_psnr": round(psnr(brute_out[band], truth[band]), 2),
        "ssim": round(ssim(out, truth), 4),
        "passes_ms": {k: round(v, 2) for k, v in passes.items()},
    }


def in_focus_case(
    ctx: Any, tools: dict[str, Any], size: tuple[int, int], args: argparse.Namespace
) -> dict[str, Any]:
    """An all-in-focus frame: every tile takes the copy path."""
    import numpy as np

    from realtime.lens import Lens

    w, h = size
    rng = np.random.default_rng(0)
    color = rng.random((h, w, 3), dtype=np.float32)
    depth = np.full((h, w), 3.0, np.float32)
    lens = Lens(focus_m=3.0)
    comp, floor = tools["compositor"], tools["floor"](lens.clamp_px)
    color_tex, depth_tex = comp.upload(color, depth)
    return {
        "width": w,
        "height": h,
        "pipeline_ms": round(
            median_ms(ctx, lambda: comp.render_textures(color_tex, depth_tex, lens), args.repeat), 2
        ),
        "floor_ms": round(
            median_ms(ctx, lambda: floor.run(color_tex, depth_tex, lens), args.repeat), 2
        ),
    }


def conditioning_case(
    ctx: Any, tools: dict[str, Any], size: tuple[int, int], args: argparse.Namespace
) -> dict[str, Any]:
    """Depth conditioning (realtime.passes.depth) of one sensor frame with a full temporal
    window: its cost per frame, beside the floor's. It runs once per input frame, before
    the chain, and not per lens change."""
    import numpy as np

    from realtime.lens import Lens
    from realtime.passes.depth import TEMPORAL_FRAMES, DepthConditioner

    w, h = size
    rng = np.random.default_rng(0)
    color = rng.random((h, w, 3), dtype=np.float32)
    depth = (2.0 + 0.02 * rng.standard_normal((h, w))).astype(np.float32)
    depth[rng.random((h, w)) < 0.05] = np.nan  # sensor holes
    comp, floor = tools["compositor"], tools["floor"](Lens().clamp_px)
    color_tex, depth_tex = comp.upload(color, depth)
    conditioner = DepthConditioner(ctx)
    frame = [0]

    def condition() -> None:
        conditioner.run(color_tex, depth_tex, frame[0])
        frame[0] += 1

    for _ in range(TEMPORAL_FRAMES):  # fill the temporal window
        condition()
    ms = median_ms(ctx, condition, args.repeat)
    floor_ms = median_ms(ctx, lambda: floor.run(color_tex, depth_tex, Lens()), args.repeat)
    conditioner.release()
    return {
        "width": w,
        "height": h,
        "conditioning_ms": round(ms, 2),
        "floor_ms": round(floor_ms, 2),
    }


def upsampling_case(
    ctx: Any, tools: dict[str, Any], size: tuple[int, int], args: argparse.Namespace
) -> dict[str, Any]:
    """Guided depth upsampling (realtime.passes.upsample) of a phone's depth, a fifth of
    the colour's size: its cost per input frame, beside the floor's."""
    import numpy as np

    from realtime.lens import Lens
    from realtime.passes.upsample import GuidedUpsampler
    from realtime.sources.phone import PHONE_FACTOR

    w, h = size
    rng = np.random.default_rng(0)
    color = rng.random((h, w, 3), dtype=np.float32)
    small = (2.0 + rng.random((h // PHONE_FACTOR, w // PHONE_FACTOR))).astype(np.float32)
    comp, floor = tools["compositor"], tools["floor"](Lens().clamp_px)
    color_tex, depth_tex = comp.upload(color, small)
    upsampler = GuidedUpsampler(ctx)
    ms = median_ms(ctx, lambda: upsampler.run(color_tex, depth_tex), args.repeat)
    full_tex = upsampler.run(color_tex, depth_tex)
    floor_ms = median_ms(ctx, lambda: floor.run(color_tex, full_tex, Lens()), args.repeat)
    upsampler.release()
    return {"width": w, "height": h, "upsampling_ms": round(ms, 2), "floor_ms": round(floor_ms, 2)}


def quality_table(
    ctx: Any, tools: dict[str, Any], args: argparse.Namespace
) -> list[dict[str, Any]]:
    import numpy as np

    from realtime.groundtruth import SCENES, render_ground_truth, render_rgbd
    from realtime.metrics import psnr, ssim
    from realtime.pipeline import read_rgb

    rows = []
    w, h = QUALITY_SIZE
    for name, make in SCENES.items():
        scene = make()
        color, depth = render_rgbd(ctx, scene, scene.lens, w, h)
        truth = render_ground_truth(ctx, scene, scene.lens, w, h, samples=args.samples)
        out = tools["compositor"].render(color, depth, scene.lens)
        # brute force visits a square of its clamp's size: the scene's own largest blur
        brute = tools["brute"](float(math.ceil(np.abs(scene.lens.coc_px(depth, w)).max())))
        brute_out = read_rgb(brute.run(*tools["compositor"].upload(color, depth), scene.lens))
        rows.append(
            {
                "scene": name,
                "width": w,
                "height": h,
                "psnr": round(psnr(out, truth), 2),
                "ssim": round(ssim(out, truth), 4),
                "brute_psnr": round(psnr(brute_out, truth), 2),
                "input_psnr": round(psnr(color, truth), 2),
            }
        )
    return rows


SPEED_HEADER = (
    f"{'size':>10} {'maxCoC':>6} {'pipeline':>8} {'floor':>7} {'/floor':>6} {'brute':>8} "
    f"{'brute/pipe':>10} {'PSNR':>6} {'band':>6} {'brute':>6}  passes (ms)"
)


def speed_row(case: dict[str, Any]) -> str:
    """One line of the speed table (brute PSNR is over the band, like 'band')."""
    passes = " ".join(f"{k} {v:.1f}" for k, v in case["passes_ms"].items())
    return (
        f"{case['width']:>5}x{case['height']:<4} {case['max_coc']:>6.0f} "
        f"{case['pipeline_ms']:>6.1f}ms {case['floor_ms']:>5.1f}ms "
        f"{case['pipeline_ms'] / case['floor_ms']:>6.1f} {case['brute_ms']:>6.0f}ms "
        f"{case['brute_ms'] / case['pipeline_ms']:>10.1f} {case['psnr']:>6.2f} "
        f"{case['band_psnr']:>6.2f} {case['brute_psnr']:>6.2f}  {passes}"
    )


def run(args: argparse.Namespace) -> int:
    from functools import cache

    from realtime.baselines import BruteForce, Floor
    from realtime.gl.context import create_offscreen_context, renderer_name
    from realtime.lens import MAX_COC_LIMIT_PX
    from realtime.passes.constants import shader_defines
    from realtime.pipeline import Compositor

    if args.repeat < 1:
        raise InputError(f"--repeat must be at least 1, got {args.repeat}")
    if args.samples < 1:
        raise InputError(f"--samples must be at least 1, got {args.samples}")
    for m in args.max_coc or ():
        if not 1.0 <= m <= MAX_COC_LIMIT_PX:
            raise InputError(f"--max-coc must be within 1..{MAX_COC_LIMIT_PX:g} px, got {m}")
    ctx = create_offscreen_context()

    @cache
    def floor(max_coc: float) -> Floor:
        return Floor(ctx, shader_defines(max_coc))

    @cache
    def brute(max_coc: float) -> BruteForce:
        return BruteForce(ctx, shader_defines(max_coc))

    tools = {"compositor": Compositor(ctx), "floor": floor, "brute": brute}
    sizes = [parse_size(text) for text in args.size] if args.size else list(SIZES)
    max_cocs = args.max_coc or list(MAX_COCS)
    report: dict[str, Any] = {
        "renderer": renderer_name(ctx),
        "scene": SPEED_SCENE,
        "cases": [],
        "in_focus": [],
        "conditioning": [],
        "upsampling": [],
        "quality": [],
        "rack": None,
    }
    print(f"renderer: {report['renderer']}   scene: {SPEED_SCENE}   repeat: {args.repeat}")
    print(SPEED_HEADER)
    for size in sizes:
        for max_coc in max_cocs:
            case = speed_case(ctx, tools, size, max_coc, args)
            report["cases"].append(case)
            print(speed_row(case), flush=True)
        focus = in_focus_case(ctx, tools, size, args)
        report["in_focus"].append(focus)
        ratio = focus["pipeline_ms"] / focus["floor_ms"]
        print(
            f"{focus['width']:>5}x{focus['height']:<4} in focus {focus['pipeline_ms']:>6.1f}ms "
            f"{focus['floor_ms']:>5.1f}ms {ratio:>6.1f}",
            flush=True,
        )
        cond = conditioning_case(ctx, tools, size, args)
        report["conditioning"].append(cond)
        ratio = cond["conditioning_ms"] / cond["floor_ms"]
        print(
            f"{cond['width']:>5}x{cond['height']:<4} depth conditioning "
            f"{cond['conditioning_ms']:>6.1f}ms {cond['floor_ms']:>5.1f}ms {ratio:>6.1f}",
            flush=True,
        )
        up = upsampling_case(ctx, tools, size, args)
        report["upsampling"].append(up)
        ratio = up["upsampling_ms"] / up["floor_ms"]
        print(
            f"{up['width']:>5}x{up['height']:<4} depth upsampling (1/5) "
            f"{up['upsampling_ms']:>6.1f}ms {up['floor_ms']:>5.1f}ms {ratio:>6.1f}",
            flush=True,
        )
    if not args.no_quality:
        w, h = QUALITY_SIZE
        print(f"\nquality at {w}x{h}, {args.samples}-sample ground truth (display-referred dB):")
        print(f"{'scene':>12} {'PSNR':>6} {'SSIM':>7} {'brute':>6} {'input':>6}")
        for row in quality_table(ctx, tools, args):
            report["quality"].append(row)
            print(
                f"{row['scene']:>12} {row['psnr']:>6.2f} {row['ssim']:>7.4f} "
                f"{row['brute_psnr']:>6.2f} {row['input_psnr']:>6.2f}",
                flush=True,
            )
    if not args.no_rack:
        from realtime.smoothness import RACK_FRAMES, rack_smoothness

        print(f"\nrack smoothness, {RACK_FRAMES} frames (share of pixel-steps that jump, p99.9):")
        rack = rack_smoothness(ctx, tools["compositor"])
        report["rack"] = rack
        print(
            f"{rack['input']:>5} {rack['width']}x{rack['height']} largest CoC "
            f"{rack['largest_coc']:.1f}px: pipeline {rack['share_pct']:.3f}% "
            f"({rack['p999']:.1f}/255), brute force {rack['brute_share_pct']:.3f}% "
            f"({rack['brute_p999']:.1f}/255), ratio "
            f"{rack['share_pct'] / max(rack['brute_share_pct'], 1e-9):.2f}",
            flush=True,
        )
    if args.json:
        try:
            args.json.write_text(json.dumps(report, indent=2) + "\n")
        except OSError as exc:
            raise InputError(f"{args.json}: cannot write ({exc.strerror})") from exc
    return 0
