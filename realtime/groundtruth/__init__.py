"""Ground truth for quality tests: camera-space test scenes and their reference renders.

`render_rgbd` gives the pinhole RGB-D input a compositor receives;
`render_ground_truth` the thin-lens image it should produce (accumulation
buffer over the aperture). `SCENES` names the standard scenes. Modules:
`scenes` (primitives, materials, the standard scenes), `mesh` (their
triangles), `rasterizer` (cameras, aperture samples, GL); shaders live in
shaders/groundtruth/.
"""

from realtime.groundtruth.rasterizer import render_ground_truth, render_rgbd
from realtime.groundtruth.scenes import SCENES, Light, Material, Quad, Scene, Sphere

__all__ = [
    "SCENES",
    "Light",
    "Material",
    "Quad",
    "Scene",
    "Sphere",
    "render_ground_truth",
    "render_rgbd",
]
