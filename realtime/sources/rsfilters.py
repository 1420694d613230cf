"""The RealSense SDK's own depth post-processing, for comparison with depth conditioning.

`--rs-filters` runs librealsense's recommended chain on every depth frame of a
RealSense source, in Intel's order (doc/post-processing-filters.md): depth to
disparity, spatial (edge-preserving), temporal, disparity to depth, hole
filling ("farthest from around"); decimation is left out so the depth stays
pixel for pixel with the colour. The temporal filter keeps state: a recording
is filtered once, in order, when it is opened, so every frame of it is still a
pure function of its index.
"""

from __future__ import annotations

from typing import Any

SPATIAL_ALPHA = 0.5  # Intel's recommended defaults
SPATIAL_DELTA = 20
SPATIAL_ITERATIONS = 2
TEMPORAL_ALPHA = 0.4
TEMPORAL_DELTA = 20
HOLE_FILL_FARTHEST = 1  # hole_filling_filter mode 1: farthest from around


class SdkFilters:
    """librealsense's depth filters, applied to one depth frame after another."""

    def __init__(self, rs: Any) -> None:
        spatial = rs.spatial_filter()
        spatial.set_option(rs.option.filter_smooth_alpha, SPATIAL_ALPHA)
        spatial.set_option(rs.option.filter_smooth_delta, SPATIAL_DELTA)
        spatial.set_option(rs.option.filter_magnitude, SPATIAL_ITERATIONS)
        temporal = rs.temporal_filter()
        temporal.set_option(rs.option.filter_smooth_alpha, TEMPORAL_ALPHA)
        temporal.set_option(rs.option.filter_smooth_delta, TEMPORAL_DELTA)
        self.chain = [
            rs.disparity_transform(True),
            spatial,
            temporal,
            rs.disparity_transform(False),
            rs.hole_filling_filter(HOLE_FILL_FARTHEST),
        ]

    def __call__(self, depth_frame: Any) -> Any:
        """The filtered frame (a depth frame, same size)."""
        frame = depth_frame
        for f in self.chain:
            frame = f.process(frame)
        return frame.as_depth_frame()
