"""Inputs: colour and depth files, sequences and videos in, as linear colour and metres.

images: colour as float32 linear light. depth: depth as float32 metres under a
stated DepthConvention, hole filling and resampling. frames and video: clips
(sequences, video pairs). options: the shared --rgb/--depth command-line options.
"""

from realtime.sources.depth import (
    DepthConvention,
    fill_invalid_depth,
    load_depth,
    resample_depth,
)
from realtime.sources.images import linear_to_srgb, load_color, srgb_to_linear
from realtime.sources.options import add_input_arguments, convention_from_args, load_inputs

__all__ = [
    "DepthConvention",
    "add_input_arguments",
    "convention_from_args",
    "fill_invalid_depth",
    "linear_to_srgb",
    "load_color",
    "load_depth",
    "load_inputs",
    "resample_depth",
    "srgb_to_linear",
]
