"""Session-wide GL context: GPU tests run on llvmpipe in CI and never skip."""

from __future__ import annotations

import moderngl
import pytest

from realtime.gl.context import create_offscreen_context


@pytest.fixture(scope="session")
def ctx() -> moderngl.Context:
    """One EGL context for the whole run; fails loudly when the machine has no GL."""
    return create_offscreen_context()


@pytest.fixture(scope="session")
def compositor(ctx: moderngl.Context):
    from realtime.pipeline import Compositor

    return Compositor(ctx)
