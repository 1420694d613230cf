"""Rack smoothness: the measure of popping while focus travels.

A linear rack moves every CoC at a steady rate; a discrete choice in the
chain that flips between two frames shows as a jump in the second temporal
difference (realtime.metrics.rack_jumps, realtime/smoothness.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from realtime.metrics import RACK_STEP_LIMIT, rack_jumps


def test_rack_jumps_counts_uneven_steps_only() -> None:
    ramp = [np.full((2, 2, 3), 0.2 + 0.01 * k, np.float32) for k in range(6)]
    assert rack_jumps(ramp)["share_pct"] == 0.0  # a steady change never jumps
    popped = [f.copy() for f in ramp]
    popped[3][0, 0] += 0.2  # one pixel pops for one frame: three steps around it jump
    jumps = rack_jumps(popped)
    assert jumps["share_pct"] == pytest.approx(100.0 * 3 / (4 * 4))
    assert jumps["p999"] > 255.0 * RACK_STEP_LIMIT
