"""The show's sources: the frame to show at a time, failures retried, the last good frame kept.

A `ShowSource` wraps one configured source: a still pair, sequence or video pair
(realtime.sources.frames.open_frames, looping), a recording or synthetic scene
(a --source spelling, looping), or a camera, whose newest frame shows. Sequences and
videos advance one input frame per 1/fps of show time from when the source
went on screen. Reading never raises into the show: a frame that cannot be
read (a file deleted, a disk gone, a decoder error) marks the source failed,
keeps its last good frame on screen, logs one line, and reopens the source
every RETRY_S until it reads again (a reminder goes to the log every
REMIND_S while it keeps failing).

For the frame loop (`realtime.frameloop.FrameLoop`) a ShowSource is a
FrameSource whose frames are numbered by arrival: `input_index` is the count
of good frames read, so the loop uploads exactly when a new one arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from realtime.errors import InputError
from realtime.frameloop import input_fps
from realtime.outputs import DEFAULT_FPS
from realtime.preview.controls import Playback
from realtime.show.config import SourceSpec
from realtime.sources.frames import open_frames
from realtime.sources.images import one_line
from realtime.sources.live import Clip, LiveSource

RETRY_S = 1.0  # a failed source is reopened this often
FIRST_FRAME_TIMEOUT_S = 10.0  # how long a camera may take to deliver its first frame
REMIND_S = 60.0  # while a source keeps failing, the log is reminded this often


class ShowSource:
    """One configured source on screen: which frame shows at show time t. Never raises.

    `color` and `depth` hold the last good frame (None until the first is read),
    `failure` says why the source is failing (None while it is not).
    """

    def __init__(self, spec: SourceSpec, t: float, now: float, log: Callable[[str], None]) -> None:
        """Open `spec` and read its frame at show time t (wall clock `now` for retries)."""
        self.spec = spec
        self.log = log
        self.clip: Clip | None = None
        self.live: LiveSource | None = None  # a camera: its newest frame shows
        self.live_status = "ok"  # the camera's status when last logged
        self.playback: Playback | None = None
        self.origin_s = t  # show time of the source's first frame
        self.color: np.ndarray | None = None  # last good frame: linear colour
        self.depth: np.ndarray | None = None  # and depth, metres
        self.generation = -1  # good frames read, minus one
        self.index: int | None = None  # input frame held
        self.failure: str | None = None  # why it is failing; None while it works
        self.retry_at = 0.0  # wall time of the next reopen
        self.reminded_at = 0.0  # wall time of the last line about the failure
        try:
            self._open()
            self._read(self._index_at(t))
        except Exception as e:  # whatever a decoder or file system raises
            self._fail(e, now)

    @property
    def name(self) -> str:
        return self.spec.name

    # -- FrameSource, for the frame loop --

    def input_index(self, k: int) -> int:
        return self.generation

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.color is not None and self.depth is not None, "no good frame yet"
        return self.color, self.depth

    # -- time --

    def update(self, t: float, now: float) -> bool:
        """Read the frame for show time t if it is not the one held; True if a new one came.

        A failing source is reopened when its retry is due (wall clock `now`).
        """
        if self.failure is not None:
            return self._retry(t, now)
        if self.live is not None:
            return self._take_live()
        index = self._index_at(t)
        if index == self.index:
            return False
        try:
            self._read(index)
        except Exception as e:
            self._fail(e, now)
            return False
        return True

    def restart(self, t: float) -> None:
        """Play from the first frame again at show time t (the source goes back on screen)."""
        self.origin_s = t
        if self.playback is not None:
            self.playback = Playback(self.playback.frame_count, self.playback.fps)

    def pause(self, t: float) -> None:
        if self.playback is not None:
            self.playback.pause(t - self.origin_s)

    def play(self, t: float) -> None:
        if self.playback is not None:
            self.playback.play(t - self.origin_s)

    @property
    def playing(self) -> bool:
        return self.playback is None or self.playback.playing

    # -- reading and failing --

    def _index_at(self, t: float) -> int:
        return 0 if self.playback is None else self.playback.index_at(t - self.origin_s)

    def _open(self) -> None:
        spec = self.spec
        rate: float | None = None
        if spec.source is not None:
            self.clip, rate = self._open_source()
            if self.clip is None:
                return  # a camera
        else:
            frames = open_frames(
                spec.rgb, spec.depth, spec.convention, spec.resize_depth, loop=True, size=spec.size
            )
            self.clip, rate = frames, input_fps(spec.fps, frames)
        count = self.clip.frame_count
        if count is None:  # two stills
            self.playback = None
            return
        old = self.playback
        self.playback = Playback(count, spec.fps or rate or DEFAULT_FPS)
        if old is not None:  # reopened: play on where it was
            self.playback.origin_s, self.playback.position_s = old.origin_s, old.position_s

    def _open_source(self) -> tuple[Clip | None, float | None]:
        """A --source spelling: a recording or synthetic scene as a looping clip and its
        rate, or a camera (started; None for the clip)."""
        from realtime.sources.options import Inputs, open_inputs
        from realtime.sources.spec import open_source, parse_source

        spec = self.spec
        assert spec.source is not None
        parsed = parse_source(spec.source)
        if parsed.live:
            opened = open_source(parsed, size=spec.size, fps=spec.fps or DEFAULT_FPS)
            assert isinstance(opened, LiveSource)
            self.live = opened
            return None, None
        inputs = Inputs(None, None, parsed, spec.convention, False, spec.sensor_noise, False)
        return open_inputs(inputs, spec.size, spec.fps, loop=True)

    def _take_live(self) -> bool:
        """The camera's newest frame, if one came; its status changes go to the log (a
        stalled or unplugged camera keeps the last good frame on screen and is retried by
        its capture thread)."""
        assert self.live is not None
        status = self.live.status
        if status != self.live_status:
            self.log(f"source '{self.name}': camera {status}")
            self.live_status = status
        frame = self.live.latest()
        if frame is None:
            return False
        self.color, self.depth = frame.color, frame.depth
        self.generation += 1
        return True

    def _read(self, index: int) -> None:
        if self.live is not None:
            deadline = time.monotonic() + FIRST_FRAME_TIMEOUT_S
            while not self._take_live():  # a camera's first frame
                if time.monotonic() > deadline:
                    raise InputError(f"no frame from the camera ({self.live.status})")
                time.sleep(0.01)
            return
        assert self.clip is not None
        color, depth = self.clip.read(index)
        self.color, self.depth, self.index = color, depth, index
        self.generation += 1

    def _fail(self, error: BaseException, now: float) -> None:
        self.failure = one_line(error)
        held = "showing its last good frame" if self.depth is not None else "nothing to show yet"
        self.log(
            f"source '{self.name}' failed: {self.failure}; {held}, retrying every {RETRY_S:g} s"
        )
        self.retry_at = now + RETRY_S
        self.reminded_at = now
        self._close_clip()

    def _retry(self, t: float, now: float) -> bool:
        if now < self.retry_at:
            return False
        self.retry_at = now + RETRY_S
        try:
            self._open()
            self._read(self._index_at(t))
        except Exception as e:
            self._close_clip()
            reason = one_line(e)
            if reason != self.failure or now - self.reminded_at >= REMIND_S:
                self.log(f"source '{self.name}' still failing: {reason}")
                self.reminded_at = now
            self.failure = reason
            return False
        self.log(f"source '{self.name}' recovered")
        self.failure = None
        return True

    def _close_clip(self) -> None:
        if self.live is not None:
            self.live.close()
            self.live = None
        if self.clip is not None:
            try:
                self.clip.close()
            except Exception:
                pass
            self.clip = None

    def close(self) -> None:
        self._close_clip()


__all__ = ["REMIND_S", "RETRY_S", "ShowSource"]
