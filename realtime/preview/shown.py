"""Rendering what a window shows: at most its pixels, the input reduced once per input frame.

A window draws a frame into its letterbox (realtime.preview.display.letterbox).
A frame larger than that rectangle is reduced to it on the CPU as it is read
(`ShownFrames`, realtime.preview.reduce), once per input frame, and the chain
runs on the reduced frame, drawn pixel for pixel: a 12 MP photo in a 1440x1080
window renders 1.6 MP, not 12 MP scaled down afterwards. The CoC follows the
width rendered (`Lens.coc_scale_bias`), and blur set in pixels (artistic blur,
--max-coc) is scaled from the input's pixels to those rendered (`lens_for_width`),
so the window shows the full-size render, smaller. A frame no larger than the
window is rendered as it is (never enlarged); the adaptive scale works below
either. Only what asks for full size renders it (the preview's S key).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from realtime.frameloop import FrameLoop, FrameSource
from realtime.lens import Lens
from realtime.passes.base import Size
from realtime.preview.display import letterbox
from realtime.preview.reduce import reduce_frame

if TYPE_CHECKING:
    from realtime.pipeline import Compositor


def shown_size(image: Size, target: Size) -> Size:
    """The size an `image` (w, h) frame renders at in a `target` framebuffer: the letterbox
    it is drawn into where that is smaller, else its own (and its own in an empty target)."""
    rect = letterbox(image, target)
    if rect.w == 0 or (rect.w >= image[0] and rect.h >= image[1]):
        return image
    return rect.w, rect.h


def lens_for_width(lens: Lens, image_width: int, width: int) -> Lens:
    """`lens` for the frame rendered `width` pixels wide instead of `image_width`: blur set
    in pixels (artistic blur, the --max-coc clamp) scaled with the width, so the picture
    blurs as the full-size one does; a physical lens's CoC follows the width by itself."""
    if width == image_width:
        return lens
    ratio = width / image_width
    artistic, clamp = lens.artistic_blur_px, lens.max_coc_px
    return replace(
        lens,
        artistic_blur_px=artistic * ratio if artistic is not None else None,
        max_coc_px=clamp * ratio if clamp is not None else None,
    )


def scale_pixel(pixel: tuple[int, int], image: Size, size: Size) -> tuple[int, int]:
    """The pixel of a `size` (w, h) frame under pixel (x, y) of the same picture at `image`."""
    x, y = pixel
    return min(x * size[0] // image[0], size[0] - 1), min(y * size[1] // image[1], size[1] - 1)


class ShownFrames:
    """A FrameSource whose frames are at most `size`: each one read reduced to it
    (colour by area, depth without blending its edges)."""

    def __init__(self, source: FrameSource, size: Size) -> None:
        self.source = source
        self.size = size

    def input_index(self, k: int) -> int:
        return self.source.input_index(k)

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        color, depth = self.source.read(k)
        return reduce_frame(color, depth, self.size)


def shown_loop(
    compositor: Compositor, source: FrameSource, image: Size, size: Size, condition_depth: bool
) -> FrameLoop:
    """A frame loop on `compositor` rendering `source`'s `image`-sized frames at `size`."""
    shown = source if size == image else ShownFrames(source, size)
    return FrameLoop(compositor, shown, condition_depth=condition_depth)


def release_loop(loop: FrameLoop) -> None:
    """Release the GL objects a frame loop made for itself (its compositor's stay), when a
    new window size or source replaces it."""
    if loop.conditioner is not None:
        loop.conditioner.release()
    if loop.upsampler is not None:
        loop.upsampler.release()
    if loop.resample is not None:
        loop.resample.release()
