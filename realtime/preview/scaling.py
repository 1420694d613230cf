"""Adaptive resolution: the scale the chain renders at while the picture moves (no GL).

Frame time on a software rasteriser grows with the pixel count, so it is
modelled as proportional to scale²: each measured frame gives the cost of a
full-scale frame, t / s², and the chooser keeps the median of the last few.
The scale steps through SCALES: down at once when the median frame misses the
budget (1 / --target-fps) by more than DOWN_SLACK, up only after UP_FRAMES
frames in a row in which the next finer step is predicted to fit within
UP_HEADROOM of the budget, so the scale settles instead of oscillating. When
nothing moves the preview renders at scale 1 regardless (one sharp frame).
"""

from __future__ import annotations

import math
import statistics
from collections import deque

SCALES = (1.0, 0.8, 0.64, 0.5, 0.4, 0.32, 0.25)  # render scales, finest first (steps of 0.8)
DEFAULT_TARGET_FPS = 30.0  # --target-fps
COST_FRAMES = 5  # frames whose median full-scale cost drives the choice
MIN_FRAMES = 3  # frames measured at a scale before a step (the first one compiles, allocates)
DOWN_SLACK = 1.1  # step down when the median frame takes longer than this times the budget
UP_HEADROOM = 0.7  # step up when the finer step is predicted under this share of the budget
UP_FRAMES = 10  # ... for this many frames in a row


class AdaptiveScale:
    """Chooses the render scale from measured frame times, with hysteresis."""

    def __init__(self, target_fps: float = DEFAULT_TARGET_FPS) -> None:
        self.budget_ms = 1000.0 / target_fps if target_fps > 0 else math.inf
        self.level = 0  # index into SCALES
        self.costs: deque[float] = deque(maxlen=COST_FRAMES)  # full-scale cost estimates, ms
        self.frames_fit = 0  # frames in a row the finer step was predicted to fit
        self.changes: list[tuple[float, float]] = [(0.0, SCALES[0])]  # (preview time, scale)
        self.frames_at: dict[float, int] = {}  # moving frames rendered at each scale

    @property
    def scale(self) -> float:
        """The scale for the next moving frame."""
        return SCALES[self.level]

    def record(self, frame_ms: float, scale: float, t: float) -> None:
        """A moving frame rendered at `scale` took `frame_ms` (loop start to swap)."""
        self.frames_at[scale] = self.frames_at.get(scale, 0) + 1
        self.costs.append(frame_ms / (scale * scale))
        if len(self.costs) < MIN_FRAMES:
            return
        cost = statistics.median(self.costs)
        level = self.level
        if cost * self.scale**2 > DOWN_SLACK * self.budget_ms and level + 1 < len(SCALES):
            while level + 1 < len(SCALES) and cost * SCALES[level] ** 2 > self.budget_ms:
                level += 1
            self.frames_fit = 0
        elif level > 0 and cost * SCALES[level - 1] ** 2 < UP_HEADROOM * self.budget_ms:
            self.frames_fit += 1
            if self.frames_fit >= UP_FRAMES:
                level -= 1
                self.frames_fit = 0
        else:
            self.frames_fit = 0
        if level != self.level:
            self.level = level
            self.costs.clear()  # the next frames measure the new scale
            self.changes.append((t, self.scale))

    def report(self) -> str:
        """--stats: moving frames per scale and the changes over time."""
        counts = ", ".join(f"{s:g}: {n}" for s, n in sorted(self.frames_at.items(), reverse=True))
        changes = " -> ".join(f"{s:g} at {t:.2f} s" for t, s in self.changes)
        return f"scale: moving frames per scale {{{counts}}}; changes {changes}"
