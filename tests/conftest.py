"""GL fixtures: GPU tests run on llvmpipe in CI and never skip.

One EGL context serves the session. Other code may make its own context
current (the CLI run in-process, the preview's window), so the function
fixtures make the session context current again for each test.
"""

from __future__ import annotations

import moderngl
import pytest

from realtime.gl.context import create_offscreen_context, make_current
from realtime.pipeline import Compositor


@pytest.fixture(scope="session")
def session_context() -> moderngl.Context:
    """One EGL context for the whole run; fails loudly when the machine has no GL."""
    return create_offscreen_context()


@pytest.fixture(scope="session")
def session_compositor(session_context: moderngl.Context) -> Compositor:
    return Compositor(session_context)


@pytest.fixture
def ctx(session_context: moderngl.Context) -> moderngl.Context:
    """The session context, current for this test."""
    make_current(session_context)
    return session_context


@pytest.fixture
def compositor(ctx: moderngl.Context, session_compositor: Compositor) -> Compositor:
    """The session compositor, its context current for this test."""
    return session_compositor


@pytest.fixture
def interrupt_at_readback(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Call with n: the n-th frame readback raises KeyboardInterrupt (a simulated Ctrl-C)."""
    import realtime.pipeline

    real = realtime.pipeline.read_rgb

    def arm(n: int) -> None:
        calls = 0

        def read_then_interrupt(texture):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            if calls == n:
                raise KeyboardInterrupt
            return real(texture)

        monkeypatch.setattr(realtime.pipeline, "read_rgb", read_then_interrupt)

    return arm
