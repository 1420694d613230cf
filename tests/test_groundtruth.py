"""The ground-truth rasteriser: geometry in numpy, then renders checked against the thin lens."""

from __future__ import annotations

import math

import moderngl
import numpy as np
import pytest

from realtime.groundtruth import (
    SCENES,
    Light,
    Material,
    Quad,
    Scene,
    render_ground_truth,
    render_rgbd,
)
from realtime.groundtruth.mesh import FLOATS_PER_VERTEX, FWHM_PER_SIGMA, scene_mesh
from realtime.groundtruth.rasterizer import (
    FAR_M,
    NEAR_M,
    SceneRasterizer,
    aperture_samples,
    clip_from_scene,
    effective_aperture_m,
    pixel_jitter,
    supersample_offsets,
    view_window_m,
)
from realtime.groundtruth.scenes import (
    DESIGN_HEIGHT,
    DESIGN_WIDTH,
    TEXTURE_CHECKER,
    TEXTURE_NOISE,
    TEXTURE_SOLID,
    backdrop,
    card,
    pixel_pitch_m,
)
from realtime.lens import Lens

W, H = 160, 120  # test image size
BLACK = Material(TEXTURE_SOLID, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))


def _project(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    clip = np.c_[points, np.ones(len(points))] @ matrix.T
    return clip[:, :2] / clip[:, 3:]


def _psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(peak**2 / mse)


# --- numpy only ---


def test_focal_plane_stays_put_and_other_depths_shift_by_the_coc() -> None:
    lens = Lens(focal_length_mm=50.0, f_number=2.0, focus_m=2.5)
    radius = effective_aperture_m(lens, 640) / 2
    centre = clip_from_scene(lens, W, H)
    on_plane = np.array([[0.3, -0.2, 2.5], [-0.5, 0.1, 2.5]])
    for eye in [(radius, 0.0), (0.0, -radius), (-0.7 * radius, 0.7 * radius)]:
        shifted = clip_from_scene(lens, W, H, eye)
        np.testing.assert_allclose(
            _project(shifted, on_plane), _project(centre, on_plane), atol=1e-12
        )
    # Opposite edges of the aperture: the image of a point moves by the CoC diameter.
    for z in (0.8, 1.6, 7.0, 40.0):
        point = np.array([[0.1, 0.05, z]])
        left = _project(clip_from_scene(lens, W, H, (-radius, 0.0)), point)
        right = _project(clip_from_scene(lens, W, H, (radius, 0.0)), point)
        travel_px = (right - left)[0, 0] * W / 2
        assert travel_px == pytest.approx(float(lens.coc_px(z, W)), rel=1e-9)


def test_clip_matrix_is_the_closed_form_of_its_derivation() -> None:
    """pyrr's product of eye shift, flip, frustum and jitter equals the docstring's formulas."""
    lens = Lens(focal_length_mm=50.0, f_number=2.0, focus_m=2.5)
    half_w, half_h = view_window_m(lens, W, H)
    (ax, ay), (jx, jy) = (0.004, -0.003), (0.25, -0.375)
    zf, n, f = lens.focus_m, NEAR_M, FAR_M
    expected = [
        [zf / half_w, 0.0, ax / half_w + 2 * jx / W, -zf * ax / half_w],
        [0.0, zf / half_h, ay / half_h - 2 * jy / H, -zf * ay / half_h],
        [0.0, 0.0, (f + n) / (f - n), -2.0 * f * n / (f - n)],
        [0.0, 0.0, 1.0, 0.0],
    ]
    matrix = clip_from_scene(lens, W, H, (ax, ay), (jx, jy))
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-15)


def test_field_of_view_spans_the_sensor_at_the_focal_length() -> None:
    lens = Lens(focal_length_mm=35.0, sensor_width_mm=36.0, focus_m=3.0)
    half_w, half_h = view_window_m(lens, W, H)
    assert half_w / lens.focus_m == pytest.approx(36.0 / (2 * 35.0))
    assert half_h / half_w == pytest.approx(H / W)
    corner = _project(clip_from_scene(lens, W, H), np.array([[half_w * 4, half_h * 4, 12.0]]))
    np.testing.assert_allclose(corner, [[1.0, 1.0]], atol=1e-12)


def test_jitter_moves_the_image_by_pixels() -> None:
    lens = Lens()
    point = np.array([[0.2, 0.1, 5.0]])
    base = _project(clip_from_scene(lens, W, H), point)
    moved = _project(clip_from_scene(lens, W, H, jitter_px=(0.25, 0.5)), point)
    # +x px right is +2/W in NDC; +y px down (image rows) is -2/H.
    np.testing.assert_allclose(moved - base, [[0.5 / W, -1.0 / H]], atol=1e-12)


def test_circular_aperture_samples_fill_the_disc() -> None:
    lens = Lens(focal_length_mm=50.0, f_number=1.8, focus_m=2.0)
    samples = aperture_samples(lens, 256, 640)
    radius = effective_aperture_m(lens, 640) / 2
    r = np.hypot(samples[:, 0], samples[:, 1])
    assert r.max() <= radius
    np.testing.assert_allclose(samples.mean(axis=0), 0.0, atol=0.02 * radius)
    assert np.mean(r**2) == pytest.approx(radius**2 / 2, rel=1e-9)  # uniform disc


def test_bladed_aperture_samples_fill_the_polygon() -> None:
    blades = 6
    lens = Lens(f_number=2.8, blades=blades, blade_rotation_deg=10.0)
    samples = aperture_samples(lens, 600, 640)
    radius = effective_aperture_m(lens, 640) / 2
    angle = np.arctan2(samples[:, 1], samples[:, 0]) - math.radians(90.0 + 10.0)
    sector = np.mod(angle, 2 * math.pi / blades) - math.pi / blades
    edge = radius * math.cos(math.pi / blades) / np.cos(sector)  # polygon boundary radius
    assert np.all(np.hypot(samples[:, 0], samples[:, 1]) <= edge + 1e-12)
    np.testing.assert_allclose(samples.mean(axis=0), 0.0, atol=0.02 * radius)
    # The vertex direction (90 + 10 degrees) reaches further out than the edge midpoints.
    assert np.max(np.hypot(*samples.T)) > 0.9 * radius


def test_jitter_and_supersample_offsets_stay_inside_the_pixel() -> None:
    jitter = pixel_jitter(257)
    assert np.all(np.abs(jitter) <= 0.5)
    np.testing.assert_array_equal(jitter[0], [0.0, 0.0])
    np.testing.assert_allclose(jitter.mean(axis=0), 0.0, atol=0.01)
    grid = supersample_offsets(4)
    assert grid.shape == (16, 2)
    np.testing.assert_allclose(sorted(set(grid[:, 0])), [-0.375, -0.125, 0.125, 0.375])


def test_scenes_have_the_expected_names_and_meshes() -> None:
    assert list(SCENES) == [
        "portrait",
        "foreground",
        "floor",
        "demo",
        "fence",
        "near_blur",
        "long_portrait",
    ]
    for name, build in SCENES.items():
        scene = build()
        assert scene.name == name
        mesh = scene_mesh(scene)
        assert mesh.vertices.dtype == np.float32
        assert mesh.vertices.shape[1] == FLOATS_PER_VERTEX
        assert mesh.surfaces.max() < len(mesh.vertices)
        assert all(obj.center[2] > 0.5 for obj in scene.objects)


# --- GL ---


def test_depth_is_z_along_the_axis_in_metres(ctx: moderngl.Context) -> None:
    lens = Lens(focal_length_mm=50.0, focus_m=2.0)
    scene = Scene(
        "planes",
        lens,
        (
            card((0.0, 0.0, 1.5), 0.2, 0.2, Material(TEXTURE_CHECKER)),
            backdrop(3.0, lens, Material(TEXTURE_NOISE)),
        ),
    )
    rgb, depth = render_rgbd(ctx, scene, lens, W, H)
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.float32
    assert depth.shape == (H, W) and depth.dtype == np.float32
    # The card spans +-0.1 m at 1.5 m: +-0.1 / (1.5 * 0.36) * W / 2 = +-14.8 px around the centre.
    half_px = 0.1 / pixel_pitch_m(1.5, lens, W)
    rows, cols = np.mgrid[0:H, 0:W] + 0.5
    inside = (np.abs(cols - W / 2) < half_px - 0.5) & (np.abs(rows - H / 2) < half_px - 0.5)
    outside = (np.abs(cols - W / 2) > half_px + 0.5) | (np.abs(rows - H / 2) > half_px + 0.5)
    np.testing.assert_allclose(depth[inside], 1.5, atol=1e-3)
    # Everywhere else (image corners included, where the radial distance is 3.3 m) 3.0.
    np.testing.assert_allclose(depth[outside], 3.0, atol=1e-3)


def test_ground_truth_in_focus_equals_the_pinhole_render(ctx: moderngl.Context) -> None:
    lens = Lens(focal_length_mm=100.0, f_number=2.0, focus_m=2.0)  # backdrop CoC 9.4 px
    subject = Material(TEXTURE_CHECKER, (0.8, 0.75, 0.6), (0.1, 0.1, 0.15), 0.025)
    scene = Scene(
        "in focus",
        lens,
        (
            card((0.05, 0.0, 2.0), 0.45, 0.3, subject),
            backdrop(10.0, lens, Material(TEXTURE_CHECKER, (0.1, 0.2, 0.3), (0.7, 0.6, 0.5), 0.3)),
        ),
    )
    # Both sides approximate the 1 px box filter; on hard checker edges the default
    # 4 x 4 grid is only ~34 dB from converged, 16 x 16 ~45 dB, 96 jittered views ~49 dB.
    rgb, depth = render_rgbd(ctx, scene, lens, W, H, supersample=16)
    truth = render_ground_truth(ctx, scene, lens, W, H, samples=96)
    plane = np.abs(depth - 2.0) < 1e-3
    core = plane.copy()
    for axis in (0, 1):  # erode by 2 px: the blurred backdrop may reach the plane's rim
        for step in (-2, -1, 1, 2):
            core &= np.roll(plane, step, axis=axis)
    assert core.sum() > 0.2 * W * H
    assert _psnr(truth[core], rgb[core]) > 40.0
    # Off the plane the backdrop is visibly blurred.
    backdrop_px = depth > 9.0
    assert _psnr(truth[backdrop_px], rgb[backdrop_px]) < 35.0


def _point_light_scene(lens: Lens, z: float, fwhm_px: float, radiance: float) -> Scene:
    fwhm_m = fwhm_px * pixel_pitch_m(z, lens, W)
    glow = Light((0.0, 0.0, z), fwhm_m, (radiance, radiance, radiance))
    return Scene("point", lens, (glow, backdrop(20.0, lens, BLACK)))


@pytest.mark.parametrize("z", [6.0, 1.0])  # behind and in front of the focal plane
def test_a_point_spreads_into_a_coc_disc_keeping_its_energy(
    ctx: moderngl.Context, z: float
) -> None:
    lens = Lens(focal_length_mm=100.0, f_number=1.4, focus_m=1.5)
    coc = abs(float(lens.coc_px(z, W)))
    assert 10.0 < coc < 20.0
    fwhm_px, radiance = 2.0, 50.0
    scene = _point_light_scene(lens, z, fwhm_px, radiance)
    sigma_px = fwhm_px / FWHM_PER_SIGMA
    energy = radiance * 2 * math.pi * sigma_px**2  # of the Gaussian glow, in px^2

    sharp = render_ground_truth(ctx, scene, lens.with_focus(z), W, H, samples=64)[..., 0]
    blurred = render_ground_truth(ctx, scene, lens, W, H, samples=128)[..., 0]
    assert sharp.sum() == pytest.approx(energy, rel=0.01)
    assert blurred.sum() == pytest.approx(sharp.sum(), rel=0.03)
    assert sharp.max() > 10 * blurred.max()

    # Diameter from the area above half the plateau (the disc's edge, softened
    # symmetrically by the glow and the aperture filter, crosses half there).
    rows, cols = np.mgrid[0:H, 0:W] + 0.5
    total = blurred.sum()
    cy, cx = (blurred * rows).sum() / total, (blurred * cols).sum() / total
    assert (cx, cy) == (pytest.approx(W / 2, abs=0.3), pytest.approx(H / 2, abs=0.3))
    plateau = np.median(blurred[np.hypot(rows - cy, cols - cx) < coc / 4])
    assert plateau == pytest.approx(energy / (math.pi * coc**2 / 4), rel=0.1)
    diameter = 2.0 * math.sqrt(np.count_nonzero(blurred > plateau / 2) / math.pi)
    assert diameter == pytest.approx(coc, abs=1.5)


def test_row_zero_is_the_top_and_column_zero_the_left(ctx: moderngl.Context) -> None:
    lens = Lens(focal_length_mm=50.0, focus_m=2.0)
    marker = Material(TEXTURE_SOLID, (1.0, 1.0, 1.0), emissive=True)
    # A marker high (+y) and to the left (-x) in the scene.
    scene = Scene(
        "marker", lens, (card((-0.4, 0.25, 2.0), 0.1, 0.1, marker), backdrop(5.0, lens, BLACK))
    )
    half_w, half_h = view_window_m(lens, W, H)
    expected_row = H / 2 * (1 - 0.25 / half_h)  # 23.0: upper part of the image
    expected_col = W / 2 * (1 - 0.4 / half_w)  # 35.6: left part
    for rgb in (
        render_rgbd(ctx, scene, lens, W, H)[0],
        render_ground_truth(ctx, scene, lens, W, H, 16),
    ):
        rows, cols = np.nonzero(rgb[..., 0] > 0.5)
        assert rows.max() < H / 2 and cols.max() < W / 2
        assert rows.mean() + 0.5 == pytest.approx(expected_row, abs=0.5)
        assert cols.mean() + 0.5 == pytest.approx(expected_col, abs=0.5)


LARGEST_BLUR_PX = {"near_blur": (55.0, 65.0), "long_portrait": (150.0, 160.0)}


@pytest.mark.parametrize("name", list(SCENES))
def test_every_pixel_sees_exactly_one_surface(ctx: moderngl.Context, name: str) -> None:
    scene = SCENES[name]()
    width, height = DESIGN_WIDTH // 6, DESIGN_HEIGHT // 6
    raster = SceneRasterizer(ctx, scene, width, height)
    try:
        count = 24
        rgba = raster.accumulate(
            scene.lens, aperture_samples(scene.lens, count, 640), pixel_jitter(count)
        )
        depth = raster.depth(scene.lens)
    finally:
        raster.release()
    # Alpha sums 1 per opaque surface per view: no hole, no surface added twice.
    np.testing.assert_allclose(rgba[..., 3], 1.0, atol=1e-6)
    assert np.all(np.isfinite(rgba)) and rgba[..., :3].min() >= 0.0
    assert depth.max() < 100.0  # the backdrop covers every pixel
    # The lens was chosen so that the largest blur at 960 x 540 is 20-40 px, or what the
    # scene is for (near_blur: a foreground blurred up to 60 px; long_portrait: past 150).
    low, high = LARGEST_BLUR_PX.get(name, (20.0, 40.0))
    assert low <= np.abs(scene.lens.coc_px(depth, DESIGN_WIDTH)).max() <= high


def test_quads_are_one_sided(ctx: moderngl.Context) -> None:
    lens = Lens(focus_m=2.0)
    flipped = Quad((0.0, 0.0, 2.0), (0.0, 0.2, 0.0), (0.2, 0.0, 0.0), Material(emissive=True))
    scene = Scene("flipped", lens, (flipped, backdrop(5.0, lens, BLACK)))
    _, depth = render_rgbd(ctx, scene, lens, W, H, supersample=1)
    np.testing.assert_allclose(depth, 5.0, atol=1e-3)


def test_a_bladed_aperture_gives_polygonal_bokeh(ctx: moderngl.Context) -> None:
    blades = 6
    lens = Lens(focal_length_mm=100.0, f_number=1.4, focus_m=1.5, blades=blades)
    z = 6.0
    scene = _point_light_scene(lens, z, 2.0, 50.0)
    blurred = render_ground_truth(ctx, scene, lens, W, H, samples=128)[..., 0]
    radius = abs(float(lens.coc_px(z, W))) / 2  # circumradius: the hexagon is inscribed
    rows, cols = np.mgrid[0:H, 0:W] + 0.5
    plateau = np.median(blurred[np.hypot(rows - H / 2, cols - W / 2) < radius / 2])
    inside = blurred > plateau / 2
    hexagon_area = blades / 2 * radius**2 * math.sin(2 * math.pi / blades)
    assert np.count_nonzero(inside) == pytest.approx(hexagon_area, rel=0.06)
    # Vertex straight up: 2R tall, 2R cos(30 deg) wide.
    tall = np.count_nonzero(inside.any(axis=1))
    wide = np.count_nonzero(inside.any(axis=0))
    assert tall == pytest.approx(2 * radius, abs=1.5)
    assert wide == pytest.approx(2 * radius * math.cos(math.pi / blades), abs=1.5)


def test_artistic_lens_has_the_aperture_of_its_physical_twin() -> None:
    from dataclasses import replace

    lens = Lens(focus_m=2.0, f_number=2.0)
    width = 640
    twin = replace(lens, artistic_blur_px=lens.coc_constant_px(width) / lens.focus_m)
    assert effective_aperture_m(twin, width) == pytest.approx(effective_aperture_m(lens, width))
