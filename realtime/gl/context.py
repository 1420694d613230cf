"""Standalone (offscreen) OpenGL 3.3 context through EGL, with readable failures."""

from __future__ import annotations

import moderngl

from realtime.errors import InputError

GL_VERSION = 330

# Substrings of glcontext's failures and the one sentence a user needs instead.
_HINTS = (
    ("found 0 devices", "no EGL device: install Mesa's EGL driver (Debian: libegl-mesa0)"),
    (
        "eglInitialize failed",
        "EGL could not start: install Mesa's DRI drivers (Debian: libgl1-mesa-dri)",
    ),
    ("libEGL", "no EGL library: install libegl1 libegl-mesa0 libgl1-mesa-dri (Debian)"),
)


class GLUnavailable(InputError):
    """No usable OpenGL stack on this machine."""


def create_offscreen_context() -> moderngl.Context:
    """An EGL context for headless work; GLUnavailable names what to install."""
    try:
        return moderngl.create_context(standalone=True, backend="egl", require=GL_VERSION)  # type: ignore[arg-type]
    except Exception as exc:  # glcontext raises plain Exception subclasses
        text = str(exc)
        for needle, hint in _HINTS:
            if needle in text:
                raise GLUnavailable(f"OpenGL unavailable ({text.strip()}); {hint}") from exc
        raise GLUnavailable(
            f"OpenGL 3.3 unavailable ({text.strip()}); install libegl1 libegl-mesa0 "
            "libgl1-mesa-dri (Debian)"
        ) from exc


def renderer_name(ctx: moderngl.Context) -> str:
    """The GL renderer string, e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)'."""
    return str(ctx.info["GL_RENDERER"])


def make_current(ctx: moderngl.Context) -> None:
    """Make `ctx` current on this thread and leave it current.

    (moderngl's `with ctx:` releases the EGL context on exit instead of
    restoring the previous one, which breaks every later call outside the
    block; so code that shares a thread with other contexts calls this.)
    """
    ctx.__enter__()
