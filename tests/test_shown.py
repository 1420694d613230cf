"""Rendering what a window shows: the size chosen, the reductions, the lens (no window).

The preview and the show reduce a frame larger than their window's letterbox
once, on the CPU, and render that (realtime.preview.shown, .reduce). The window
tests are in test_preview.py and test_show.py; here the pieces are checked
against numpy on small arrays.
"""

from __future__ import annotations

import numpy as np
import pytest

from realtime.frameloop import StillFrames
from realtime.lens import Lens
from realtime.preview.display import letterbox
from realtime.preview.reduce import (
    EDGE_SPREAD,
    area_average,
    area_taps,
    reduce_depth,
    reduce_frame,
)
from realtime.preview.shown import ShownFrames, lens_for_width, scale_pixel, shown_size
from realtime.sources.images import decode_srgb_integers

PHOTO = (4032, 3024)  # a 12 MP phone photo
WINDOW = (1440, 1080)


# --- The size rendered ----------------------------------------------------------------------


def test_a_frame_renders_at_the_letterbox_it_is_drawn_into_and_is_never_enlarged() -> None:
    assert shown_size(PHOTO, WINDOW) == WINDOW
    assert shown_size(PHOTO, (1280, 720)) == (960, 720)  # pillarboxed
    assert shown_size(PHOTO, (1920, 1080)) == WINDOW
    assert shown_size((160, 120), (320, 240)) == (160, 120)  # smaller than the window
    assert shown_size((160, 120), (120, 120)) == (120, 90)
    assert shown_size(PHOTO, (0, 0)) == PHOTO  # a minimised window changes nothing
    # a frame reduced is then drawn pixel for pixel (no resampling on screen)
    for image in (PHOTO, (1000, 3), (641, 479), (160, 120)):
        for target in ((1440, 1080), (1280, 720), (333, 1000), (97, 61), (1, 1)):
            shown = shown_size(image, target)
            rect = letterbox(shown, target)
            assert shown == image or (rect.w, rect.h) == shown, (image, target)


def test_an_image_pixel_maps_to_the_shown_pixel_of_the_same_place() -> None:
    assert scale_pixel((0, 0), PHOTO, WINDOW) == (0, 0)
    assert scale_pixel((2016, 1512), PHOTO, WINDOW) == (720, 540)
    assert scale_pixel((4031, 3023), PHOTO, WINDOW) == (1439, 1079)
    assert scale_pixel((30, 150), (400, 300), (160, 120)) == (12, 60)


def test_blur_set_in_pixels_scales_with_the_width_rendered() -> None:
    depth = np.array([0.5, 1.0, 2.0, 8.0])
    ratio = WINDOW[0] / PHOTO[0]
    physical = Lens(focus_m=1.0, f_number=1.4)
    assert lens_for_width(physical, PHOTO[0], PHOTO[0]) is physical
    assert lens_for_width(physical, PHOTO[0], WINDOW[0]) == physical  # its CoC follows the width
    np.testing.assert_allclose(
        physical.coc_px(depth, WINDOW[0]), physical.coc_px(depth, PHOTO[0]) * ratio
    )
    artistic = Lens(focus_m=1.0, artistic_blur_px=30.0, max_coc_px=20.0)
    shown = lens_for_width(artistic, PHOTO[0], WINDOW[0])
    assert shown.artistic_blur_px == pytest.approx(30.0 * ratio)
    assert shown.max_coc_px == pytest.approx(20.0 * ratio)
    np.testing.assert_allclose(
        shown.coc_px(depth, WINDOW[0]), artistic.coc_px(depth, PHOTO[0]) * ratio, rtol=1e-12
    )


# --- Colour by area ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_in", "n_out"), [(4032, 1440), (3024, 1080), (400, 160), (7, 3), (5, 5)]
)
def test_area_taps_share_every_input_pixel_out_exactly(n_in: int, n_out: int) -> None:
    index, weight = area_taps(n_in, n_out)
    assert index.shape == weight.shape and index.shape[1] <= -(-n_in // n_out) + 1
    assert index.min() >= 0 and index.max() < n_in
    np.testing.assert_allclose(weight.sum(axis=1), 1.0, rtol=1e-6)
    share = np.zeros(n_in)
    np.add.at(share, index.ravel(), weight.ravel().astype(np.float64))
    np.testing.assert_allclose(share, n_out / n_in, rtol=1e-6)  # each pixel counts once


def test_colour_is_the_area_mean() -> None:
    rng = np.random.default_rng(26)
    color = rng.random((30, 45, 3), dtype=np.float32)
    blocks = color.reshape(10, 3, 15, 3, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(area_average(color, (15, 10)), blocks, rtol=1e-5)
    reduced = area_average(color, (18, 12))  # 2.5 pixels a footprint: the mean is kept
    assert reduced.shape == (12, 18, 3) and reduced.dtype == np.float32
    np.testing.assert_allclose(reduced.mean(axis=(0, 1)), color.mean(axis=(0, 1)), rtol=1e-5)
    codes = (rng.random((30, 45, 3)) * 255).astype(np.uint8)  # sRGB codes: averaged linear
    np.testing.assert_allclose(
        area_average(codes, (18, 12)), area_average(decode_srgb_integers(codes), (18, 12)), 1e-6
    )


def test_fine_texture_turns_grey_instead_of_aliasing() -> None:
    """A one-pixel checkerboard reduced 2.5x: every footprint holds about half of each
    colour (within 0.5 +- 0.2^2 / 2 in 2-D); a point sample would give 0 or 1."""
    yy, xx = np.mgrid[0:300, 0:400]
    checker = np.repeat(((xx + yy) % 2).astype(np.float32)[..., None], 3, axis=2)
    reduced = area_average(checker, (160, 120))
    assert np.abs(reduced - 0.5).max() <= 0.02 + 1e-6


# --- Depth without blending edges ---------------------------------------------------------------


def test_a_depth_edge_stays_an_edge_on_the_side_covering_most_of_a_footprint() -> None:
    depth = np.full((300, 400), 4.0, np.float32)
    depth[:, :123] = 1.0  # the edge inside output column 49 ([122.5, 125)): 0.5 px near
    reduced = reduce_depth(depth, (160, 120))
    assert set(np.unique(reduced)) == {1.0, 4.0}  # nothing between the two surfaces
    assert (reduced[:, :49] == 1.0).all() and (reduced[:, 49:] == 4.0).all()
    depth[:, :124] = 1.0  # now 1.5 px of the 2.5 are near
    assert (reduce_depth(depth, (160, 120))[:, 49] == 1.0).all()


def footprint_means(values: np.ndarray, n_out: int) -> np.ndarray:
    """Each output pixel's mean of `values` over its footprint, pixel by pixel."""
    r = len(values) / n_out
    out = np.zeros(n_out)
    for j in range(n_out):
        for i, value in enumerate(values):
            out[j] += max(0.0, min(i + 1, (j + 1) * r) - max(i, j * r)) * value / r
    return out


def test_a_smooth_surface_keeps_its_mean_in_inverse_depth() -> None:
    """A slope whose inverse depth changes 0.1% a pixel: each footprint is its mean in
    inverse depth, not one pixel's."""
    inverse = 0.5 + 5e-4 * np.arange(400)
    depth = np.tile(1.0 / inverse, (300, 1)).astype(np.float32)
    reduced = reduce_depth(depth, (160, 120))
    expected = 1.0 / footprint_means(inverse, 160)
    np.testing.assert_allclose(reduced, np.tile(expected, (120, 1)), rtol=2e-6)
    assert (5e-4 * 3) / inverse[-1] < EDGE_SPREAD  # the whole footprint is one surface


def test_missing_depth_counts_as_far_and_stays_missing_where_it_covers_most() -> None:
    depth = np.full((9, 9), 2.0, np.float32)
    depth[1, 1] = np.nan  # one pixel of the first footprint: the surface wins
    depth[3:6, 3:5] = 0.0  # six of the middle footprint's nine
    depth[7, 7] = np.inf
    reduced = reduce_depth(depth, (3, 3))
    expected = np.full((3, 3), 2.0, np.float32)
    expected[1, 1] = 0.0
    np.testing.assert_array_equal(reduced, expected)


def test_a_frame_reduces_depth_only_where_it_is_larger_than_the_size() -> None:
    color = np.zeros((300, 400, 3), np.float32)
    full, small = np.ones((300, 400), np.float32), np.ones((75, 100), np.float32)
    c, d = reduce_frame(color, full, (160, 120))
    assert c.shape == (120, 160, 3) and d.shape == (120, 160)
    c, d = reduce_frame(color, small, (160, 120))  # a phone's: upsampled by the chain
    assert d is small
    frames = ShownFrames(StillFrames(color, full), (160, 120))
    assert frames.input_index(3) == 0 and [a.shape for a in frames.read(3)] == [c.shape, (120, 160)]
