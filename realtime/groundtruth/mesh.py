"""Scenes as triangles: the vertex layout scene.vert reads, and the meshes of each primitive.

Quads are two triangles, spheres latitude-longitude grids, lights fronto-parallel
billboards carrying a Gaussian glow. Every vertex carries its surface's colours
and material, so one indexed draw shades the whole scene (the SURFACE_* kind
tells shaders/groundtruth/scene.frag how). Pure numpy, checked without a GPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from realtime.errors import InputError
from realtime.groundtruth.scenes import Light, Material, Quad, Scene, Sphere

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))  # Gaussian full width at half max / sigma
GLOW_EXTENT_SIGMAS = 4.0  # half-size of a light's billboard in sigmas (energy lost < 0.04 %)
# How scene.frag shades a vertex's surface (in_material.z).
SURFACE_LIT = 0  # procedural albedo, Lambert-lit
SURFACE_EMISSIVE = 1  # color_a is the radiance
SURFACE_GLOW = 2  # light billboard: color_a * exp(-|uv|^2 / (2 sigma^2)), sigma = in_material.y

# Interleaved vertex layout of `scene_mesh` (floats per vertex: 3+3+2+3+3+3).
# in_material = (texture id, texture scale_m or glow sigma_m, SURFACE_* kind).
VERTEX_FORMAT = "3f 3f 2f 3f 3f 3f"
VERTEX_ATTRIBUTES = (
    "in_position",
    "in_normal",
    "in_uv",
    "in_color_a",
    "in_color_b",
    "in_material",
)
FLOATS_PER_VERTEX = 17


def _vertex_rows(
    positions: np.ndarray,
    normals: np.ndarray,
    uvs: np.ndarray,
    color_a: tuple[float, float, float],
    color_b: tuple[float, float, float],
    material: tuple[float, float, float],
) -> np.ndarray:
    """Interleave per-vertex geometry with constant colours and material attributes."""
    constant = np.array([*color_a, *color_b, *material], dtype=np.float64)
    return np.hstack([positions, normals, uvs, np.tile(constant, (len(positions), 1))])


def _material_rows(
    positions: np.ndarray, normals: np.ndarray, uvs: np.ndarray, material: Material
) -> np.ndarray:
    """Vertex rows of a textured surface."""
    kind = SURFACE_EMISSIVE if material.emissive else SURFACE_LIT
    attributes = (float(material.texture), material.scale_m, float(kind))
    return _vertex_rows(positions, normals, uvs, material.color_a, material.color_b, attributes)


# Corners (s, t) of a quad, counter-clockwise seen from its lit side, and its triangles.
QUAD_CORNERS = ((-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0))
QUAD_TRIANGLES = (0, 1, 2, 0, 2, 3)


def _quad_mesh(quad: Quad) -> tuple[np.ndarray, np.ndarray]:
    """Four corners, two triangles; uv = metres along half_u and half_v from the centre."""
    c, u, v = (np.asarray(a, dtype=np.float64) for a in (quad.center, quad.half_u, quad.half_v))
    signs = np.array(QUAD_CORNERS)
    positions = c + signs[:, :1] * u + signs[:, 1:] * v
    normal = np.cross(v, u)
    normals = np.tile(normal / np.linalg.norm(normal), (4, 1))
    uvs = signs * np.array([np.linalg.norm(u), np.linalg.norm(v)])
    rows = _material_rows(positions, normals, uvs, quad.material)
    return rows, np.array(QUAD_TRIANGLES, dtype=np.uint32)


def _sphere_mesh(sphere: Sphere) -> tuple[np.ndarray, np.ndarray]:
    """Latitude-longitude sphere; the texture seam is at the back (+z), away from the camera.

    Direction d = (sin t sin p, cos t, sin t cos p) for polar angle t from +y and
    longitude p; uv = (p r, (pi - t) r), metres of arc.
    """
    center, radius, segments = sphere.center, sphere.radius_m, sphere.segments
    rings = max(segments // 2, 2)
    polar = np.linspace(0.0, math.pi, rings + 1)
    longitude = np.linspace(0.0, 2.0 * math.pi, segments + 1)
    t, p = np.meshgrid(polar, longitude, indexing="ij")
    d = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], axis=-1)
    d[:, -1] = d[:, 0]  # bit-identical seam: no crack, no overlap
    d = d.reshape(-1, 3)
    uvs = np.stack([p * radius, (math.pi - t) * radius], axis=-1).reshape(-1, 2)
    rows = _material_rows(np.asarray(center) + radius * d, d, uvs, sphere.material)
    i, j = np.meshgrid(np.arange(rings), np.arange(segments), indexing="ij")
    a = (i * (segments + 1) + j).ravel()  # (ring i, meridian j); b: one ring further down
    b = a + segments + 1
    # Counter-clockwise seen from outside: front faces survive back-face culling.
    quads = np.stack([a, b + 1, b, a, a + 1, b + 1], axis=1)
    return rows, quads.astype(np.uint32).ravel()


def _light_mesh(light: Light) -> tuple[np.ndarray, np.ndarray]:
    """A fronto-parallel billboard GLOW_EXTENT_SIGMAS sigmas wide; uv = metres from the centre."""
    sigma = light.fwhm_m / FWHM_PER_SIGMA
    offsets = np.array(QUAD_CORNERS) * GLOW_EXTENT_SIGMAS * sigma
    positions = np.asarray(light.center) + np.hstack([offsets, np.zeros((4, 1))])
    normals = np.tile([0.0, 0.0, -1.0], (4, 1))
    attributes = (0.0, sigma, float(SURFACE_GLOW))
    rows = _vertex_rows(positions, normals, offsets, light.color, (0.0, 0.0, 0.0), attributes)
    return rows, np.array(QUAD_TRIANGLES, dtype=np.uint32)


@dataclass(frozen=True)
class SceneMesh:
    """A scene as triangles: one vertex array, opaque surfaces and lights indexed apart."""

    vertices: np.ndarray  # float32 (n, FLOATS_PER_VERTEX), layout VERTEX_FORMAT
    surfaces: np.ndarray  # uint32 triangle indices of quads and spheres (opaque)
    lights: np.ndarray  # uint32 triangle indices of light billboards (additive)


def scene_mesh(scene: Scene) -> SceneMesh:
    """Triangulate every primitive of `scene` into one indexed vertex array."""
    rows: list[np.ndarray] = []
    surfaces: list[np.ndarray] = []
    lights: list[np.ndarray] = []
    base = 0
    for obj in scene.objects:
        if isinstance(obj, Quad):
            part, target = _quad_mesh(obj), surfaces
        elif isinstance(obj, Sphere):
            part, target = _sphere_mesh(obj), surfaces
        elif isinstance(obj, Light):
            part, target = _light_mesh(obj), lights
        else:
            raise InputError(f"unknown scene primitive {type(obj).__name__}")
        rows.append(part[0])
        target.append(part[1] + base)
        base += len(part[0])
    if not surfaces:
        raise InputError(f"scene {scene.name!r} has no surfaces (it needs at least a backdrop)")

    def indices(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.uint32) if parts else np.zeros(0, np.uint32)

    return SceneMesh(np.concatenate(rows).astype(np.float32), indices(surfaces), indices(lights))
