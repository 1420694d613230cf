"""Whole-chain behaviour on synthetic inputs: discs, energy, focus, layers."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.lens import Lens

SIZE = 160


def flat_scene(depth_m: float = 5.0, value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    color = np.full((SIZE, SIZE, 3), value, np.float32)
    depth = np.full((SIZE, SIZE), depth_m, np.float32)
    return color, depth


def disc_diameter(image: np.ndarray) -> float:
    """Diameter of the area brighter than half the plateau (equal-area circle)."""
    plateau = np.median(image[image > 0.5 * image.max()])
    area = float((image > 0.5 * plateau).sum())
    return 2.0 * np.sqrt(area / np.pi)


def flat_disc_spread(
    out: np.ndarray, centre: int, diameter: float, share: float
) -> tuple[float, float]:
    """(relative spread, mean) of a disc's values closer to (centre, centre) than share *
    diameter (0.3: the inner 60% of its radius)."""
    yy, xx = np.mgrid[: out.shape[0], : out.shape[1]]
    inner = out[np.hypot(yy - centre, xx - centre) < share * diameter]
    return float(inner.std() / inner.mean()), float(inner.mean())


@pytest.mark.parametrize("blur_px", [12.0, 30.0, 60.0])
def test_bright_pixel_becomes_flat_disc_of_thin_lens_size(compositor, blur_px: float) -> None:
    color, depth = flat_scene()
    color[80, 80] = 100.0
    lens = Lens(artistic_blur_px=blur_px / 0.6, focus_m=2.0)  # at 5 m: coc = blur * (1 - 2/5)
    expected = float(lens.coc_px(5.0, SIZE))
    assert expected == pytest.approx(blur_px)
    out = compositor.render(color, depth, lens)[..., 0]
    assert out.sum() == pytest.approx(100.0, rel=0.03)  # energy within 3%
    assert disc_diameter(out) == pytest.approx(expected, abs=1.0)
    # flat top: the inner 60% of the disc varies by less than 5%
    spread, mean = flat_disc_spread(out, 80, expected, 0.3)
    assert spread < 0.05
    assert mean == pytest.approx(100.0 / (np.pi * expected**2 / 4), rel=0.06)


def test_all_in_focus_input_is_unchanged(compositor) -> None:
    rng = np.random.default_rng(1)
    color = rng.random((SIZE, SIZE, 3), dtype=np.float32)
    depth = np.full((SIZE, SIZE), 3.0, np.float32)
    out = compositor.render(color, depth, Lens(focus_m=3.0, f_number=1.4))
    assert np.abs(out - color).max() <= 1.0 / 255


def test_no_halo_around_sharp_subject(compositor) -> None:
    # a sharp bright square at the focal plane before a dark blurred background
    color, depth = flat_scene(depth_m=10.0, value=0.1)
    color[50:110, 50:110] = 1.0
    depth[50:110, 50:110] = 2.0
    lens = Lens(focus_m=2.0, f_number=1.4, focal_length_mm=135.0)
    assert lens.coc_px(10.0, SIZE) > 20
    out = compositor.render(color, depth, lens)
    assert np.abs(out[52:108, 52:108] - 1.0).max() < 1.0 / 255  # subject stays sharp
    ring = np.ones((SIZE, SIZE), bool)
    ring[44:116, 44:116] = False
    assert np.abs(out[ring] - 0.1).max() < 0.01  # background beside it does not glow


def test_blurred_foreground_spreads_over_sharp_background(compositor) -> None:
    color, depth = flat_scene(depth_m=4.0, value=0.0)
    color[:, :80] = 1.0
    depth[:, :80] = 1.0  # a near white half, far in front of focus
    lens = Lens(focus_m=4.0, f_number=1.2, focal_length_mm=85.0)
    coc = float(-lens.coc_px(1.0, SIZE))
    assert coc > 20
    out = compositor.render(color, depth, lens)[80, :, 0]
    # past the edge the foreground covers a sharp background partially, fading out
    # over its radius: about half at the edge, nothing beyond one radius
    assert 0.3 < out[81] < 0.7
    assert out[80 + int(coc / 2) + 3] < 0.02
    assert out[80 + int(coc / 4)] > 0.05


def test_bladed_aperture_gives_polygon_bokeh(compositor) -> None:
    """Six blades: the disc of a bright pixel has the hexagon's area, not the circle's."""
    color, depth = flat_scene()
    color[80, 80] = 100.0
    diameter = 40.0
    lens = Lens(artistic_blur_px=diameter / 0.6, focus_m=2.0, blades=6)
    out = compositor.render(color, depth, lens)[..., 0]
    area = float((out > 0.5 * out.max()).sum())
    radius = diameter / 2
    hexagon = 3 * np.sqrt(3) / 2 * radius**2  # regular hexagon of circumradius r
    assert area == pytest.approx(hexagon, rel=0.06)
    assert abs(area - np.pi * radius**2) > 0.08 * np.pi * radius**2
    assert out.sum() == pytest.approx(100.0, rel=0.03)


def test_invalid_depth_never_makes_nan_pixels(compositor) -> None:
    """Depth the caller did not fill (0, negative, NaN, inf) counts as far; no NaN comes out."""
    rng = np.random.default_rng(3)
    color = rng.random((SIZE, SIZE, 3), dtype=np.float32)
    depth = np.full((SIZE, SIZE), 2.0, np.float32)
    depth[10:30, 10:30] = 0.0
    depth[40:60, 40:60] = np.nan
    depth[70:90, 70:90] = -1.0
    depth[100:120, 100:120] = np.inf
    out = compositor.render(color, depth, Lens(focus_m=1.0, f_number=1.4))
    assert np.isfinite(out).all()


@pytest.mark.parametrize("blur_px", [28.0, 120.0, 250.0])
def test_large_discs_stay_flat_and_keep_their_energy(compositor, blur_px: float) -> None:
    """Sprites of any size, the half-res ones included (from SPRITE_HALF_MIN px), and the
    hand-over between the two (28 px): a flat disc of the thin-lens size holding the light."""
    size = 320
    color = np.zeros((size, size, 3), np.float32)
    depth = np.full((size, size), 5.0, np.float32)
    color[160, 160] = 1000.0
    lens = Lens(artistic_blur_px=blur_px / 0.6, focus_m=2.0)
    out = compositor.render(color, depth, lens)[..., 0]
    assert out.sum() == pytest.approx(1000.0, rel=0.03)
    assert disc_diameter(out) == pytest.approx(blur_px, abs=2.0)
    spread, mean = flat_disc_spread(out, 160, blur_px, 0.4)
    assert spread < 0.03
    assert mean == pytest.approx(1000.0 / (np.pi * blur_px**2 / 4), rel=0.06)


def test_a_blurred_backdrop_is_smooth_however_large_its_blur(compositor) -> None:
    """A wide blur gathered from the pyramid: a checkerboard far behind focus becomes
    its mean, without the blotches a sparse gather of the sharp texels leaves."""
    size = 256
    yy, xx = np.mgrid[:size, :size]
    checker = (((yy // 4) + (xx // 4)) % 2).astype(np.float32)
    color = np.repeat(checker[..., None], 3, axis=2)
    depth = np.full((size, size), 50.0, np.float32)
    for blur_px in (60.0, 200.0):
        lens = Lens(artistic_blur_px=blur_px / 0.96, focus_m=2.0)  # at 50 m: 0.96 of it
        out = compositor.render(color, depth, lens)[64:192, 64:192, 0]
        assert out.mean() == pytest.approx(0.5, abs=0.01)
        assert out.std() < 0.01, blur_px


@pytest.mark.parametrize("size", [(37, 35), (1001, 75)])
def test_partial_tiles_are_composited_like_whole_ones(compositor, size) -> None:
    """The composite draws each tile as one point TILE_SIZE px wide at its centre. A
    frame whose right and bottom tiles lie less than half inside it (37 = 2 * 16 + 5,
    35 = 2 * 16 + 3, 75 = 4 * 16 + 11) renders as the same frame padded to whole tiles
    by repeating its edge pixels, cropped: every pass reads past an edge as the edge
    pixel, so only the composite's tiles differ between the two, and they must not.
    (Blur small enough for no pyramid level: a level reads the level below past the
    edge, which repeats no pixel.)"""
    from realtime.passes.constants import TILE_SIZE
    from realtime.pipeline import read_rgb

    w, h = size
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    color = np.stack([xx / w, yy / h, 0.5 + 0.4 * np.sin(xx / 3.0) * np.sin(yy / 4.0)], -1)
    # a blurred background and, in focus, the partial tiles: no blur reaches them, so
    # they take the copy class, beside tiles of other classes
    edge = (xx >= w - w % TILE_SIZE) | (yy >= h - h % TILE_SIZE)
    depth = np.where(edge, 2.0, 8.0)
    lens = Lens(focus_m=2.0, artistic_blur_px=10.0)  # 7.5 px of blur at 8 m
    out = compositor.render(color, depth.astype(np.float32), lens)
    pad = ((0, -h % TILE_SIZE), (0, -w % TILE_SIZE))
    padded = compositor.upload(
        np.pad(color, (*pad, (0, 0)), mode="edge"), np.pad(depth, pad, mode="edge")
    )
    whole = read_rgb(compositor.render_textures(*padded, lens, image_width=w))[:h, :w]
    assert np.abs(out - color).max() > 0.1  # blurred
    assert (out[edge] == color[edge]).all()  # the copy class
    assert np.abs(out - whole).max() <= 1e-5  # float rounding (normalised coordinates)


@pytest.mark.parametrize("max_coc", [12.0, 40.0])  # highlights scatter from SLIGHT_COC = 7 px
def test_sprite_layers_are_zeroed_wherever_the_composite_reads_them(
    ctx, compositor, max_coc: float
) -> None:
    """The scatter pass zeroes its layers only in the tiles flagged SPRITES (and a half-res
    texel around them): whatever the layers held before, the frame comes out the same."""
    from realtime.bench import lens_for_max_coc
    from realtime.groundtruth import SCENES, render_rgbd
    from realtime.passes.constants import FLAG_SPRITES
    from realtime.pipeline import read_rgb

    scene = SCENES["demo"]()  # lights in front of and behind the focal plane
    color, depth = render_rgbd(ctx, scene, scene.lens, 240, 136)
    lens = lens_for_max_coc(scene.lens, depth, max_coc)
    textures = compositor.upload(color, depth)
    clean = read_rgb(compositor.render_textures(*textures, lens))
    flags = np.frombuffer(compositor.dilate.output.read(), np.float32)[2::4].astype(int)
    assert 0 < (flags & FLAG_SPRITES).astype(bool).mean() < 1  # some tiles, not all
    scatter = compositor.scatter
    for fbo in (scatter.fbo, scatter.half_fbo):
        fbo.use()
        fbo.clear(1e3, 1e3, 1e3, 1e3)
    scatter.half_drawn = True  # the half-res layers hold something now
    assert np.array_equal(read_rgb(compositor.render_textures(*textures, lens)), clean)


def test_a_light_of_several_texels_grows_as_smoothly_merged_as_apart(ctx, monkeypatch) -> None:
    """From SPRITE_MERGE_MIN px a half-res 2x2 texel group's sprites merge into one disc,
    whose edge ramps over the group's spread. A 4x4 px light, racked from below that band
    to above it, keeps its energy, and its disc changes from step to step no more than
    the four separate discs do (the sum of second differences, step by step)."""
    import realtime.passes.constants as constants
    from realtime.pipeline import Compositor

    size = 320
    color = np.zeros((size, size, 3), np.float32)
    depth = np.full((size, size), 5.0, np.float32)
    color[160:164, 160:164] = 100.0  # one 2x2 group of half-res texels
    blurs = np.linspace(0.9 * constants.SPRITE_MERGE_MIN, 1.1 * constants.SPRITE_MERGE_FULL, 13)

    def rack(compositor: Compositor) -> tuple[np.ndarray, np.ndarray]:
        lenses = [Lens(artistic_blur_px=b / 0.6, focus_m=2.0) for b in blurs]
        frames = np.array([compositor.render(color, depth, lens)[..., 0] for lens in lenses])
        second = np.abs(frames[2:] - 2.0 * frames[1:-1] + frames[:-2]).sum(axis=(1, 2))
        return frames.sum(axis=(1, 2)), second

    energy, merged = rack(Compositor(ctx))
    monkeypatch.setattr(constants, "SPRITE_MERGE_MIN", 1e9)  # beyond any blur
    monkeypatch.setattr(constants, "SPRITE_MERGE_FULL", 2e9)
    _, apart = rack(Compositor(ctx))
    assert energy == pytest.approx(1600.0, rel=0.01)
    assert (merged <= 1.02 * apart).all()
