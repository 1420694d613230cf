"""A private Xvfb server for the window tests (preview, show): no test shares a display."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def xvfb_display(screen: tuple[int, int]) -> Iterator[str]:
    """Start Xvfb with one screen of `screen` (w, h) at 24 bits; yields its DISPLAY (':3')."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb not found: install it (Debian: apt-get install xvfb xauth)")
    read_fd, write_fd = os.pipe()  # Xvfb writes the display number it picked (-displayfd)
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{screen[0]}x{screen[1]}x24"]
        + ["-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number.isdigit():
        proc.kill()
        pytest.fail(f"Xvfb did not start (exit code {proc.poll()})")
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
