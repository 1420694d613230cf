"""Scripted runs: input events at set times on the preview's clock, parsed from the options.

    --click X,Y@T   click image pixel (X, Y) at T seconds
    --key K@T       press key K (one of KEY_NAMES)
    --scroll N@T    scroll N notches
    --resize WxH@T  resize the window
    --close-at T    close the window

Scripted events go through the same handlers as the mouse and keyboard, so tests
and benchmarks drive the real code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from realtime.errors import InputError
from realtime.options import parse_size

KEY_NAMES = ("b", "d", "i", "space", "f", "s", "h", "q", "escape")  # keys --key can press


@dataclass(frozen=True)
class ScriptEvent:
    """An input injected at a time on the preview's clock."""

    time_s: float  # when, seconds after the first frame
    kind: str  # "click" (image pixel), "key", "scroll", "resize" or "close"
    value: Any = None  # (x, y), key name, notches, (w, h) or None


def _split_time(text: str, option: str, example: str) -> tuple[str, float]:
    head, sep, tail = text.rpartition("@")
    try:
        t = float(tail)
    except ValueError:
        t = math.nan
    if not sep or not head or not (math.isfinite(t) and t >= 0):
        raise InputError(f"{option} {text}: expected {example}")
    return head, t


def _ints(text: str, sep: str, count: int) -> tuple[int, ...] | None:
    parts = text.lower().split(sep)
    if len(parts) != count or not all(p.strip().isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def parse_script(
    clicks: Iterable[str] = (),
    keys: Iterable[str] = (),
    scrolls: Iterable[str] = (),
    resizes: Iterable[str] = (),
    close_at: float | None = None,
) -> tuple[ScriptEvent, ...]:
    """The events --click, --key, --scroll, --resize and --close-at describe, in time order
    (stable for equal times); InputError with one line for a malformed one."""
    events: list[ScriptEvent] = []
    for text in clicks:
        head, t = _split_time(text, "--click", "X,Y@SECONDS (image pixel), e.g. 80,60@0.1")
        xy = _ints(head, ",", 2)
        if xy is None:
            raise InputError(f"--click {text}: expected X,Y@SECONDS (image pixel), e.g. 80,60@0.1")
        events.append(ScriptEvent(t, "click", xy))
    for text in keys:
        head, t = _split_time(text, "--key", "KEY@SECONDS, e.g. d@0.5")
        if head.lower() not in KEY_NAMES:
            raise InputError(
                f"--key {text}: unknown key {head!r} (expected {', '.join(KEY_NAMES)})"
            )
        events.append(ScriptEvent(t, "key", head.lower()))
    for text in scrolls:
        head, t = _split_time(text, "--scroll", "NOTCHES@SECONDS, e.g. -2@0.5")
        try:
            notches = int(head)
        except ValueError:
            raise InputError(f"--scroll {text}: expected NOTCHES@SECONDS, e.g. -2@0.5") from None
        events.append(ScriptEvent(t, "scroll", notches))
    for text in resizes:
        head, t = _split_time(text, "--resize", "WxH@SECONDS, e.g. 320x240@0.5")
        events.append(ScriptEvent(t, "resize", parse_size(head, "--resize")))
    if close_at is not None:
        if not (math.isfinite(close_at) and close_at >= 0):
            raise InputError(f"--close-at {close_at}: expected seconds >= 0")
        events.append(ScriptEvent(close_at, "close"))
    return tuple(sorted(events, key=lambda e: e.time_s))


def check_clicks(script: Iterable[ScriptEvent], size: tuple[int, int]) -> None:
    """InputError for a scripted click outside an image of `size` (width, height)."""
    for event in script:
        if event.kind == "click":
            x, y = event.value
            if not (x < size[0] and y < size[1]):
                raise InputError(
                    f"--click {x},{y}@{event.time_s:g}: outside the {size[0]}x{size[1]} image"
                )
