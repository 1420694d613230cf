"""The preview's window: glfw, an OpenGL 3.3 core context, and callbacks that only queue events.

The frame loop (realtime.preview.app) drains the queued events once per frame,
so every input, real or scripted, reaches the same handlers on the loop's
thread and clock. Failing to open a window (no display) is one InputError line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from realtime.errors import InputError
from realtime.preview.script import KEY_NAMES

SCREEN_FIT = 0.9  # a window opens at most this fraction of the monitor's size


@dataclass(frozen=True)
class WindowEvent:
    """An input the window's callbacks queued for the frame loop."""

    kind: str  # "press" (cursor), "cursor", "key", "scroll", "redraw"
    value: Any = None  # (x, y) in window coordinates, key name, notches


class Window:
    """A glfw window with an OpenGL 3.3 core context; callbacks only queue events.

    Failing to initialise glfw (no display) is an InputError with one line.
    """

    def __init__(
        self,
        size: tuple[int, int],
        title: str,
        vsync: bool = True,
        monitor: int = 0,
        fullscreen: bool = False,
        fit_to_screen: bool = True,
    ) -> None:
        import glfw

        self.glfw = glfw
        self.errors: list[str] = []
        glfw.set_error_callback(self._on_error)
        if not glfw.init():
            message = self.errors[-1] if self.errors else "glfw.init failed"
            _default_error_callback(glfw)
            raise InputError(f"no display: run under xvfb-run or set DISPLAY ({message})")
        try:
            monitors = glfw.get_monitors() or []
            if not 0 <= monitor < max(len(monitors), 1):
                raise InputError(
                    f"--monitor {monitor}: {len(monitors)} monitor(s) connected "
                    f"(0..{len(monitors) - 1})"
                )
            self.monitor = monitors[monitor] if monitors else None
            mode = glfw.get_video_mode(self.monitor) if self.monitor is not None else None
            if fit_to_screen and mode is not None:
                size = fit(size, (mode.size.width, mode.size.height))
            glfw.default_window_hints()
            glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
            glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
            glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
            glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
            glfw.window_hint(glfw.AUTO_ICONIFY, False)
            on: Any = None
            width, height = size
            if fullscreen and self.monitor is not None and mode is not None:
                for hint, value in (
                    (glfw.RED_BITS, mode.bits.red),
                    (glfw.GREEN_BITS, mode.bits.green),
                    (glfw.BLUE_BITS, mode.bits.blue),
                    (glfw.REFRESH_RATE, mode.refresh_rate or glfw.DONT_CARE),
                ):
                    glfw.window_hint(hint, value)
                on = self.monitor
                width, height = mode.size.width, mode.size.height
            self.windowed = (0, 0, *size)  # position and size to restore from fullscreen
            self.handle = glfw.create_window(width, height, title, on, None)
            if not self.handle:
                message = self.errors[-1] if self.errors else "unknown reason"
                raise InputError(f"cannot open an OpenGL 3.3 core window ({message})")
            self.fullscreen = on is not None
            glfw.make_context_current(self.handle)
            glfw.swap_interval(1 if vsync else 0)
            if not self.fullscreen:
                self._match_framebuffer(size)
            glfw.set_mouse_button_callback(self.handle, self._on_mouse_button)
            glfw.set_cursor_pos_callback(self.handle, self._on_cursor)
            glfw.set_scroll_callback(self.handle, self._on_scroll)
            glfw.set_key_callback(self.handle, self._on_key)
            glfw.set_framebuffer_size_callback(self.handle, self._on_redraw)
            glfw.set_window_refresh_callback(self.handle, self._on_redraw)
        except BaseException:
            glfw.terminate()
            _default_error_callback(glfw)
            raise
        self.events: list[WindowEvent] = []
        self._scroll = 0.0  # fractional scroll (touchpads) not yet a whole notch

    def _match_framebuffer(self, size: tuple[int, int]) -> None:
        """On HiDPI displays shrink the window so the framebuffer has `size` pixels."""
        fw, fh = self.framebuffer_size
        ww, wh = self.window_size
        if (fw, fh) != (ww, wh) and min(fw, fh, ww, wh) > 0:
            self.glfw.set_window_size(
                self.handle, max(1, round(size[0] * ww / fw)), max(1, round(size[1] * wh / fh))
            )

    # -- callbacks: queue only --

    def _on_error(self, code: int, description: str | bytes) -> None:
        if isinstance(description, bytes):  # pyGLFW passes bytes; its stubs say str
            description = description.decode(errors="replace")
        self.errors.append(description)

    def _on_mouse_button(self, _window: Any, button: int, action: int, _mods: int) -> None:
        glfw = self.glfw
        if button == glfw.MOUSE_BUTTON_LEFT and action == glfw.PRESS:
            self.events.append(WindowEvent("press", glfw.get_cursor_pos(self.handle)))

    def _on_cursor(self, _window: Any, x: float, y: float) -> None:
        self.events.append(WindowEvent("cursor", (x, y)))

    def _on_scroll(self, _window: Any, _dx: float, dy: float) -> None:
        self._scroll += dy
        notches = int(self._scroll)  # towards zero: a partial notch waits for the rest
        if notches:
            self._scroll -= notches
            self.events.append(WindowEvent("scroll", notches))

    def _on_key(self, _window: Any, key: int, _scancode: int, action: int, _mods: int) -> None:
        if action != self.glfw.PRESS:
            return
        name = {self.glfw.KEY_SPACE: "space", self.glfw.KEY_ESCAPE: "escape"}.get(key)
        if name is None and self.glfw.KEY_A <= key <= self.glfw.KEY_Z:
            name = chr(ord("a") + key - self.glfw.KEY_A)
        if name in KEY_NAMES:
            self.events.append(WindowEvent("key", name))

    def _on_redraw(self, *_args: Any) -> None:
        self.events.append(WindowEvent("redraw"))

    # -- queries and commands --

    def drain(self) -> list[WindowEvent]:
        events, self.events = self.events, []
        return events

    @property
    def framebuffer_size(self) -> tuple[int, int]:
        w, h = self.glfw.get_framebuffer_size(self.handle)
        return int(w), int(h)

    @property
    def window_size(self) -> tuple[int, int]:
        w, h = self.glfw.get_window_size(self.handle)
        return int(w), int(h)

    def should_close(self) -> bool:
        return bool(self.glfw.window_should_close(self.handle))

    def close(self) -> None:
        self.glfw.set_window_should_close(self.handle, True)

    def resize(self, size: tuple[int, int]) -> None:
        self.glfw.set_window_size(self.handle, *size)

    def set_title(self, title: str) -> None:
        self.glfw.set_window_title(self.handle, title)

    def toggle_fullscreen(self) -> None:
        """Fullscreen on the chosen monitor at its current video mode, or back to the window."""
        glfw = self.glfw
        if self.fullscreen:
            x, y, w, h = self.windowed
            glfw.set_window_monitor(self.handle, None, x, y, w, h, glfw.DONT_CARE)
            self.fullscreen = False
        elif self.monitor is not None:
            x, y = glfw.get_window_pos(self.handle)
            self.windowed = (x, y, *self.window_size)
            mode = glfw.get_video_mode(self.monitor)
            if mode is None:
                return
            refresh = mode.refresh_rate or glfw.DONT_CARE  # Xvfb reports 0
            glfw.set_window_monitor(
                self.handle, self.monitor, 0, 0, mode.size.width, mode.size.height, refresh
            )
            self.fullscreen = True

    def poll(self, wait_s: float = 0.0) -> None:
        """Process pending window-system events; block up to `wait_s` for one if > 0."""
        if wait_s > 0:
            self.glfw.wait_events_timeout(wait_s)
        else:
            self.glfw.poll_events()

    def swap(self) -> None:
        self.glfw.swap_buffers(self.handle)

    def destroy(self) -> None:
        self.glfw.destroy_window(self.handle)
        self.glfw.terminate()
        _default_error_callback(self.glfw)


def _default_error_callback(glfw: Any) -> None:
    """Give glfw back its own error reporting (after a Window is done)."""
    glfw.set_error_callback(None)


def fit(size: tuple[int, int], screen: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down (aspect kept) to at most SCREEN_FIT of `screen`; never up."""
    scale = min(1.0, SCREEN_FIT * screen[0] / size[0], SCREEN_FIT * screen[1] / size[1])
    if scale >= 1.0:
        return size
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
