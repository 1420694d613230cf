"""The show output: a fullscreen (or rehearsal) window, two decks, and cross-fades by blending.

Like a vision mixer, the output has two decks, each a `Compositor` with its own
textures and a frame loop: one shows the source on screen, the other holds the
source fading out (or the next one). A cross-fade draws both composites with
the preview's display pass (realtime.preview.display) into an 8-bit target the
size of the window and mixes them there with GL blending, the weight set
through the target's alpha channel (moderngl has no blend colour):

    1. draw the outgoing image (cleared to black around its letterbox), alpha 1
    2. alpha := 1 - w; draw the outgoing image again with blend (ZERO, DST_ALPHA):
       its pixels become (1 - w) * outgoing, the black bars stay black
    3. alpha := w; draw the incoming image with blend (DST_ALPHA, ONE): + w * incoming
    4. copy the target to the window

so sources of different aspect ratios fade bars and all. The mix happens on
display (sRGB) codes, as a video mixer mixes gamma-encoded signals. Outside a
fade the live composite is drawn straight to the window. Every GL object is
made before the first frame (both decks warmed up, the mix target allocated),
so a long show allocates nothing more unless the window or a source changes size.

Each deck renders what the window shows (realtime.preview.shown): a source larger
than the window's letterbox is reduced to it once per input frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from realtime.errors import InputError
from realtime.frameloop import FrameLoop
from realtime.lens import Lens
from realtime.passes.base import Size
from realtime.passes.resample import scaled_size
from realtime.preview.shown import lens_for_width, release_loop, shown_loop, shown_size
from realtime.show.config import ShowSettings

if TYPE_CHECKING:
    import moderngl

    from realtime.pipeline import Compositor
    from realtime.preview.display import Display
    from realtime.preview.window import Window
    from realtime.show.inputs import ShowSource
    from realtime.show.thumbnail import Thumbnailer

TITLE = "rackfocus show"


class Deck:
    """One compositor and the source it shows through a frame loop."""

    def __init__(self, compositor: Compositor) -> None:
        self.compositor = compositor
        self.source: ShowSource | None = None
        self.loop: FrameLoop | None = None
        self.sizes: tuple[Size, Size] | None = None  # the loop's (frame size, size rendered)
        self.composites = 0  # how often the pass chain ran on this deck

    @property
    def ready(self) -> bool:
        """Whether the deck has a frame to show."""
        return self.source is not None and self.source.depth is not None

    def load(self, source: ShowSource) -> None:
        self.source = source
        self._drop_loop()

    def _drop_loop(self) -> None:
        if self.loop is not None:
            release_loop(self.loop)
        self.loop = None

    def compose(
        self, lens: Lens, scale: float = 1.0, window: Size | None = None
    ) -> moderngl.Texture:
        """The composite of the source's current frame through `lens` at `scale` (adaptive
        resolution; reran only on change), at most the size it is shown at in a `window`
        framebuffer of that size (None: the frame's own size)."""
        source = self.source
        assert source is not None and source.depth is not None
        assert source.color is not None
        size = (source.color.shape[1], source.color.shape[0])  # the frame's, whatever the depth's
        shown = shown_size(size, window) if window is not None and min(window) > 0 else size
        if self.loop is None or self.sizes != (size, shown):
            self._drop_loop()  # a new source, a new size, or a new window size
            condition = source.spec.condition_depth
            self.loop = shown_loop(self.compositor, source, size, shown, condition)
            self.sizes = (size, shown)
        loop = self.loop
        before = loop.composites
        width = scaled_size(shown, scale)[0]
        composite = loop.compose(0, lens_for_width(lens, size[0], width), scale)
        self.composites += loop.composites - before
        return composite

    @property
    def textures(self) -> tuple[moderngl.Texture, moderngl.Texture]:
        """The colour and depth the composite was made from (scaled with it)."""
        assert self.loop is not None and self.loop.inputs is not None
        return self.loop.inputs


def monitor_index(spec: int | str) -> int:
    """The monitor an index or a name (exact, else case-insensitive) stands for."""
    if isinstance(spec, int):
        return spec
    if spec.isdigit():
        return int(spec)
    import glfw

    if not glfw.init():
        return 0  # the window reports the missing display
    names = [glfw.get_monitor_name(m) for m in glfw.get_monitors() or []]
    names = [n.decode(errors="replace") if isinstance(n, bytes) else str(n) for n in names]
    for match in (lambda n: n == spec, lambda n: n.lower() == spec.lower()):
        for i, name in enumerate(names):
            if match(name):
                return i
    glfw.terminate()
    raise InputError(f"--monitor {spec}: no such monitor (connected: {', '.join(names)})")


class ShowOutput:
    """The window, its two decks and the display pass; draws a frame, fades, swaps."""

    def __init__(self, settings: ShowSettings, image_size: tuple[int, int], max_coc_px: float):
        import moderngl

        from realtime.pipeline import Compositor
        from realtime.preview.display import Display, display_defines
        from realtime.preview.window import Window

        self.window: Window = Window(
            settings.window_size or image_size,
            TITLE,
            vsync=settings.vsync,
            monitor=monitor_index(settings.monitor),
            fullscreen=not settings.windowed,
            fit_to_screen=settings.window_size is None,
        )
        try:
            try:
                self.ctx = moderngl.create_context(require=330)
            except Exception as e:  # moderngl and glcontext raise plain Exceptions
                raise InputError(f"the window has no OpenGL 3.3 context ({e})") from e
            glfw: Any = self.window.glfw
            if self.window.fullscreen:
                glfw.set_input_mode(self.window.handle, glfw.CURSOR, glfw.CURSOR_HIDDEN)
            self.decks = (Deck(Compositor(self.ctx)), Deck(Compositor(self.ctx)))
            self.display: Display = Display(self.ctx, display_defines(max_coc_px))
            self.mix: moderngl.Framebuffer | None = None
            self.thumbnailer: Thumbnailer | None = None  # made when a thumbnail is asked for
            self._mix_target(self.window.framebuffer_size)
        except BaseException:
            self.window.destroy()
            raise

    @property
    def refresh_hz(self) -> float:
        """The monitor's refresh rate, 0 when unknown (Xvfb reports 0)."""
        monitor = self.window.monitor
        mode = self.window.glfw.get_video_mode(monitor) if monitor is not None else None
        return float(mode.refresh_rate) if mode is not None else 0.0

    def _mix_target(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        """The 8-bit RGBA target cross-fades are mixed in, the window's size."""
        if self.mix is None or self.mix.size != size:
            if self.mix is not None:
                for attachment in self.mix.color_attachments:
                    attachment.release()
                self.mix.release()
            texture = self.ctx.texture(size, 4)
            self.mix = self.ctx.framebuffer(color_attachments=[texture])
        return self.mix

    def draw(
        self,
        live: Deck,
        lens: Lens,
        outgoing: Deck | None = None,
        w: float = 1.0,
        scale: float = 1.0,
    ) -> None:
        """Draw `live` through `lens` into the back buffer, mixed over `outgoing` at weight w
        (0: only outgoing, 1: only live); black where neither deck has a frame. The chain
        renders at `scale` (adaptive resolution)."""
        size = self.window.framebuffer_size
        screen = self.ctx.screen
        shown = [d for d in (outgoing, live) if d is not None and d.ready]
        if not shown:
            screen.use()
            screen.viewport = (0, 0, *size)
            screen.clear(0.0, 0.0, 0.0, 1.0)
            return
        if len(shown) == 1 or w >= 1.0 or w <= 0.0:
            deck = shown[-1] if w > 0.0 or len(shown) == 1 else shown[0]
            self.display.run(screen, size, deck.compose(lens, scale, size), *deck.textures)
            return
        assert outgoing is not None
        import moderngl

        target = self._mix_target(size)
        below, above = outgoing.compose(lens, scale, size), live.compose(lens, scale, size)
        self.display.run(target, size, below, *outgoing.textures)
        ctx = self.ctx
        try:
            ctx.enable(moderngl.BLEND)
            self._set_alpha(target, 1.0 - w)
            ctx.blend_func = moderngl.ZERO, moderngl.DST_ALPHA
            self.display.run(target, size, below, *outgoing.textures, clear=False)
            self._set_alpha(target, w)
            ctx.blend_func = moderngl.DST_ALPHA, moderngl.ONE
            self.display.run(target, size, above, *live.textures, clear=False)
        finally:
            ctx.disable(moderngl.BLEND)
            ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA  # the default
            target.color_mask = (True, True, True, True)
        ctx.copy_framebuffer(screen, target)

    @staticmethod
    def _set_alpha(target: moderngl.Framebuffer, alpha: float) -> None:
        """Set the alpha channel everywhere; leave colour writes on and alpha writes off."""
        target.color_mask = (False, False, False, True)
        target.clear(0.0, 0.0, 0.0, alpha)
        target.color_mask = (True, True, True, False)

    def read_screen(self) -> np.ndarray:
        """The back buffer as HxWx3 uint8, top row first (read before swapping)."""
        w, h = self.window.framebuffer_size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=3)
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()

    def read_thumbnail(self, image: tuple[int, int], width_px: int) -> np.ndarray:
        """The picture on the back buffer (an `image`-sized frame, letterboxed), at most
        `width_px` wide, HxWx3 uint8 top row first (read before swapping)."""
        if self.thumbnailer is None:
            from realtime.show.thumbnail import Thumbnailer

            self.thumbnailer = Thumbnailer(self.ctx, self.window.glfw.get_proc_address)
        return self.thumbnailer.read(self.window.framebuffer_size, image, width_px)

    def swap(self) -> None:
        self.window.swap()

    def close(self) -> None:
        self.window.destroy()


__all__ = ["TITLE", "Deck", "ShowOutput", "monitor_index"]
