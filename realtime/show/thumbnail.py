"""The web remote's thumbnail: the picture on the window's back buffer, made small on the GPU.

The letterboxed picture (realtime.preview.display.letterbox) is blitted with
linear filtering into a small target and read back: a few hundred kilobytes,
not the whole window, leave the GPU on the render thread, a few times a
second at most. moderngl's copy_framebuffer does not scale, so the blit is
glBlitFramebuffer through the window's GL loader.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from realtime.preview.display import letterbox

if TYPE_CHECKING:
    import moderngl

READ_FRAMEBUFFER = 0x8CA8  # GL_READ_FRAMEBUFFER
DRAW_FRAMEBUFFER = 0x8CA9  # GL_DRAW_FRAMEBUFFER
COLOR_BUFFER_BIT = 0x4000  # GL_COLOR_BUFFER_BIT
LINEAR = 0x2601  # GL_LINEAR
_BIND = ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.c_uint)
_BLIT = ctypes.CFUNCTYPE(None, *[ctypes.c_int] * 8, ctypes.c_uint, ctypes.c_uint)


def thumbnail_size(image: tuple[int, int], width_px: int) -> tuple[int, int]:
    """(w, h) of a thumbnail `width_px` wide (never wider than the image), same aspect."""
    w = max(1, min(width_px, image[0]))
    return w, max(1, round(image[1] * w / image[0]))


class Thumbnailer:
    """Blits the back buffer's picture into a small target and reads it (HxWx3, top row
    first); owns the target, remade only when the thumbnail's size changes."""

    def __init__(self, ctx: moderngl.Context, get_proc_address: Callable[[str], int | None]):
        self.ctx = ctx
        self.bind = _BIND(get_proc_address("glBindFramebuffer") or 0)
        self.blit = _BLIT(get_proc_address("glBlitFramebuffer") or 0)
        self.target: moderngl.Framebuffer | None = None

    def read(self, window: tuple[int, int], image: tuple[int, int], width_px: int) -> np.ndarray:
        """The picture (`image` sized, letterboxed in a `window`-sized back buffer)."""
        size = thumbnail_size(image, width_px)
        if self.target is None or self.target.size != size:
            self.release()
            self.target = self.ctx.framebuffer(color_attachments=[self.ctx.texture(size, 3)])
        rect = letterbox(image, window)
        x, y, w, h = rect.gl_viewport(window[1])
        self.bind(READ_FRAMEBUFFER, self.ctx.screen.glo)
        self.bind(DRAW_FRAMEBUFFER, self.target.glo)
        self.blit(x, y, x + w, y + h, 0, 0, size[0], size[1], COLOR_BUFFER_BIT, LINEAR)
        data = self.target.read(components=3)  # binds the target through moderngl
        self.ctx.screen.use()  # and moderngl's idea of the bound framebuffer is the screen
        return np.frombuffer(data, np.uint8).reshape(size[1], size[0], 3)[::-1].copy()

    def release(self) -> None:
        if self.target is not None:
            for attachment in self.target.color_attachments:
                attachment.release()
            self.target.release()
            self.target = None


__all__ = ["Thumbnailer", "thumbnail_size"]
