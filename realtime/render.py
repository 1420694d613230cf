"""`rackfocus render`: one RGB-D image in, one depth-of-field image out."""

from __future__ import annotations

import argparse

import numpy as np

from realtime.cli import lens_from_args
from realtime.pipeline import Compositor
from realtime.sources.options import load_inputs
from realtime.sources.writers import write_image


def render_command(args: argparse.Namespace) -> int:
    lens = lens_from_args(args)  # validate options before reading files
    color, depth = load_inputs(args)
    out = Compositor().render(color, depth, lens)
    if not np.isfinite(out).all():
        raise RuntimeError("the compositor produced non-finite pixels")
    write_image(args.output, out)
    return 0
