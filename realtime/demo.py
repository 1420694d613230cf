"""`rackfocus demo`: the built-in RGB-D scene, racked from the near subject to the far one.

Needs no input files: the scene rasteriser renders the colour and depth, the
compositor racks focus across it, and the results land in one folder:
input.png, depth.png, near.png (focused on the near ball), far.png (on the
far ball), strip.png (six frames of the rack, left to right) and rack.mp4.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from realtime.errors import InputError
from realtime.options import parse_size

if TYPE_CHECKING:
    import numpy as np

    from realtime.focus import FocusTrack
    from realtime.lens import Lens
    from realtime.pipeline import Compositor

NEAR_M = 1.5  # the demo scene's near subject (realtime/groundtruth/scenes.py)
FAR_M = 5.0  # its far subject
RACK_S = 2.0  # length of the rack in the video
FPS = 24
STRIP_FRAMES = 6


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "demo", help="render the built-in scene with a rack focus (no input files)"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("rackfocus-demo"),
        metavar="DIR",
        help="output folder (default ./rackfocus-demo)",
    )
    parser.add_argument(
        "--size", default="960x540", metavar="WxH", help="frame size (default 960x540)"
    )
    parser.add_argument("--no-video", action="store_true", help="stills only, no rack.mp4")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from realtime.focus import rack
    from realtime.gl.context import create_offscreen_context
    from realtime.groundtruth import SCENES, render_rgbd
    from realtime.outputs.images import write_image
    from realtime.pipeline import Compositor

    width, height = parse_size(args.size)
    out: Path = args.output
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the output folder ({exc.strerror})") from exc
    ctx = create_offscreen_context()
    scene = SCENES["demo"]()
    color, depth = render_rgbd(ctx, scene, scene.lens, width, height)
    compositor = Compositor(ctx)

    write_image(out / "input.png", color)
    # depth as grey in inverse depth (near = bright), the way depth maps are viewed
    inverse = 1.0 / depth
    grey = (inverse - inverse.min()) / max(float(np.ptp(inverse)), 1e-9)
    write_image(out / "depth.png", np.repeat(grey[..., None] ** 2.2, 3, axis=2))
    write_image(out / "near.png", compositor.render(color, depth, scene.lens.with_focus(NEAR_M)))
    write_image(out / "far.png", compositor.render(color, depth, scene.lens.with_focus(FAR_M)))

    track = rack(NEAR_M, FAR_M, RACK_S, easing="focus_puller")
    times = np.linspace(0.0, RACK_S, STRIP_FRAMES)
    frames = [compositor.render(color, depth, track.lens_at(scene.lens, float(t))) for t in times]
    write_image(out / "strip.png", np.concatenate(frames, axis=1))
    print(f"wrote {out}/input.png depth.png near.png far.png strip.png")

    if not args.no_video:
        write_rack_video(compositor, color, depth, scene.lens, track, out / "rack.mp4")
        print(f"wrote {out}/rack.mp4 ({RACK_S:g} s at {FPS} fps, focus {NEAR_M} m -> {FAR_M} m)")
    return 0


def write_rack_video(
    compositor: Compositor,
    color: np.ndarray,
    depth: np.ndarray,
    lens: Lens,
    track: FocusTrack,
    path: Path,
) -> None:
    """The rack as H.264, through the batch renderer's frame loop and video writer."""
    from realtime.batch import Shot, render_frames
    from realtime.frameloop import StillFrames
    from realtime.outputs import open_output

    frame_count = int(round(RACK_S * FPS)) + 1
    height, width = depth.shape
    writer = open_output(path, (width, height), FPS, frame_count)
    shot = Shot(StillFrames(color, depth), lens, track, FPS)
    render_frames(shot, writer, range(frame_count), compositor)
