"""The preview app: window events -> Controls -> frame loop -> display pass -> swap.

(Opening the inputs and choosing the first focus: realtime.preview.session.)

Each turn of the loop takes the preview time t (wall clock, or frame * --fixed-dt
in scripted runs), applies the scripted and window events due, asks `Playback`
which input frame shows and `Controls` which lens, and hands both to the shared
`FrameLoop` (realtime.frameloop), which uploads and runs the passes only when
they changed. The window is redrawn only when something changed; an idle
interactive window sleeps until the next event.

The loop renders what the window shows (realtime.preview.shown): a frame larger
than the window's letterbox is reduced to it once per input frame, and a new
window size starts a new loop at the new size. S renders the full-size frame.
"""

from __future__ import annotations

import math
import signal
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from realtime.errors import InputError
from realtime.frameloop import FrameLoop, FrameSource, LiveFrames
from realtime.outputs.sinks import Sinks
from realtime.passes.resample import scaled_size
from realtime.preview.controls import Controls, Playback
from realtime.preview.hud import HUD_INTERVAL_S, STATS_FRAMES, TITLE, FrameStats, hud_title
from realtime.preview.options import HELP, PreviewOptions
from realtime.preview.report import stats_lines
from realtime.preview.saving import save_frame
from realtime.preview.scaling import AdaptiveScale
from realtime.preview.script import ScriptEvent
from realtime.preview.shown import (
    lens_for_width,
    release_loop,
    scale_pixel,
    shown_loop,
    shown_size,
)
from realtime.preview.window import Window, WindowEvent

if TYPE_CHECKING:
    import moderngl

    from realtime.lens import Lens
    from realtime.preview.remote import PreviewRemote
    from realtime.sources.images import PathLike

IDLE_WAIT_S = 0.25  # an idle window blocks for events at most this long
LIVE_POLL_S = 0.002  # with a camera, an idle window looks for its next frame this often
MIN_WAIT_S = 1e-3  # the shortest wait for a scripted event or the next input frame
NOMINAL_FPS = 60.0  # the frame rate NDI and stream receivers are told (the preview draws
# only when the picture changes)


def inverse_depth_range(depth: np.ndarray) -> tuple[float, float]:
    """(1 / farthest, 1 / nearest) valid depth: what the depth view maps to black..white."""
    valid = depth[np.isfinite(depth) & (depth > 0)]
    return 1.0 / float(valid.max()), 1.0 / float(valid.min())


class Preview:
    """The window, its compositor and the frame loop."""

    def __init__(
        self,
        options: PreviewOptions,
        source: FrameSource,
        controls: Controls,
        playback: Playback | None = None,
        files: Callable[[int], tuple[PathLike, PathLike]] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """`source` gives the input frames: with a `playback` (sequences, videos, recordings,
        synthetic scenes) the frame shown at time t is `playback.index_at(t)`; a `LiveFrames`
        source (a camera) shows the newest frame it took; anything else frame 0. `files(index)`
        names the input files of a frame (what S saves into the cue file; None: no files)."""
        import moderngl

        from realtime.pipeline import Compositor
        from realtime.preview.display import Display, display_defines

        self.options = options
        self.source = source
        self.controls = controls
        self.playback = playback
        self.files = files
        self.live = source if isinstance(source, LiveFrames) else None
        self.latency_ms: deque[float] = deque(maxlen=STATS_FRAMES)  # live: capture to swap
        self.script = deque(options.script)
        self.log = log or (lambda text: print(text, flush=True))
        assert controls.depth_m is not None
        self.image_size = (controls.depth_m.shape[1], controls.depth_m.shape[0])
        nominal_fps = 1.0 / options.fixed_dt if options.fixed_dt else NOMINAL_FPS
        self.sinks = Sinks.open(options.ndi, options.stream, nominal_fps, self.log)
        try:
            self.window = Window(
                options.window_size or self.image_size,
                TITLE,
                vsync=options.vsync,
                monitor=options.monitor,
                fullscreen=options.fullscreen,
                fit_to_screen=options.window_size is None,
            )
        except BaseException:
            self.sinks.close()
            raise
        try:
            try:
                self.ctx = moderngl.create_context(require=330)
            except Exception as e:  # moderngl and glcontext raise plain Exceptions
                raise InputError(f"the window has no OpenGL 3.3 context ({e})") from e
            self.compositor = Compositor(self.ctx)
            self.shown = shown_size(self.image_size, self.window.framebuffer_size)
            self.loop = self._frame_loop(self.shown)
            self.display = Display(self.ctx, display_defines(controls.lens.clamp_px))
        except BaseException:
            self.sinks.close()
            self.window.destroy()
            raise
        self.inverse_depth_range = (0.0, 1.0)
        self.adaptive = AdaptiveScale(options.target_fps)
        self.scale = 1.0  # the scale of the composite on screen
        self.composite: moderngl.Texture | None = None
        self.retired_composites = 0  # composites of the loops earlier window sizes had
        self.frame = 0  # the output frame shown (what S renders at full size)
        self.input_index: int | None = None  # its input frame (a loop restarts from None)
        self.lens = controls.lens
        self.stats = FrameStats()
        self.dirty = True  # the window must be redrawn
        self.title = ""
        self.title_at = -math.inf
        self.screenshot: np.ndarray | None = None
        self.remote: PreviewRemote | None = None  # --web: the web remote
        if options.web_port is not None:
            from realtime.preview.remote import PreviewRemote

            try:
                self.remote = PreviewRemote(self)
                self.remote.start()
            except BaseException:
                self.sinks.close()
                self.window.destroy()
                raise

    # -- events --

    def handle_key(self, name: str, t: float) -> None:
        c = self.controls
        if name in ("escape", "q"):
            self.window.close()
        elif name == "b":
            c.cycle_blades()
        elif name == "d":
            c.cycle_view()
        elif name == "i":
            c.hud = not c.hud
        elif name == "space":
            self.toggle_play(t)
        elif name == "f":
            self.window.toggle_fullscreen()
        elif name == "s":
            try:
                save_frame(self)
            except InputError as e:  # a full disk must not end the session
                self.log(f"rackfocus: error: {e}")
        elif name == "h":
            self.log(HELP)
        self.dirty = True

    def toggle_play(self, t: float) -> None:
        """Space: pause whatever plays (cues, input frames), or else play them all."""
        c, p = self.controls, self.playback
        if p is None:
            if not c.toggle_play(t):
                self.log("no cue timeline: start with --cues FILE")
            return
        if c.playing or p.playing:
            c.pause(t)
            p.pause(t)
        else:
            c.toggle_play(t)
            p.play(t)

    def handle(self, event: ScriptEvent | WindowEvent, t: float) -> None:
        """Apply one scripted or window event at preview time t."""
        from realtime.preview.display import letterbox, window_to_image

        kind, value = event.kind, event.value
        if kind == "click":
            self.click(value, t)
        elif kind == "press":
            pixel = window_to_image(
                value, self.window.window_size, self.window.framebuffer_size, self.image_size
            )
            if pixel is not None:
                self.click(pixel, t)
        elif kind == "cursor" and self.controls.view == "split":
            fw = self.window.framebuffer_size[0]
            ww = max(self.window.window_size[0], 1)
            rect = letterbox(self.image_size, self.window.framebuffer_size)
            x = value[0] * fw / ww
            self.controls.split = min(max((x - rect.x) / max(rect.w, 1), 0.0), 1.0)
            self.dirty = True
        elif kind == "key":
            self.handle_key(value, t)
        elif kind == "scroll":
            self.controls.scroll(value, t)
        elif kind == "resize":
            self.window.resize(value)
            self.dirty = True
        elif kind == "close":
            self.window.close()
        elif kind == "redraw":
            self.dirty = True

    def click(self, pixel: tuple[int, int], t: float) -> None:
        """Rack to the depth under image pixel (x, y), read from the depth map shown."""
        assert self.controls.depth_m is not None
        height, width = self.controls.depth_m.shape
        self.controls.click(*scale_pixel(pixel, self.image_size, (width, height)), t)

    # -- drawing --

    def _frame_loop(self, size: tuple[int, int]) -> FrameLoop:
        condition = self.options.inputs.condition_depth
        return shown_loop(self.compositor, self.source, self.image_size, size, condition)

    @property
    def composites(self) -> int:
        """How often the chain ran for the window, at every size it had."""
        return self.retired_composites + self.loop.composites

    def fit_window(self) -> None:
        """Render at the size the window shows: a new loop when that changed (not while the
        window is minimised)."""
        framebuffer = self.window.framebuffer_size
        shown = shown_size(self.image_size, framebuffer)
        if min(framebuffer) > 0 and shown != self.shown:
            self.restart_loop(shown)

    def restart_loop(self, shown: tuple[int, int]) -> None:
        """A new loop rendering at `shown` in place of the window's (which is released)."""
        self.retired_composites += self.loop.composites
        release_loop(self.loop)
        self.shown = shown
        self.loop = self._frame_loop(shown)

    def compose(self, t: float) -> None:
        """The composite at preview time t, through the frame loop (which skips what is done)."""
        self.fit_window()
        if self.live is not None:
            self.live.poll()
            index = self.live.index
        else:
            index = self.playback.index_at(t) if self.playback is not None else 0
        if self.loop.show(index):
            assert self.loop.depth is not None
            self.controls.depth_m = self.loop.depth  # clicks pick focus on the frame shown
            self.inverse_depth_range = inverse_depth_range(self.loop.depth)
            self.dirty = True
        self.lens = self.controls.lens_at(t)
        moving = self.animating(t) or self.loop.index != self.input_index
        self.scale = self.adaptive.scale if moving else 1.0  # still: one frame at shown size
        width = scaled_size(self.shown, self.scale)[0]
        lens = lens_for_width(self.lens, self.image_size[0], width)
        composites = self.loop.composites
        self.composite = self.loop.compose(index, lens, self.scale)
        self.frame, self.input_index = index, self.loop.index
        self.dirty |= self.loop.composites != composites

    def draw(self) -> None:
        """Draw the composite (or a debug view) into the window's back buffer."""
        assert self.composite is not None and self.loop.inputs is not None
        c = self.controls
        self.display.run(
            self.ctx.screen,
            self.window.framebuffer_size,
            self.composite,
            *self.loop.inputs,
            view=c.view,
            coc_params=self.shown_lens.coc_scale_bias(self.shown[0]),
            inverse_depth_range=self.inverse_depth_range,
            split=c.split,
        )

    @property
    def shown_lens(self) -> Lens:
        """The lens for the frame at the size shown (the CoC view's pixels are the window's)."""
        return lens_for_width(self.lens, self.image_size[0], self.shown[0])

    def read_screen(self) -> np.ndarray:
        """The back buffer as HxWx3 uint8, top row first (read before swapping)."""
        w, h = self.window.framebuffer_size
        data = self.ctx.screen.read(viewport=(0, 0, w, h), components=3)
        return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()

    def playback_state(self) -> str:
        """' | frame 3/10' (', paused') for sequence and video inputs; '' for stills."""
        p = self.playback
        if p is None:
            return ""
        state = "" if p.playing else ", paused"
        return f" | frame {(self.loop.index or 0) + 1}/{p.frame_count}{state}"

    def update_title(self, now: float) -> None:
        if now - self.title_at < HUD_INTERVAL_S:
            return
        fps = self.stats.fps(now)
        title = hud_title(self.options.label, self.lens, self.controls, fps, self.stats.frame_ms)
        if self.controls.hud:
            title += self.playback_state()
        if self.live is not None and self.live.live.status != "ok":
            title += f" | camera: {self.live.live.status}"  # shown with the HUD off too
        if title != self.title:
            self.window.set_title(title)
            self.title = title
        self.title_at = now

    # -- the loop --

    def run(self) -> int:
        """Run until the window closes (or --frames are drawn); returns the exit code."""
        opts = self.options
        wall0 = time.perf_counter()
        frame = 0
        previous = signal.signal(signal.SIGTERM, lambda *_: self.window.close())  # as Esc does
        try:
            while True:
                frame_start = time.perf_counter()
                t = frame * opts.fixed_dt if opts.fixed_dt is not None else frame_start - wall0
                self.window.poll()
                if self.remote is not None:
                    self.remote.obey(t)
                while self.script and self.script[0].time_s <= t:
                    self.handle(self.script.popleft(), t)
                for event in self.window.drain():
                    self.handle(event, t)
                if self.window.should_close():
                    break
                self.controls.update(t)
                shown, composites = self.input_index, self.composites
                self.compose(t)
                fresh = self.input_index != shown
                rendered = self.composites != composites
                last = opts.frames is not None and frame + 1 >= opts.frames
                if self.dirty or opts.frames is not None:
                    self.draw()
                    if last and opts.screenshot:
                        self.screenshot = self.read_screen()
                    if self.remote is not None:
                        self.remote.capture(time.perf_counter())
                    if self.sinks:
                        self.sinks.capture(self.ctx, self.window.framebuffer_size)
                    self.window.swap()
                    if self.sinks:
                        self.sinks.hand_over(frame)
                    self.dirty = False
                    self.stats.swapped(time.perf_counter(), frame_start)
                    if rendered and (self.scale < 1.0 or self.animating(t) or fresh):
                        self.adaptive.record(self.stats.frame_ms, self.scale, t)
                    if self.live is not None and self.live.frame is not None and fresh:
                        self.latency_ms.append(
                            1000 * (time.monotonic() - self.live.frame.capture_s)
                        )
                self.update_title(time.perf_counter())
                if self.remote is not None:
                    self.remote.presented(time.perf_counter())
                frame += 1
                if last:
                    break
                if opts.frames is None and not self.dirty and not self.animating(t):
                    now = t if opts.fixed_dt is not None else time.perf_counter() - wall0
                    self.window.poll(self._idle_wait(now))
            if opts.screenshot and self.screenshot is None:
                self.draw()  # closed before the last frame: capture the state it ended in
                self.screenshot = self.read_screen()
            return self.finish(time.perf_counter() - wall0)
        finally:
            signal.signal(signal.SIGTERM, previous)
            if self.remote is not None:
                self.remote.close()  # before the window: the server wakes glfw
            self.sinks.close()
            self.window.destroy()

    def animating(self, t: float) -> bool:
        """Whether the picture may change without input: a rack or cues in motion."""
        return self.controls.animating(t)

    def _idle_wait(self, t: float) -> float:
        """How long an idle window may block: until the HUD refresh, the next scripted event
        or the next input frame."""
        wait = IDLE_WAIT_S if self.live is None else LIVE_POLL_S
        if self.script:
            wait = min(wait, max(self.script[0].time_s - t, MIN_WAIT_S))
        if self.playback is not None:
            wait = min(wait, max(self.playback.next_change_s(t), MIN_WAIT_S))
        if self.remote is not None:
            wait = min(wait, max(self.remote.wait_s(), MIN_WAIT_S))
        return wait

    def finish(self, elapsed_s: float) -> int:
        opts = self.options
        self.sinks.close()  # what is queued goes out first, and is counted
        if opts.screenshot and self.screenshot is not None:
            from realtime.outputs.images import write_png_codes

            write_png_codes(opts.screenshot, self.screenshot)
        if opts.print_focus:
            print(f"{self.lens.focus_m:.9g}", flush=True)
        if opts.stats:
            for line in stats_lines(self, elapsed_s):
                print(line, flush=True)
        return 0
