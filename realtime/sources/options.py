"""The input options every front end shares, and loading the inputs they name.

    --rgb PATH --depth PATH | --source SPEC
    [--depth-scale S | --disparity FB | --inverse-depth NEAR:FAR] [--resize-depth]
    [--sensor-noise MODEL] [--condition-depth on|off]

Option values are parsed by realtime.options' parsers, so a bad value is one line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from realtime.errors import InputError
from realtime.options import parse_positive
from realtime.sources.depth import (
    UPSAMPLE_MODES,
    DepthConvention,
    depth_for_color,
    is_smaller_picture,
    load_depth,
    resample_depth,
)
from realtime.sources.images import PathLike, load_color

if TYPE_CHECKING:
    from realtime.sources.live import Clip
    from realtime.sources.photos import PhotoDepth
    from realtime.sources.spec import SourceSpec


SENSOR_SOURCES = ("realsense", "recording", "synthetic")  # kinds whose depth is conditioned
ON_OFF = ("on", "off")


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --rgb, --depth or --source, the depth-convention options, --resize-depth and the
    sensor options to `parser`."""
    group = parser.add_argument_group("inputs")
    group.add_argument(
        "--rgb", metavar="PATH", help="colour image, sequence (rgb_%%04d.png, rgb_*.png) or video"
    )
    group.add_argument(
        "--depth",
        metavar="PATH",
        help="depth map, same size as the colour; float metres unless one of the next three. "
        "Without it, the depth stored in the --rgb photo (iPhone HEIC, Dynamic Depth or "
        "GDepth JPEG, EXR with Z)",
    )
    group.add_argument(
        "--source",
        metavar="SPEC",
        help="instead of --rgb/--depth: realsense[:SERIAL] (live camera), realsense:REC.db3, "
        "synthetic:NAME (a moving test scene), video:COLOR,DEPTH or seq:COLOR,DEPTH",
    )
    group.add_argument(
        "--sensor-noise",
        metavar="MODEL",
        help="pass a synthetic: scene's depth through a sensor model: realsense",
    )
    group.add_argument(
        "--rs-filters",
        action="store_true",
        help="run the RealSense SDK's own depth filters (spatial, temporal, hole filling) on "
        "a realsense source, to compare with --condition-depth",
    )
    group.add_argument(
        "--condition-depth",
        metavar="on|off",
        help="condition sensor depth on the GPU (fill holes, snap edges to colour, steady "
        "flicker); default on for realsense and synthetic sources, off for files",
    )
    convention = group.add_mutually_exclusive_group()
    convention.add_argument(
        "--depth-scale",
        metavar="S",
        help="integer depth times S is metres (0.001 for millimetres, 0.0002 for TUM)",
    )
    convention.add_argument(
        "--disparity",
        metavar="FB",
        help="depth is disparity in pixels; FB = focal length (px) x baseline (m)",
    )
    convention.add_argument(
        "--inverse-depth",
        metavar="NEAR:FAR",
        help="normalised inverse depth (larger = nearer, e.g. from a monocular network), "
        "mapped to NEAR..FAR metres",
    )
    group.add_argument(
        "--resize-depth",
        action="store_true",
        help="resample the depth (nearest) to the colour size when they differ (other than "
        "a smaller depth of the same picture, which --depth-upsample handles)",
    )
    group.add_argument(
        "--depth-upsample",
        default="guided",
        metavar="MODE",
        help="depth smaller than the colour with its aspect ratio (phone photos): guided "
        "(default: on the GPU, edges follow the colour's), nearest or bilinear",
    )


@dataclass(frozen=True)
class Inputs:
    """What the input options name, checked (no file opened yet)."""

    rgb: PathLike | None  # colour input (file, sequence, video); None with a sensor --source
    depth: PathLike | None  # depth input, same kinds
    source: SourceSpec | None  # a camera, recording or synthetic scene; None for files
    convention: DepthConvention  # how stored depth becomes metres (files, videos)
    resize_depth: bool  # resample depth to the colour's size when they differ
    sensor_noise: str | None  # sensor model for a synthetic scene
    condition_depth: bool  # condition depth on the GPU (realtime.passes.depth)
    rs_filters: bool = False  # the RealSense SDK's depth filters (realtime.sources.rsfilters)
    depth_upsample: str = "guided"  # depth smaller than the colour: guided | nearest | bilinear


def inputs_from_args(args: argparse.Namespace) -> Inputs:
    """The checked input options; --source video:/seq: become --rgb and --depth.

    --rgb and --depth stay optional here (a cue file may supply them); front ends
    that need them check `rgb`/`source`.
    """
    from realtime.sources.sensor import sensor_model
    from realtime.sources.spec import parse_source

    rgb, depth, source = args.rgb, args.depth, None
    if args.source is not None:
        if rgb is not None or depth is not None:
            raise InputError("--source names the inputs; give it or --rgb/--depth, not both")
        source = parse_source(args.source)
        if source.kind in ("video", "seq"):
            rgb, depth, source = source.color, source.depth, None
    if args.sensor_noise is not None:
        sensor_model(args.sensor_noise)  # one line naming the models
        if source is None or source.kind != "synthetic":
            raise InputError("--sensor-noise applies to --source synthetic:NAME")
    if args.rs_filters and (source is None or source.kind not in ("realsense", "recording")):
        raise InputError("--rs-filters applies to --source realsense (cameras and recordings)")
    condition = source is not None and source.kind in SENSOR_SOURCES
    if args.condition_depth is not None:
        if args.condition_depth not in ON_OFF:
            raise InputError(f"--condition-depth {args.condition_depth}: expected on or off")
        condition = args.condition_depth == "on"
    return Inputs(
        rgb=rgb,
        depth=depth,
        source=source,
        convention=convention_from_args(args),
        resize_depth=args.resize_depth,
        sensor_noise=args.sensor_noise,
        condition_depth=condition,
        rs_filters=args.rs_filters,
        depth_upsample=upsample_mode(args),
    )


def open_inputs(
    inputs: Inputs,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    loop: bool = False,
) -> tuple[Clip, float | None]:
    """The clip the inputs name, and its own frame rate (a colour video's, a recording's, a
    synthetic scene's; None for images). `fps` sets a synthetic scene's rate (default 30)."""
    from realtime.sources.frames import open_frames
    from realtime.sources.realsense import RealSenseRecording
    from realtime.sources.spec import open_source
    from realtime.sources.synthetic import DEFAULT_FPS, SyntheticClip
    from realtime.sources.video import ColorVideo

    if inputs.source is None:
        if inputs.rgb is not None and inputs.depth is None:  # a photo that carries its depth
            if inputs.convention.kind != "metric":
                raise InputError(
                    "the depth-convention options apply to --depth; a photo's own "
                    "depth states its convention"
                )
            photo, depth = load_photo(inputs.rgb, inputs.resize_depth, inputs.depth_upsample)
            return PhotoClip(photo, depth, size), None
        if inputs.rgb is None or inputs.depth is None:
            raise InputError("--rgb and --depth (or --source) are required")
        frames = open_frames(
            inputs.rgb,
            inputs.depth,
            inputs.convention,
            inputs.resize_depth,
            loop,
            size,
            inputs.depth_upsample,
        )
        video = frames.color if isinstance(frames.color, ColorVideo) else None
        rate = video.reader.fps if video is not None and video.reader.fps > 0 else None
        return frames, rate
    if inputs.source.live:
        raise InputError(f"--source {inputs.source.text}: a live camera is not a clip")
    if inputs.source.kind == "recording" and size is not None:
        raise InputError("--size does not apply to a recording; it plays at its own size")
    clip = open_source(
        inputs.source,
        None,
        inputs.sensor_noise,
        size,
        fps or DEFAULT_FPS,
        loop,
        sdk_filters=inputs.rs_filters,
    )
    assert isinstance(clip, RealSenseRecording | SyntheticClip)  # the clips a spec opens
    return clip, float(clip.fps)


def upsample_mode(args: argparse.Namespace) -> str:
    """--depth-upsample, checked."""
    mode = getattr(args, "depth_upsample", None) or "guided"
    if mode not in UPSAMPLE_MODES:
        raise InputError(f"--depth-upsample {mode}: expected one of {', '.join(UPSAMPLE_MODES)}")
    return mode


def convention_from_args(args: argparse.Namespace) -> DepthConvention:
    """The DepthConvention the options name; none given means float metres."""
    if getattr(args, "depth_scale", None) is not None:
        return DepthConvention.scaled(parse_positive(args.depth_scale, "--depth-scale", "S"))
    if getattr(args, "disparity", None) is not None:
        return DepthConvention.disparity(parse_positive(args.disparity, "--disparity", "FB"))
    if getattr(args, "inverse_depth", None) is not None:
        text = args.inverse_depth
        parts = text.split(":")
        if len(parts) != 2:
            raise InputError(f"--inverse-depth {text}: expected NEAR:FAR in metres, e.g. 0.5:20")
        near = parse_positive(parts[0], "--inverse-depth", "NEAR")
        far = parse_positive(parts[1], "--inverse-depth", "FAR")
        if not near < far:
            raise InputError(f"--inverse-depth {text}: NEAR must be less than FAR")
        return DepthConvention.inverse(near, far)
    return DepthConvention.metric()


def load_inputs(
    args: argparse.Namespace, keep_integers: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load (colour HxWx3 linear, depth HxW metres) as the options say; both all finite.

    Options are checked before any file is read. Sizes must match unless
    --resize-depth is given; holes in the depth are then filled, guided by the
    colour (see fill_invalid_depth). `keep_integers`: see load_color.
    """
    convention = convention_from_args(args)
    upsample = upsample_mode(args)
    return load_pair(args.rgb, args.depth, convention, args.resize_depth, keep_integers, upsample)


def load_pair(
    rgb: str,
    depth: str,
    convention: DepthConvention,
    resize_depth: bool = False,
    keep_integers: bool = False,
    depth_upsample: str = "guided",
) -> tuple[np.ndarray, np.ndarray]:
    """(colour HxWx3 linear, depth HxW metres, filled) of a still pair; see load_inputs."""
    color = load_color(rgb, keep_integers)
    z = load_depth(depth, convention)
    return color, depth_for_color(z, color, resize_depth, str(depth), str(rgb), depth_upsample)


def load_photo(
    rgb: PathLike, resize_depth: bool = False, depth_upsample: str = "guided"
) -> tuple[PhotoDepth, np.ndarray]:
    """A photo that carries its depth (realtime.sources.photos), and that depth made fit
    for the chain by `depth_for_color`: every pixel valid; a phone's depth, a fraction of
    the colour's size, upsampled as `depth_upsample` says (by default on the GPU)."""
    from realtime.sources.photos import read_photo

    photo = read_photo(rgb)
    name = str(rgb)
    depth = depth_for_color(photo.depth_m, photo.color, resize_depth, name, name, depth_upsample)
    return photo, depth


class PhotoClip:
    """A photo that carries its depth as a clip of one still frame (a rack over a phone
    photo), at `size` (width, height) when given: the colour resampled, a smaller depth
    kept for the GPU's guided upsampling."""

    frame_count: int | None = None  # a still: every index shows the same frame

    def __init__(
        self, photo: PhotoDepth, depth: np.ndarray, size: tuple[int, int] | None = None
    ) -> None:
        from realtime.sources.frames import ASPECT_TOLERANCE, resize_color

        self.lens = photo.lens  # what the EXIF says of the lens, for the render's defaults
        self.own = (photo.color, depth)
        height, width = photo.color.shape[:2]
        if size is None or size == (width, height):
            self.frame = self.own
            return
        out_w, out_h = size
        if abs((out_w / out_h) / (width / height) - 1.0) > ASPECT_TOLERANCE:
            raise InputError(
                f"output size {out_w}x{out_h} does not have the photo's aspect ratio "
                f"({width}x{height})"
            )
        if not is_smaller_picture((depth.shape[1], depth.shape[0]), size):
            depth = resample_depth(depth, out_h, out_w)
        self.frame = (resize_color(photo.color, out_w, out_h), depth)

    def input_index(self, k: int) -> int:
        return 0

    def read(self, k: int, resize: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The frame at the output size (with resize=False, at the photo's own)."""
        return self.frame if resize else self.own

    def close(self) -> None:
        """Nothing to release: the photo is in memory."""


__all__ = [
    "Inputs",
    "PhotoClip",
    "add_input_arguments",
    "convention_from_args",
    "inputs_from_args",
    "load_inputs",
    "load_pair",
    "load_photo",
    "open_inputs",
]
