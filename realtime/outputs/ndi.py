"""NDI out: presented frames as an NDI video source, through ndi-python (the `[ndi]` extra).

The wheel carries the NDI runtime (libndi). Whether it imports and starts is
checked when the sink is made, before the show opens its window: a missing
wheel or a runtime that does not start is one line and exit code 2, never a
failure mid-show. Frames go out as RGBX (the window read back, rows flipped
top first) at the window's full size, with the presenting swap's wall-clock
time as the NDI timecode (100 ns units), so a receiver on the same machine
can measure presented-to-received latency. The sender does not clock video
(the show paces itself): a send returns when the frame is compressed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from realtime.errors import InputError
from realtime.outputs.sink import FrameSink, OutFrame

EXTRA = "pip install 'rackfocus[ndi]'"  # what installs ndi-python
MAX_NAME_CHARS = 64  # longest NDI source name taken
TIMECODE_PER_S = 10_000_000  # NDI timecodes count 100 ns


def check_ndi_name(name: str, option: str = "--ndi") -> str:
    """An NDI source name: 1..MAX_NAME_CHARS printable characters."""
    if not 0 < len(name) <= MAX_NAME_CHARS or not name.isprintable() or not name.strip():
        raise InputError(f"{option} {name!r}: an NDI source name, 1..{MAX_NAME_CHARS} characters")
    return name


def load_ndi() -> Any:
    """The NDIlib module, its runtime started; InputError (one line) if either is missing."""
    try:
        import NDIlib
    except ImportError as e:
        raise InputError(f"--ndi: ndi-python is not installed ({EXTRA}): {e}") from e
    except OSError as e:  # the wheel is there but its runtime library cannot load
        raise InputError(f"--ndi: the NDI runtime does not load ({e})") from e
    if not NDIlib.initialize():
        raise InputError("--ndi: the NDI runtime does not start on this machine (it needs SSE4.2)")
    return NDIlib


class NdiSink(FrameSink):
    """An NDI source named `name`; frames at `fps` as far as receivers are told."""

    def __init__(self, name: str, fps: float, log: Callable[[str], None]) -> None:
        self.label = f"ndi '{name}'"
        super().__init__(log)
        self.ndi = load_ndi()
        settings = self.ndi.SendCreate()
        settings.ndi_name = name
        settings.clock_video = False  # the show paces the frames
        self.sender = self.ndi.send_create(settings)
        if self.sender is None:
            self.ndi.destroy()
            raise InputError(f"--ndi {name!r}: the NDI runtime made no sender")
        self.frame = self.ndi.VideoFrameV2()
        self.frame.FourCC = self.ndi.FOURCC_VIDEO_TYPE_RGBX
        self.frame.frame_rate_N, self.frame.frame_rate_D = round(fps * 1000), 1000

    def send(self, frame: OutFrame) -> None:
        self.frame.data = np.ascontiguousarray(frame.pixels[::-1])  # top row first
        self.frame.timecode = round(frame.presented_s * TIMECODE_PER_S)
        self.ndi.send_send_video_v2(self.sender, self.frame)

    def stop(self) -> None:
        if self.sender is not None and not self.thread.is_alive():
            self.ndi.send_destroy(self.sender)
            self.sender = None
            self.ndi.destroy()


__all__ = ["NdiSink", "check_ndi_name", "load_ndi"]
