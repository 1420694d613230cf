"""A network stream out: presented frames as low-latency H.264 in MPEG-TS over UDP or SRT.

The sink's thread pipes raw RGBX frames into the ffmpeg imageio-ffmpeg bundles
(the one realtime.outputs.video uses), which encodes them with libx264's
zero-latency tuning (no B-frames, no look-ahead) and sends MPEG-TS to the URL:

    udp://HOST:PORT                    datagrams to HOST (a multicast group works too)
    srt://HOST:PORT                    SRT caller: a listener at HOST takes the stream
    srt://0.0.0.0:PORT?mode=listener   SRT listener: a player calls in

Frames are stamped with the wall clock as ffmpeg reads them (variable frame
rate, as the show presents them). ffmpeg starts on the first frame and again
when the window's size changes; if it stops (an SRT peer gone), that is one
log line and ffmpeg is started again after RETRY_S, the frames in between
counted as dropped. A reader that never comes (an SRT listener nobody calls)
blocks only this thread: the queue drops frames, the show goes on.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import IO
from urllib.parse import urlsplit

from realtime.errors import InputError
from realtime.outputs.sink import FrameSink, OutFrame, SinkFailed

SCHEMES = ("udp", "srt")  # URL schemes --stream takes
TS_PACKET_BYTES = 1316  # 7 MPEG-TS packets: the datagram size UDP and SRT players expect
KEYFRAME_S = 1.0  # seconds between keyframes: how long a player that joins waits
CRF = 20  # libx264 constant rate factor (lower: better and larger)
RETRY_S = 2.0  # after ffmpeg stopped, wait this long before starting it again
STOP_TIMEOUT_S = 2.0  # longest wait for ffmpeg to exit at the end


def check_stream_url(url: str, option: str = "--stream") -> str:
    """udp://HOST:PORT or srt://HOST:PORT (with options after '?'), else InputError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or parts.scheme not in SCHEMES or not parts.hostname or port is None:
        raise InputError(
            f"{option} {url}: expected udp://HOST:PORT or srt://HOST:PORT (MPEG-TS, H.264)"
        )
    return url


def output_url(url: str) -> str:
    """The URL with the packet size players expect, unless it sets one."""
    if "pkt_size=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}pkt_size={TS_PACKET_BYTES}"


def ffmpeg_command(exe: str, size: tuple[int, int], fps: float, url: str) -> list[str]:
    """ffmpeg reading RGBX frames (bottom row first) on stdin, streaming H.264 MPEG-TS."""
    w, h = size
    return [
        exe,
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgba",
        "-video_size",
        f"{w}x{h}",
        "-framerate",
        f"{fps:g}",
        "-use_wallclock_as_timestamps",
        "1",
        "-i",
        "pipe:0",
        "-vf",
        "vflip,pad=ceil(iw/2)*2:ceil(ih/2)*2",  # top row first; 4:2:0 needs even sizes
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-crf",
        str(CRF),
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(max(1, round(fps * KEYFRAME_S))),
        "-fps_mode",
        "passthrough",
        "-flush_packets",
        "1",
        "-muxdelay",
        "0",
        "-muxpreload",
        "0",
        "-f",
        "mpegts",
        output_url(url),
    ]


def ffmpeg_exe(url: str) -> str:
    """The bundled ffmpeg, checked to speak the URL's protocol; InputError if not."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        protocols = subprocess.run(
            [exe, "-hide_banner", "-protocols"], capture_output=True, text=True, timeout=10
        ).stdout
    except (ImportError, RuntimeError, OSError, subprocess.SubprocessError) as e:
        raise InputError(f"--stream: no ffmpeg (imageio-ffmpeg): {e}") from e
    scheme = urlsplit(url).scheme
    output = protocols.split("Output:")[-1].split()
    if scheme not in output:
        raise InputError(f"--stream {url}: this ffmpeg cannot send {scheme}://")
    return exe


class StreamSink(FrameSink):
    """ffmpeg encoding frames to `url` at (nominally) `fps`."""

    def __init__(self, url: str, fps: float, log: Callable[[str], None]) -> None:
        self.label = f"stream {url}"
        super().__init__(log)
        self.url = url
        self.fps = fps
        self.exe = ffmpeg_exe(url)
        self.proc: subprocess.Popen[bytes] | None = None
        self.errors: IO[bytes] | None = None  # ffmpeg's stderr
        self.size: tuple[int, int] | None = None  # of the frames ffmpeg was started for
        self.retry_at = 0.0  # monotonic time ffmpeg may start again after it stopped
        self.stopped = ""  # why it stopped

    def _start(self, size: tuple[int, int]) -> subprocess.Popen[bytes]:
        self._end()
        self.errors = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ffmpeg_command(self.exe, size, self.fps, self.url),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.errors,
            start_new_session=True,  # Ctrl-C reaches the show, which stops ffmpeg itself
        )
        self.size = size
        return self.proc

    def _reason(self) -> str:
        if self.errors is None:
            return ""
        self.errors.seek(0)
        lines = self.errors.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def send(self, frame: OutFrame) -> None:
        h, w = frame.pixels.shape[:2]
        proc = self.proc
        if proc is None or self.size != (w, h):
            if time.monotonic() < self.retry_at:
                raise SinkFailed(self.stopped)
            proc = self._start((w, h))
        assert proc.stdin is not None
        try:
            proc.stdin.write(frame.pixels.data)
            proc.stdin.flush()
        except (OSError, ValueError) as e:  # ValueError: stop() closed the pipe meanwhile
            if self.closing:
                raise SinkFailed("no reader took the stream before the show stopped") from e
            proc.kill()
            proc.wait()
            reason = self._reason() or f"exit code {proc.returncode}"
            self.stopped = f"ffmpeg stopped ({reason}); starting it again in {RETRY_S:g} s"
            self.retry_at = time.monotonic() + RETRY_S
            self.proc = None
            raise SinkFailed(self.stopped) from e

    def _end(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(STOP_TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        if self.errors is not None:
            self.errors.close()
            self.errors = None

    def stop(self) -> None:
        if self.thread.is_alive() and self.proc is not None:
            self.proc.kill()  # the sender is stuck writing: a reader that never came
            self.thread.join(STOP_TIMEOUT_S)
        self._end()


__all__ = ["StreamSink", "check_stream_url", "ffmpeg_command", "output_url"]
