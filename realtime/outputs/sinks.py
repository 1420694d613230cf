"""Frames going out to other programs (NDI, a network stream), beside the window: the show's
and the preview's.

Every presented frame is read back once for all sinks and handed to each
sink's queue (realtime.outputs.sink), whose own thread converts, encodes and
sends it. The read-back is split around the swap: before it, the back buffer
is read into a pixel-buffer object (on a GPU the copy runs while the swap
does); after it, the buffer is mapped and its bytes handed over with the
swap's wall-clock time. The GL context belongs to the render thread, so these
two steps stay there; everything else runs on the sinks' threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from realtime.outputs.sink import FrameSink, OutFrame

if TYPE_CHECKING:
    import moderngl

CHANNELS = 4  # RGBX: rows of 4-byte pixels, what NDI and ffmpeg take without conversion


class Sinks:
    """A window's sinks (NDI, stream) and the pixel buffer they are read back through."""

    def __init__(self, sinks: list[FrameSink]) -> None:
        self.sinks = sinks
        self.buffer: moderngl.Buffer | None = None
        self.size: tuple[int, int] | None = None  # of the frame in `buffer`

    @classmethod
    def open(
        cls, ndi: str | None, stream: str | None, fps: float, log: Callable[[str], None]
    ) -> Sinks:
        """The sinks asked for (an NDI source name, a stream URL), started, frames nominally
        at `fps`; InputError (one line) when NDI or ffmpeg is missing: call it before the
        window opens."""
        sinks: list[FrameSink] = []
        try:
            if ndi is not None:
                from realtime.outputs.ndi import NdiSink

                sinks.append(NdiSink(ndi, fps, log))
                log(f"NDI: sending as '{ndi}'")
            if stream is not None:
                from realtime.outputs.stream import StreamSink

                sinks.append(StreamSink(stream, fps, log))
                log(f"stream: H.264 MPEG-TS to {stream}")
        except BaseException:
            for sink in sinks:
                sink.close()
            raise
        for sink in sinks:
            sink.start()
        return cls(sinks)

    def __bool__(self) -> bool:
        return bool(self.sinks)

    def capture(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        """Start reading the window's back buffer, `size` (w, h), before the swap."""
        w, h = size
        if self.buffer is None or self.size != (w, h):
            if self.buffer is not None:
                self.buffer.release()
            self.buffer = ctx.buffer(reserve=w * h * CHANNELS)
            self.size = (w, h)
        ctx.screen.read_into(self.buffer, viewport=(0, 0, w, h), components=CHANNELS)

    def hand_over(self, index: int) -> None:
        """The frame just presented (after the swap), to every sink's queue."""
        assert self.buffer is not None and self.size is not None
        now = time.time()
        w, h = self.size
        pixels = np.frombuffer(self.buffer.read(), np.uint8).reshape(h, w, CHANNELS)
        frame = OutFrame(pixels, now, index)
        for sink in self.sinks:
            sink.offer(frame)

    @property
    def sent(self) -> int:
        return sum(s.counts.sent for s in self.sinks)

    @property
    def dropped(self) -> int:
        return sum(s.counts.dropped for s in self.sinks)

    def summaries(self) -> list[str]:
        return [sink.summary() for sink in self.sinks]

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        if self.buffer is not None:
            self.buffer.release()
            self.buffer = None


__all__ = ["Sinks"]
