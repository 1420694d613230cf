"""Racks without popping: the pipeline's output changes as evenly as brute force's.

The fixed rack of realtime/smoothness.py (the TUM frame, 35 mm f/1.4, focus
racked linearly from 1.2 m to 3.5 m over 48 frames) moves every CoC at a
steady rate; a discrete choice in the chain that flips between two frames
shows as a jump in the second temporal difference. Both are measured over a
band of rows through the desk, the striped book and the white box (brute
force costs a second a frame over the whole frame on llvmpipe).

    rows 180-239 of 480         jumps (% of pixel-steps)   p99.9 (1/255)
    pipeline before issue 14             2.54                   23.7
    pipeline, measured                   0.60                    7.0
    brute force                          0.50                    7.5
"""

from __future__ import annotations

import numpy as np
import pytest
from measure_large_rack import large_rack

from realtime.metrics import RACK_STEP_LIMIT, rack_jumps
from realtime.pipeline import read_rgb
from realtime.smoothness import rack_smoothness, tum_frame

BAND = (180, 60)  # first row, rows


def test_rack_jumps_counts_uneven_steps_only() -> None:
    ramp = [np.full((2, 2, 3), 0.2 + 0.01 * k, np.float32) for k in range(6)]
    assert rack_jumps(ramp)["share_pct"] == 0.0  # a steady change never jumps
    popped = [f.copy() for f in ramp]
    popped[3][0, 0] += 0.2  # one pixel pops for one frame: three steps around it jump
    jumps = rack_jumps(popped)
    assert jumps["share_pct"] == pytest.approx(100.0 * 3 / (4 * 4))
    assert jumps["p999"] > 255.0 * RACK_STEP_LIMIT


@pytest.mark.skipif(tum_frame() is None, reason="needs the checkout's TUM test frame")
def test_rack_pops_no_more_than_brute_force(ctx, compositor) -> None:
    result = rack_smoothness(ctx, compositor, rows=BAND)
    assert result["input"] == "tum"
    assert result["largest_coc"] == pytest.approx(11.64, abs=0.01)
    # The target is twice brute force's share; the chain holds within 1.5 times it
    # (it was 5 times before), and its largest jumps are no larger than brute force's.
    assert result["share_pct"] <= 1.5 * result["brute_share_pct"]
    assert result["p999"] <= 1.25 * result["brute_p999"]


def test_large_blur_rack_hands_kernels_over_without_popping(compositor) -> None:
    """tests/measure_large_rack.py's rack (demo scene, blur up to 123 px), pipeline over
    the whole frame: the gather's kernels cross-fade as the radius grows (1.07 %
    measured; 2.56 % when they switched at thresholds, spacing following the radius).
    Its 16-row band measured 2.69 % against brute force's 1.21 % (7.56 % before)."""
    lenses, largest, (color, depth) = large_rack(compositor)
    assert largest == pytest.approx(122.6, abs=0.1)
    frames = [read_rgb(compositor.render_textures(color, depth, lens)) for lens in lenses]
    assert rack_jumps(frames)["share_pct"] <= 1.5
