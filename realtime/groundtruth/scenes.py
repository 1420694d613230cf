"""Test scenes for the ground-truth rasteriser, described in camera space.

Axis convention (camera space, metres): the pinhole / lens centre sits at the
origin; +x points right in the image, +y points up, +z points forward along
the optical axis, so z is the depth the compositor sees (z-depth, not the
radial distance). Everything a scene holds is in front of the camera (z > 0).

A scene is a tuple of primitives: flat textured quads, textured spheres and
small emissive lights, plus the `Lens` it was composed for. Surface textures
are procedural and evaluated in shaders/groundtruth/scene.frag; a material
picks one by the integer `TEXTURE_*` constants below (injected into the
shader as #defines). Colours are linear light; lit surfaces stay within about
0.05-0.9, lights are HDR (tens to hundreds).

Every scene puts a backdrop behind everything so that each pixel of every
aperture view has a depth. The lenses are chosen so that at 960x540 the
largest |CoC| in the scene is about 20-40 px (listed in each builder).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from realtime.lens import Lens

Vec3 = tuple[float, float, float]

# Procedural textures of shaders/groundtruth/scene.frag (the shader receives these as #defines).
TEXTURE_SOLID = 0  # color_a everywhere
TEXTURE_CHECKER = 1  # squares of side scale_m alternating color_a / color_b
TEXTURE_STRIPES = 2  # stripes across u, period scale_m, half color_a, half color_b
TEXTURE_NOISE = 3  # 3-octave value noise blending color_a -> color_b, feature size scale_m
TEXTURES = {
    "TEXTURE_SOLID": TEXTURE_SOLID,
    "TEXTURE_CHECKER": TEXTURE_CHECKER,
    "TEXTURE_STRIPES": TEXTURE_STRIPES,
    "TEXTURE_NOISE": TEXTURE_NOISE,
}

# The image size the scenes' lenses and light sizes were chosen for.
DESIGN_WIDTH = 960
DESIGN_HEIGHT = 540
# Backdrops extend this factor beyond the field of view (plus BACKDROP_PAD_M), so that
# shifted aperture views, jitter and taller aspect ratios (down to square) still hit them.
BACKDROP_MARGIN = 1.5
BACKDROP_PAD_M = 1.0


@dataclass(frozen=True)
class Material:
    """How a surface looks: a procedural texture of two colours, lit or emissive."""

    texture: int = TEXTURE_SOLID  # one of the TEXTURE_* constants
    color_a: Vec3 = (0.5, 0.5, 0.5)  # linear RGB, first texture colour (emitted if emissive)
    color_b: Vec3 = (0.1, 0.1, 0.1)  # linear RGB, second texture colour
    scale_m: float = 0.1  # texture period / feature size along the surface, metres
    emissive: bool = False  # True: unlit, color_a is the emitted (HDR) radiance


@dataclass(frozen=True)
class Quad:
    """A flat parallelogram; texture coordinates are metres along its two axes."""

    center: Vec3  # centre, camera space, metres
    half_u: Vec3  # half-extent vector along texture u, metres
    half_v: Vec3  # half-extent vector along texture v; the lit side faces cross(half_v, half_u)
    material: Material = Material()  # surface appearance


@dataclass(frozen=True)
class Sphere:
    """A sphere tessellated into a latitude-longitude mesh; texture in metres of arc."""

    center: Vec3  # centre, camera space, metres
    radius_m: float  # radius, metres
    material: Material = Material()  # surface appearance
    segments: int = 64  # longitudinal segments (half as many latitudinal rings)


@dataclass(frozen=True)
class Light:
    """A small emissive point: a camera-facing glow with a Gaussian radiance profile.

    Radiance at distance d (metres, in the plane facing the camera) from the centre
    is color * exp(-d^2 / (2 sigma^2)) with sigma = fwhm_m / (2 sqrt(2 ln 2)); the
    emitted energy is color * 2 pi sigma^2, so a glow stays smooth (not a binary
    speck) in every aperture view and its bokeh disc converges fast. Lights are
    additive: they occlude nothing and are occluded by surfaces in front of them.
    """

    center: Vec3  # centre, camera space, metres
    fwhm_m: float  # full width at half maximum, metres (about 1-2 px at DESIGN_WIDTH)
    color: Vec3  # peak emitted linear radiance, HDR


Primitive = Quad | Sphere | Light


@dataclass(frozen=True)
class Scene:
    """A named camera-space scene and the lens it was composed for."""

    name: str  # key in SCENES
    lens: Lens  # suggested lens (focus included)
    objects: tuple[Primitive, ...]  # everything to draw; a backdrop covers the whole view


def pixel_pitch_m(z_m: float, lens: Lens, width: int = DESIGN_WIDTH) -> float:
    """Width in metres that one pixel covers at depth z: z * sensor_w / (f * width)."""
    return z_m * lens.sensor_width_mm / (lens.focal_length_mm * width)


def card(center: Vec3, width_m: float, height_m: float, material: Material) -> Quad:
    """A fronto-parallel rectangle facing the camera (texture u right, v up)."""
    return Quad(center, (width_m / 2, 0.0, 0.0), (0.0, height_m / 2, 0.0), material)


def backdrop(z_m: float, lens: Lens, material: Material) -> Quad:
    """A fronto-parallel square at depth z that covers the view with a generous margin."""
    half = z_m * lens.sensor_width_mm / (2 * lens.focal_length_mm) * BACKDROP_MARGIN
    return card((0.0, 0.0, z_m), 2 * (half + BACKDROP_PAD_M), 2 * (half + BACKDROP_PAD_M), material)


def light(center: Vec3, color: Vec3, lens: Lens, size_px: float = 1.5) -> Light:
    """An emissive point `size_px` pixels wide (FWHM) at DESIGN_WIDTH."""
    return Light(center, size_px * pixel_pitch_m(center[2], lens), color)


def _light_field(
    lens: Lens,
    z_m: float,
    count: int,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    intensity: float,
    seed: int,
) -> tuple[Light, ...]:
    """`count` lights scattered (deterministically) over a rectangle at depth z."""
    rng = np.random.default_rng(seed)
    warm = np.array([1.0, 0.72, 0.42])
    cool = np.array([0.55, 0.75, 1.0])
    lights = []
    for _ in range(count):
        x = float(rng.uniform(*x_range))
        y = float(rng.uniform(*y_range))
        tint = warm if rng.random() < 0.75 else cool
        gain = intensity * float(rng.uniform(0.6, 1.4))
        color = tuple(float(c) for c in tint * gain)
        lights.append(light((x, y, z_m), (color[0], color[1], color[2]), lens))
    return tuple(lights)


def portrait() -> Scene:
    """Sharp card + small sphere at 2 m before a textured wall at 8 m holding lights.

    85 mm f/2.4 on 36 mm, focus 2 m: CoC at the wall = 83.8 * (1/2 - 1/8) = 31 px.
    """
    lens = Lens(focal_length_mm=85.0, f_number=2.4, focus_m=2.0)
    subject = Material(TEXTURE_CHECKER, (0.85, 0.62, 0.45), (0.18, 0.09, 0.06), 0.03)
    bead = Material(TEXTURE_STRIPES, (0.9, 0.85, 0.75), (0.08, 0.25, 0.5), 0.012)
    wall = Material(TEXTURE_NOISE, (0.06, 0.12, 0.16), (0.35, 0.45, 0.4), 0.25)
    lights = _light_field(lens, 7.9, 14, (-1.8, 1.8), (-0.7, 0.9), 150.0, seed=2)
    return Scene(
        "portrait",
        lens,
        (
            card((0.05, -0.02, 2.0), 0.3, 0.36, subject),
            Sphere((-0.24, -0.1, 2.0), 0.07, bead),
            backdrop(8.0, lens, wall),
            *lights,
        ),
    )


def foreground() -> Scene:
    """A blurred bar and ball at 0.9-1 m partly covering a sharp checker card at 3 m.

    50 mm f/2, focus 3 m: CoC at the bar = 33.9 * (1/3 - 1/0.9) = -26 px; wall (12 m) 8 px.
    """
    lens = Lens(focal_length_mm=50.0, f_number=2.0, focus_m=3.0)
    subject = Material(TEXTURE_CHECKER, (0.8, 0.8, 0.75), (0.05, 0.06, 0.08), 0.1)
    bar = Material(TEXTURE_STRIPES, (0.75, 0.2, 0.12), (0.9, 0.75, 0.5), 0.04)
    ball = Material(TEXTURE_CHECKER, (0.2, 0.6, 0.25), (0.85, 0.85, 0.7), 0.03)
    wall = Material(TEXTURE_NOISE, (0.15, 0.15, 0.2), (0.5, 0.45, 0.4), 0.4)
    bar_quad = Quad((-0.1, 0.0, 0.9), (0.0, 0.4, 0.0), (-0.05, 0.0, 0.0), bar)  # stripes run across
    return Scene(
        "foreground",
        lens,
        (
            bar_quad,
            Sphere((0.2, -0.11, 1.0), 0.06, ball),
            card((0.1, 0.0, 3.0), 1.4, 0.9, subject),
            backdrop(12.0, lens, wall),
        ),
    )


def floor() -> Scene:
    """A checker floor receding from about 1 m to 30 m under a far wall; focus 4 m.

    The camera is 0.36 m above the floor and pitched down by 8 degrees. 50 mm f/1.8,
    focus 4 m: CoC at the bottom edge (1.06 m) = 37.5 * (1/4 - 1/1.06) = -26 px;
    at the wall (35 m) 8 px.
    """
    lens = Lens(focal_length_mm=50.0, f_number=1.8, focus_m=4.0)
    height_m, pitch = 0.36, math.radians(8.0)
    # World directions in camera space for a camera pitched down by `pitch`.
    ahead = np.array([0.0, math.sin(pitch), math.cos(pitch)])
    up = np.array([0.0, math.cos(pitch), -math.sin(pitch)])
    near_m, far_m, half_width_m = 0.8, 30.0, 16.0
    center = -height_m * up + ahead * (near_m + far_m) / 2
    half_v = ahead * (far_m - near_m) / 2
    checker = Material(TEXTURE_CHECKER, (0.75, 0.7, 0.6), (0.08, 0.08, 0.1), 0.25)
    wall = Material(TEXTURE_STRIPES, (0.3, 0.4, 0.55), (0.1, 0.15, 0.25), 1.0)
    ground = Quad(
        (float(center[0]), float(center[1]), float(center[2])),
        (half_width_m, 0.0, 0.0),
        (float(half_v[0]), float(half_v[1]), float(half_v[2])),
        checker,
    )
    return Scene("floor", lens, (ground, backdrop(35.0, lens, wall)))


def demo() -> Scene:
    """Two spheres (1.5 m and 5 m) on a floor before a wall of fairy lights at 15 m.

    50 mm f/1.4, focus 1.5 m: CoC at 5 m = 49.3 * (1/1.5 - 1/5) = 23 px; wall 30 px.
    """
    lens = Lens(focal_length_mm=50.0, f_number=1.4, focus_m=1.5)
    floor_y = -0.3
    gap_m = 0.002  # spheres hover just above the floor: no depth ties at the contact
    near_ball = Material(TEXTURE_CHECKER, (0.85, 0.45, 0.12), (0.9, 0.85, 0.7), 0.05)
    far_ball = Material(TEXTURE_STRIPES, (0.12, 0.3, 0.7), (0.8, 0.85, 0.9), 0.12)
    boards = Material(TEXTURE_NOISE, (0.25, 0.14, 0.07), (0.55, 0.35, 0.18), 0.15)
    wall = Material(TEXTURE_NOISE, (0.04, 0.05, 0.08), (0.16, 0.14, 0.2), 0.6)
    ground = Quad((0.0, floor_y, 8.25), (12.0, 0.0, 0.0), (0.0, 0.0, 7.25), boards)
    lights = _light_field(lens, 14.9, 28, (-4.5, 4.5), (0.0, 2.8), 220.0, seed=7)
    return Scene(
        "demo",
        lens,
        (
            Sphere((-0.22, floor_y + 0.17 + gap_m, 1.5), 0.17, near_ball),
            Sphere((0.85, floor_y + 0.45 + gap_m, 5.0), 0.45, far_ball),
            ground,
            backdrop(15.0, lens, wall),
            *lights,
        ),
    )


def fence() -> Scene:
    """Thin sharp posts (2 to 12 px wide) and a rail at 2 m before a textured wall at 6 m
    with lights: silhouettes narrower than a phone's depth texel (5 px), where depth
    upsampling and edge alignment must not lose or fatten a structure.

    85 mm f/2 on 36 mm, focus 2 m: CoC at the wall = 100.5 * (1/2 - 1/6) = 34 px.
    """
    lens = Lens(focal_length_mm=85.0, f_number=2.0, focus_m=2.0)
    wood = Material(TEXTURE_STRIPES, (0.62, 0.45, 0.3), (0.32, 0.2, 0.12), 0.02)
    wall = Material(TEXTURE_NOISE, (0.3, 0.28, 0.24), (0.08, 0.1, 0.14), 0.2)
    pitch = pixel_pitch_m(2.0, lens)
    posts = tuple(
        card((x_px * pitch, 0.0, 2.0), width_px * pitch, 0.36, wood)
        for x_px, width_px in ((-330, 2), (-200, 3), (-70, 5), (60, 7), (200, 12), (330, 4))
    )
    rail = card((0.0, 90 * pitch, 1.99), 760 * pitch, 3 * pitch, wood)
    lights = _light_field(lens, 5.9, 12, (-1.0, 1.0), (-0.5, 0.5), 150.0, seed=5)
    return Scene("fence", lens, (*posts, rail, backdrop(6.0, lens, wall), *lights))


def near_blur() -> Scene:
    """A near ball and rod (0.5-0.8 m) blurred 30-60 px across a sharp textured card at
    2.5 m, a wall of lights at 7 m behind: mid-size foreground blur over the subject.

    50 mm f/1.8, focus 2.5 m: CoC at the rod's near end (0.5 m) = 60 px, at the ball's
    centre (0.65 m) 44 px, at its far end (0.8 m) 32 px; the wall 12 px.
    """
    lens = Lens(focal_length_mm=50.0, f_number=1.8, focus_m=2.5)
    subject = Material(TEXTURE_NOISE, (0.75, 0.6, 0.45), (0.15, 0.2, 0.3), 0.03)
    rod = Material(TEXTURE_STRIPES, (0.85, 0.3, 0.15), (0.95, 0.85, 0.6), 0.02)
    ball = Material(TEXTURE_CHECKER, (0.2, 0.45, 0.8), (0.9, 0.9, 0.85), 0.02)
    wall = Material(TEXTURE_NOISE, (0.05, 0.05, 0.07), (0.2, 0.18, 0.22), 0.4)
    lights = _light_field(lens, 6.9, 24, (-2.2, 2.2), (-1.2, 1.2), 180.0, seed=11)
    rod_quad = Quad((-0.02, 0.0, 0.65), (0.0, 0.2, 0.0), (-0.015, 0.0, 0.15), rod)
    return Scene(
        "near_blur",
        lens,
        (
            rod_quad,
            Sphere((0.09, -0.04, 0.65), 0.045, ball),
            card((0.0, 0.0, 2.5), 1.3, 0.8, subject),
            backdrop(7.0, lens, wall),
            *lights,
        ),
    )


def long_portrait() -> Scene:
    """A long-lens portrait: a textured ball (a head's curvature) sharp at 1.8 m before
    lights at 40 m and a wall at 50 m, blurred past 150 px.

    135 mm f/1.8, focus 1.8 m: CoC at the lights = 161.6 * (1 - 1.8/40) = 154 px, at
    the wall 156 px; the ball's rim (1.88 m) 7 px: slight focus across the subject.
    """
    lens = Lens(focal_length_mm=135.0, f_number=1.8, focus_m=1.8)
    skin = Material(TEXTURE_NOISE, (0.8, 0.58, 0.45), (0.45, 0.28, 0.2), 0.01)
    wall = Material(TEXTURE_NOISE, (0.06, 0.07, 0.05), (0.22, 0.25, 0.16), 3.0)
    lights = _light_field(lens, 40.0, 18, (-5.0, 5.0), (-2.5, 3.0), 400.0, seed=13)
    return Scene(
        "long_portrait",
        lens,
        (Sphere((0.0, -0.01, 1.88), 0.08, skin), backdrop(50.0, lens, wall), *lights),
    )


SCENES: dict[str, Callable[[], Scene]] = {
    "portrait": portrait,
    "foreground": foreground,
    "floor": floor,
    "demo": demo,
    "fence": fence,
    "near_blur": near_blur,
    "long_portrait": long_portrait,
}
