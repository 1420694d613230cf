"""The preview's HUD: the window title line and the frame statistics behind it."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from realtime.lens import Lens
from realtime.preview.controls import VIEW_LABELS, Controls, f_number_label

TITLE = "rackfocus"
HUD_INTERVAL_S = 0.25  # the window title (HUD) is refreshed at most this often
FPS_WINDOW_S = 1.0  # the HUD's frame rate is averaged over this much recent time
STATS_FRAMES = 1000  # --stats: the median frame time is over at most this many recent frames


@dataclass
class FrameStats:
    """What the HUD and --stats report: swap times, from which rates and frame times follow."""

    frames: int = 0  # frames drawn and swapped
    swaps: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_FRAMES))  # wall s
    frame_ms: float = 0.0  # wall time of the last drawn frame, loop start to swap

    def swapped(self, now: float, frame_start: float) -> None:
        self.frames += 1
        self.swaps.append(now)
        self.frame_ms = (now - frame_start) * 1000.0

    def fps(self, now: float) -> float:
        """Frames per second over the last FPS_WINDOW_S (0 when fewer than two frames)."""
        recent = [t for t in self.swaps if now - t <= FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)

    def median_interval_ms(self) -> float:
        """Median time between swaps; the first frame (shader compiles) counts for nothing."""
        times = list(self.swaps)
        gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
        return 1000.0 * gaps[len(gaps) // 2] if gaps else math.nan


def hud_title(rgb: str, lens: Lens, controls: Controls, fps: float, frame_ms: float = 0.0) -> str:
    """'rackfocus | focus 2.5 m | f/1.4 | 6 blades | 14.0 fps, 71.2 ms | signed CoC | playing'.

    With the HUD off (I), only the input's name.
    """
    if not controls.hud:
        return f"{TITLE} - {Path(rgb).name}"
    aperture = (
        f"blur {lens.artistic_blur_px:.3g} px"
        if lens.artistic_blur_px is not None
        else f"{f_number_label(lens.f_number)}"
    )
    parts = [TITLE, f"focus {lens.focus_m:.3g} m", aperture]
    if lens.blades:
        parts.append(f"{lens.blades} blades")
    parts.append(f"{fps:.1f} fps, {frame_ms:.1f} ms" if fps > 0 else "idle")
    if controls.view != "off":
        parts.append(VIEW_LABELS[controls.view])
    if controls.cues is not None:
        parts.append("playing" if controls.playing else "paused")
    return " | ".join(parts)
