"""Live sources: the newest frame only, never blocking, faults reported and recovered from."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from realtime.sources.live import ClipAsLive, Intrinsics, LiveFrame, LiveSource

SIZE = (8, 6)  # width, height of the fault-injecting source's frames


def frame_of(value: float, size: tuple[int, int] = SIZE) -> LiveFrame:
    w, h = size
    color = np.full((h, w, 3), value, np.float32)
    depth = np.full((h, w), 2.0, np.float32)
    return LiveFrame(color, depth, time.monotonic())


class FaultySource(LiveSource):
    """Frames every `period_s`, or the fault `mode` names: stall, raise, wrong size, hang."""

    def __init__(self, period_s: float = 0.005) -> None:
        super().__init__("faulty", size=SIZE, stall_after_s=0.2, backoff_s=(0.01, 0.04))
        self.period_s = period_s
        self.mode = "ok"
        self.opens = 0
        self.releases = 0
        self.made = 0  # frames handed to the base class, good or bad

    def _open(self) -> None:
        self.opens += 1

    def _release(self) -> None:
        self.releases += 1

    def _capture(self) -> LiveFrame | None:
        mode = self.mode
        if mode == "raise":
            raise RuntimeError("camera unplugged: USB device reset")
        if mode == "stall":
            time.sleep(0.02)
            return None
        if mode == "hang":  # a driver call that ignores close()
            time.sleep(2.0)
            return None
        time.sleep(self.period_s)
        self.made += 1
        return frame_of(float(self.made), (4, 3) if mode == "wrong size" else SIZE)


@pytest.fixture
def source() -> Iterator[FaultySource]:
    s = FaultySource().start()
    yield s
    s.mode = "ok"
    s.close(timeout_s=0.3)


def wait_for(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.005)


def test_latest_returns_each_frame_once_and_only_the_newest(source: FaultySource) -> None:
    wait_for(lambda: source.frames_captured >= 3)
    first = source.latest()
    assert first is not None and first.color.shape == (6, 8, 3)
    again = source.latest()
    assert again is None or again.sequence > first.sequence  # never the same frame twice
    time.sleep(0.15)  # the loop is busy: ~30 frames arrive, only the last is kept
    newest = source.latest()
    assert newest is not None
    assert newest.sequence > first.sequence + 5
    assert source.frames_dropped >= newest.sequence - first.sequence - 2
    assert source.status == "ok"


def test_counters_add_up(source: FaultySource) -> None:
    taken = 0
    for _ in range(20):
        if source.latest() is not None:
            taken += 1
        time.sleep(0.012)
    source.close()
    pending = 1 if source.latest() is not None else 0
    assert source.frames_captured == taken + source.frames_dropped + pending
    assert source.frames_dropped > 0 and taken > 5


def test_latest_never_blocks_while_capture_hangs(source: FaultySource) -> None:
    wait_for(lambda: source.frames_captured >= 1)
    source.mode = "hang"
    time.sleep(0.05)
    start = time.perf_counter()
    results = [source.latest() for _ in range(1000)]
    elapsed = time.perf_counter() - start
    assert elapsed < 0.1  # 1000 calls while the capture thread is stuck in the driver
    assert sum(r is not None for r in results) <= 1


def test_close_returns_within_its_bound_when_the_device_hangs() -> None:
    s = FaultySource().start()
    wait_for(lambda: s.frames_captured >= 1)
    s.mode = "hang"
    time.sleep(0.05)
    start = time.perf_counter()
    s.close(timeout_s=0.3)
    assert time.perf_counter() - start < 0.6
    assert s.running  # still inside the driver call, as a daemon thread
    assert s.status == "closed"
    assert s.latest() is not None  # the last good frame stays available


def test_close_stops_the_thread_and_releases_the_device() -> None:
    s = FaultySource().start()
    wait_for(lambda: s.frames_captured >= 2)
    start = time.perf_counter()
    s.close()
    assert time.perf_counter() - start < 0.5
    assert not s.running
    assert s.releases == 1


def test_bad_frames_are_skipped_counted_and_reported(source: FaultySource) -> None:
    wait_for(lambda: source.frames_captured >= 1)
    source.latest()
    source.mode = "wrong size"
    wait_for(lambda: source.frames_bad >= 5)
    source.latest()  # a good frame captured as the mode changed
    wait_for(lambda: source.frames_bad >= 10)
    assert source.latest() is None  # a bad frame never reaches the loop
    assert source.status.startswith("bad frames: frame is 4x3, expected 8x6")
    source.mode = "ok"
    wait_for(lambda: source.status == "ok")
    frame = source.latest()
    assert frame is not None and frame.depth.shape == (6, 8)


def test_a_raising_capture_is_reported_retried_with_backoff_and_recovers(
    source: FaultySource,
) -> None:
    wait_for(lambda: source.frames_captured >= 1)
    source.latest()
    source.mode = "raise"
    time.sleep(0.3)
    assert source.status == "camera unplugged: USB device reset (retrying)"
    # backoff 0.01, 0.02, 0.04, 0.04...: about 9 tries in 0.3 s, not thousands
    assert 3 <= source.failures <= 20
    assert source.releases >= 1 and source.opens >= 3  # each retry reopens the device
    source.latest()  # a good frame captured as the mode changed
    time.sleep(0.05)
    assert source.latest() is None
    captured = source.frames_captured
    source.mode = "ok"
    wait_for(lambda: source.frames_captured > captured)
    assert source.status == "ok"
    assert source.latest() is not None


def test_a_fault_that_turns_into_a_stall_reports_the_stall(source: FaultySource) -> None:
    wait_for(lambda: source.frames_captured >= 1)
    source.mode = "raise"
    wait_for(lambda: source.status.startswith("camera unplugged"))
    source.mode = "stall"  # the device opens again but sends nothing yet
    wait_for(lambda: source.status.startswith("stalled"))
    source.mode = "ok"
    wait_for(lambda: source.status == "ok")


def test_a_stall_is_reported_with_its_age_and_recovers(source: FaultySource) -> None:
    wait_for(lambda: source.frames_captured >= 1)
    source.mode = "stall"
    wait_for(lambda: source.status.startswith("stalled"))
    time.sleep(0.1)
    age = float(source.status.split()[1])
    assert 0.2 <= age < 2.0 and source.status.endswith(" s")
    source.mode = "ok"
    wait_for(lambda: source.status == "ok")


class CountingClip:
    """A clip whose frame k has colour k / 100 everywhere."""

    frame_count: int | None = 10
    intrinsics = Intrinsics(10.0, 10.0, 3.5, 2.5)

    def __init__(self) -> None:
        self.reads: list[int] = []
        self.closed = False

    def input_index(self, k: int) -> int:
        return k

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.reads.append(k)
        return np.full((6, 8, 3), k / 100, np.float32), np.full((6, 8), 1.0 + k, np.float32)

    def close(self) -> None:
        self.closed = True


def test_clip_as_live_plays_in_real_time_and_loops() -> None:
    clip = CountingClip()
    start = time.monotonic()
    with ClipAsLive(clip, fps=50.0) as live:
        seen = []
        while time.monotonic() - start < 0.5:
            frame = live.latest()
            if frame is not None:
                seen.append(round(float(frame.color[0, 0, 0]) * 100))
                assert frame.intrinsics == clip.intrinsics
            time.sleep(0.003)
    assert clip.closed
    # 0.5 s at 50 fps: about 25 frames, 10-frame clip looped twice
    assert 15 <= len(clip.reads) <= 27
    assert clip.reads[:10] == list(range(10)) or max(clip.reads) == 9
    assert set(clip.reads) <= set(range(10)) and clip.reads.count(0) >= 2
    assert len(seen) >= 10


def test_clip_as_live_without_loop_ends() -> None:
    clip = CountingClip()
    live = ClipAsLive(clip, fps=200.0, loop=False).start()
    try:
        wait_for(lambda: live.status == "clip ended")
        assert sorted(set(clip.reads)) == clip.reads and clip.reads[-1] <= 9
    finally:
        live.close()
