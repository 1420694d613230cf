"""Depth whose edges all sit the same few pixels off the colour's (realtime.sources.edge_offset):
the offset measured per frame and moved back before the conditioning's passes."""

from __future__ import annotations

import moderngl
import numpy as np
import pytest

from realtime.frameloop import FrameLoop
from realtime.lens import Lens
from realtime.pipeline import Compositor
from realtime.sources.edge_offset import MAX_OFFSET_PX, depth_edge_offset, undo_offset
from realtime.sources.sensor import shift_image

SIZE = 160
NEAR_M, FAR_M = 1.5, 4.0


def scene() -> tuple[np.ndarray, np.ndarray]:
    """Textured colour (every pixel its own) and true depth: a near disc, a near 3 px post
    and a near bar over a far wall; the near surfaces' colours differ from the wall's."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    rng = np.random.default_rng(1)
    near = ((xx - 90) ** 2 + (yy - 80) ** 2 < 35**2) | ((xx > 20) & (xx < 23))
    near |= (yy > 130) & (yy < 145) & (xx > 30)
    wall = rng.uniform(0.05, 0.3, (SIZE, SIZE, 1)) * np.array([0.6, 0.7, 1.0])
    subject = rng.uniform(0.5, 0.9, (SIZE, SIZE, 1)) * np.array([1.0, 0.8, 0.5])
    color = np.where(near[..., None], subject, wall).astype(np.float32)
    return color, np.where(near, NEAR_M, FAR_M).astype(np.float32)


def grown(depth: np.ndarray, px: int) -> np.ndarray:
    """Near surfaces grown by `px` px (stereo edge fattening): a min filter."""
    out = depth.copy()
    for _ in range(px):
        p = np.pad(out, 1, mode="edge")
        out = np.minimum.reduce([out, p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
    return out


@pytest.mark.parametrize("shift", [(0, 0), (4, 0), (0, 4), (3, 3), (-5, 2), (1, -6)])
def test_an_offset_is_measured_to_the_pixel(shift: tuple[int, int]) -> None:
    color, depth = scene()
    assert depth_edge_offset(color, shift_image(depth, *shift)) == shift


def test_integer_colour_codes_measure_alike() -> None:
    color, depth = scene()
    codes = (np.clip(color, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)
    assert depth_edge_offset(codes, shift_image(depth, 3, -2)) == (3, -2)


def test_fattened_near_surfaces_are_no_offset() -> None:
    """Fattening moves the two kinds of edge apart, an offset both alike: a fattened
    map measures as fattened (the refine pass's job), moved only by its offset."""
    color, depth = scene()
    assert depth_edge_offset(color, grown(depth, 2)) == (0, 0)
    assert depth_edge_offset(color, shift_image(grown(depth, 2), 4, 0)) == (4, 0)


def test_edges_beside_holes_do_not_count() -> None:
    """Occlusion shadows (no data) along the near surfaces' left edges: the right edges
    alone measure the offset."""
    color, depth = scene()
    moved = shift_image(depth, 4, 0)
    left_edges = (moved < 2.0) & (np.roll(moved, 1, axis=1) > 2.0)
    shadow = np.zeros_like(left_edges)
    for dx in range(1, 9):
        shadow |= np.roll(left_edges, -dx, axis=1)
    moved[shadow & (moved > 2.0)] = np.nan
    assert depth_edge_offset(color, moved) == (4, 0)


def test_depth_edges_the_colour_does_not_show_are_left_alone() -> None:
    """A flat colour (or a repeated pattern unrelated to the depth) gives no clear peak."""
    _, depth = scene()
    flat = np.full((SIZE, SIZE, 3), 0.4, np.float32)
    assert depth_edge_offset(flat, shift_image(depth, 4, 0)) == (0, 0)
    noise = np.random.default_rng(2).uniform(0, 1, (SIZE, SIZE, 3)).astype(np.float32)
    assert depth_edge_offset(noise, shift_image(depth, 4, 0)) == (0, 0)


def test_undo_offset_moves_the_content_back() -> None:
    _, depth = scene()
    m = MAX_OFFSET_PX
    back = undo_offset(shift_image(depth, -5, 2), -5, 2)
    assert np.array_equal(back[m:-m, m:-m], depth[m:-m, m:-m])
    assert undo_offset(depth, 0, 0) is depth


class _Still:
    def __init__(self, color: np.ndarray, depth: np.ndarray) -> None:
        self.color, self.depth = color, depth

    def input_index(self, k: int) -> int:
        return k

    def read(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.color, self.depth


def test_the_conditioning_frame_loop_moves_depth_back(ctx: moderngl.Context) -> None:
    """`--condition-depth on`: depth 4 px right and 3 down of its colour is moved back
    before the GPU passes; without conditioning the depth is the input's."""
    color, depth = scene()
    moved = shift_image(depth, 4, 3)
    lens = Lens(focal_length_mm=50.0, f_number=2.0, focus_m=NEAR_M)
    loop = FrameLoop(Compositor(ctx), _Still(color, moved), condition_depth=True)
    loop.compose(0, lens)
    assert loop.depth_offset == (4, 3)
    assert loop.depth is not None
    inner = (slice(8, -8), slice(8, -8))
    assert np.array_equal(loop.depth[inner], depth[inner])
    plain = FrameLoop(Compositor(ctx), _Still(color, moved))
    plain.compose(0, lens)
    assert plain.depth_offset == (0, 0)
    assert plain.depth is moved
