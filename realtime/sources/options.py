"""The input options every front end shares, and loading the inputs they name.

    --rgb PATH --depth PATH [--depth-scale S | --disparity FB | --inverse-depth NEAR:FAR]
    [--resize-depth]

Option values are parsed by realtime.options' parsers, so a bad value is one line.
"""

from __future__ import annotations

import argparse

import numpy as np

from realtime.errors import InputError
from realtime.options import parse_positive
from realtime.sources.depth import (
    DepthConvention,
    depth_for_color,
    load_depth,
)
from realtime.sources.images import load_color


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --rgb, --depth, the depth-convention options and --resize-depth to `parser`."""
    group = parser.add_argument_group("inputs")
    group.add_argument("--rgb", required=True, metavar="PATH", help="colour image")
    group.add_argument(
        "--depth",
        required=True,
        metavar="PATH",
        help="depth map, same size as the colour; float metres unless one of the next three",
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
        help="resample the depth (nearest) to the colour size when they differ",
    )


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


def load_inputs(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """Load (colour HxWx3 linear, depth HxW metres) as the options say; both all finite.

    Options are checked before any file is read. Sizes must match unless
    --resize-depth is given; holes in the depth are then filled, guided by the
    colour (see fill_invalid_depth).
    """
    convention = convention_from_args(args)
    return load_pair(args.rgb, args.depth, convention, args.resize_depth)


def load_pair(
    rgb: str, depth: str, convention: DepthConvention, resize_depth: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(colour HxWx3 linear, depth HxW metres, filled) of a still pair; see load_inputs."""
    color = load_color(rgb)
    z = load_depth(depth, convention)
    return color, depth_for_color(z, color, resize_depth, str(depth), str(rgb))


__all__ = ["add_input_arguments", "convention_from_args", "load_inputs", "load_pair"]
