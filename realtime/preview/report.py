"""The preview's `--stats` lines, printed when the window closes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime.frameloop import LiveFrames
    from realtime.preview.app import Preview


def stats_lines(preview: Preview, elapsed_s: float) -> list[str]:
    """Frames, composites and the frame rate; input and rendered sizes; the camera's,
    the adaptive scale's, the sinks' and the web remote's counters where they run."""
    s = preview.stats
    median = s.median_interval_ms()
    rate = f"median frame {median:.1f} ms ({1000.0 / median:.1f} fps)"
    fw, fh = preview.window.framebuffer_size
    (iw, ih), (sw, sh) = preview.image_size, preview.shown
    lines = [
        f"frames {s.frames}, composites {preview.composites}, {elapsed_s:.3f} s, "
        f"{rate if s.frames > 1 else 'no frame rate'}, {fw}x{fh}, "
        f"renderer {preview.ctx.info['GL_RENDERER']}",
        f"input {iw}x{ih}, rendered at {sw}x{sh}",
    ]
    if preview.live is not None:
        lines.append(live_report(preview.live, preview.latency_ms))
    if preview.options.target_fps > 0:
        lines.append(preview.adaptive.report())
    lines.extend(preview.sinks.summaries())
    if preview.remote is not None:
        lines.extend(preview.remote.summaries())
    return lines


def live_report(live: LiveFrames, latency_ms: Iterable[float]) -> str:
    """--stats for a camera: frames captured, taken, dropped and bad; capture-to-screen time."""
    source = live.live
    lat = sorted(latency_ms)
    median = f"{lat[len(lat) // 2]:.1f} ms" if lat else "n/a"
    return (
        f"camera: {source.frames_captured} captured, {live.index + 1} shown, "
        f"{source.frames_dropped} dropped, {source.frames_bad} bad; "
        f"capture to screen median {median}; status {source.status}"
    )
