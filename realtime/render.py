"""`rackfocus render`: one RGB-D image in, one depth-of-field image out."""

from __future__ import annotations

import argparse

from realtime.options import add_lens_arguments, lens_from_args
from realtime.sources.options import add_input_arguments


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("render", help="render an RGB-D image with depth of field")
    add_input_arguments(parser)
    add_lens_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output .png (8-bit sRGB), .exr/.tif/.npy (float, linear)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from realtime.pipeline import Compositor
    from realtime.sources.options import load_inputs
    from realtime.sources.writers import write_image

    lens = lens_from_args(args)  # check the options before reading files
    color, depth = load_inputs(args)
    out = Compositor().render(color, depth, lens)
    if not np.isfinite(out).all():
        raise RuntimeError("the compositor produced non-finite pixels")
    write_image(args.output, out)
    return 0
