"""Display pass: the composite into a window's letterbox, sRGB-encoded, with debug views.

The only pass that draws to a window: it flips the image vertically (textures
hold the top row first, a window's row 0 is its bottom), fits it into the
framebuffer keeping its aspect ratio (black bars), and encodes linear light to
sRGB. Debug views (depth, signed CoC, focus peaking, before/after split) are
drawn over nothing but the window: the composite texture is only read.

`letterbox` and `window_to_image` are the pure geometry both the drawing and the
mouse picking use, so a click lands on the pixel that is drawn under it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import moderngl

from realtime.gl.shaders import program
from realtime.passes.base import FullscreenPass, Size
from realtime.passes.constants import shader_defines
from realtime.preview.controls import SPLIT_DEFAULT, VIEWS
from realtime.sources.images import (
    SRGB_ALPHA,
    SRGB_ENCODE_KNEE,
    SRGB_GAMMA,
    SRGB_LINEAR_SLOPE,
)

PEAKING_THRESHOLD = 0.08  # Sobel magnitude / 4 of sRGB luma above which an edge is peaked
IN_FOCUS_COC = 1.0  # |CoC| (px) below which the CoC view shows a pixel as in focus
PEAKING_MAX_COC = 2.0  # only pixels with |CoC| below this (px) are peaked
PEAKING_COLOUR = (1.0, 0.1, 0.1)  # display colour of peaked edges
NEAR_TINT = (1.0, 0.45, 0.1)  # CoC view: in front of the focal plane
FAR_TINT = (0.2, 0.55, 1.0)  # CoC view: behind the focal plane
FOCUS_TINT = (0.2, 0.9, 0.3)  # CoC view: |CoC| < IN_FOCUS_COC
COC_VIEW_FLOOR = 0.35  # CoC view: brightness of black image content (shows the scene)


def _vec3(rgb: tuple[float, float, float]) -> str:
    return "vec3({:.6g}, {:.6g}, {:.6g})".format(*rgb)


def display_defines(max_coc_px: float) -> dict[str, object]:
    """The pipeline's #defines plus the display's own constants."""
    defines = shader_defines(max_coc_px)
    defines.update({f"VIEW_{name.upper()}": i for i, name in enumerate(VIEWS)})
    defines.update(
        {
            "SRGB_LINEAR_SLOPE": SRGB_LINEAR_SLOPE,
            "SRGB_ALPHA": SRGB_ALPHA,
            "SRGB_GAMMA": SRGB_GAMMA,
            "SRGB_ENCODE_KNEE": SRGB_ENCODE_KNEE,
            "IN_FOCUS_COC": IN_FOCUS_COC,
            "PEAKING_THRESHOLD": PEAKING_THRESHOLD,
            "PEAKING_MAX_COC": PEAKING_MAX_COC,
            "PEAKING_COLOUR": _vec3(PEAKING_COLOUR),
            "NEAR_TINT": _vec3(NEAR_TINT),
            "FAR_TINT": _vec3(FAR_TINT),
            "FOCUS_TINT": _vec3(FOCUS_TINT),
            "COC_VIEW_FLOOR": COC_VIEW_FLOOR,
        }
    )
    return defines


@dataclass(frozen=True)
class Rect:
    """A rectangle of framebuffer pixels, origin at the top-left (as the cursor reports)."""

    x: int  # left column
    y: int  # top row
    w: int  # width, px
    h: int  # height, px

    def gl_viewport(self, framebuffer_height: int) -> tuple[int, int, int, int]:
        """The same rectangle as a GL viewport (origin at the bottom-left)."""
        return self.x, framebuffer_height - self.y - self.h, self.w, self.h


def letterbox(image: Size, target: Size) -> Rect:
    """The largest rectangle of `image`'s aspect ratio centred in `target` (both w, h).

    A target of exactly the image size gives the image 1:1, pixel for pixel.
    """
    iw, ih = image
    tw, th = target
    if min(iw, ih, tw, th) <= 0:
        return Rect(0, 0, 0, 0)
    scale = min(tw / iw, th / ih)
    w = min(tw, max(1, round(iw * scale)))
    h = min(th, max(1, round(ih * scale)))
    return Rect((tw - w) // 2, (th - h) // 2, w, h)


def window_to_image(
    cursor: tuple[float, float], window: Size, framebuffer: Size, image: Size
) -> tuple[int, int] | None:
    """The image pixel (column, row) under a cursor position, or None outside the image.

    The cursor is in window (screen) coordinates; on HiDPI displays the framebuffer
    has more pixels than the window, so it is scaled to framebuffer pixels first.
    """
    ww, wh = window
    fw, fh = framebuffer
    if min(ww, wh) <= 0:
        return None
    fx = cursor[0] * fw / ww
    fy = cursor[1] * fh / wh
    rect = letterbox(image, framebuffer)
    if rect.w == 0 or not (rect.x <= fx < rect.x + rect.w and rect.y <= fy < rect.y + rect.h):
        return None
    col = math.floor((fx - rect.x) * image[0] / rect.w)
    row = math.floor((fy - rect.y) * image[1] / rect.h)
    return min(col, image[0] - 1), min(row, image[1] - 1)


class Display(FullscreenPass):
    """Draws into a given framebuffer (a window's); owns no targets of its own.

    One program per debug view, each compiled on first use with `VIEW` defined
    (a uniform switch costs every branch on llvmpipe). Composite and colour are
    sampled through sampler objects (bilinear when scaled, nearest at 1:1),
    which override the inputs' own filters while drawing; depth is fetched.
    """

    shader = "preview/display.frag"
    outputs = ()

    def __init__(self, ctx: moderngl.Context, defines: Mapping[str, object] | None = None):
        self.defines = dict(defines or {})
        super().__init__(ctx, self.defines | {"VIEW": 0})
        self.views: dict[str, tuple[moderngl.Program, moderngl.VertexArray]] = {
            VIEWS[0]: (self.program, self.vao)
        }
        self.samplers = {
            f: ctx.sampler(repeat_x=False, repeat_y=False, filter=(f, f))
            for f in (moderngl.NEAREST, moderngl.LINEAR)
        }

    def _use_view(self, view: str) -> None:
        """Make the program of `view` current, compiling it the first time."""
        if view not in self.views:
            prog = program(
                self.ctx, self.shader, defines=self.defines | {"VIEW": VIEWS.index(view)}
            )
            self.views[view] = (prog, self.ctx.vertex_array(prog, []))
        self.program, self.vao = self.views[view]

    def run(
        self,
        target: moderngl.Framebuffer,
        framebuffer_size: Size,
        composite: moderngl.Texture,
        color: moderngl.Texture,
        depth: moderngl.Texture,
        *,
        view: str = "off",
        coc_params: tuple[float, float] = (0.0, 0.0),
        inverse_depth_range: tuple[float, float] = (0.0, 1.0),
        split: float = SPLIT_DEFAULT,
        clear: bool = True,
    ) -> Rect:
        """Clear `target` to black and draw the letterboxed image; returns the rectangle.

        With clear=False the image is drawn over what `target` holds, through
        whatever blending is enabled (the show's cross-fade draws a second image so).
        """
        fw, fh = framebuffer_size
        rect = letterbox(composite.size, framebuffer_size)
        target.use()
        target.viewport = (0, 0, fw, fh)
        if clear:
            target.clear(0.0, 0.0, 0.0, 1.0)
        if rect.w == 0:
            return rect
        target.viewport = rect.gl_viewport(fh)
        self._use_view(view)
        for unit, (name, tex) in enumerate(
            (("composite", composite), ("color", color), ("depth", depth))
        ):
            tex.use(unit)
            self.set(name, unit)
        # Bilinear when scaled; at 1:1 the texel itself (the same value, cheaper on llvmpipe).
        one_to_one = (rect.w, rect.h) == composite.size
        sampler = self.samplers[moderngl.NEAREST if one_to_one else moderngl.LINEAR]
        for unit in (0, 1):
            sampler.use(unit)
        self.set("coc_params", coc_params)
        self.set("inverse_depth_range", inverse_depth_range)
        self.set("split_x", rect.x + round(split * rect.w) + 0.5)  # a pixel centre
        self.vao.render(moderngl.TRIANGLES, vertices=3)
        for unit in (0, 1):
            sampler.clear(unit)  # later passes rely on their textures' own filters
        return rect

    def release(self) -> None:
        for sampler in self.samplers.values():
            sampler.release()
        for prog, vao in self.views.values():
            vao.release()
            prog.release()
        self.views = {}
