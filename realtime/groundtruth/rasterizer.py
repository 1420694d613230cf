"""Ground truth: pinhole RGB-D renders and accumulation-buffer thin-lens images.

Camera space is that of `realtime.groundtruth.scenes` (x right, y up, z forward
along the optical axis, metres). Returned arrays follow numpy's convention:
row 0 is the TOP of the image, column 0 the left; GL's bottom-up read-back is
flipped here.

Field of view. The image spans the sensor at the focal length, tan(hfov/2) =
sensor_w / (2 f) (no focus breathing: the view a compositor gets with its
RGB-D input), the vertical from the aspect ratio. At the focal distance zf the
view is the window |x| <= X, |y| <= Y with X = zf * sensor_w / (2 f) and
Y = X * height / width.

Thin lens by accumulation (Haeberli & Akeley 1990). Each aperture sample moves
the eye to (ax, ay, 0) and looks through the SAME focal-plane window (see
`clip_from_scene`). A point at depth z then lands at window coordinate
ax + (x - ax) * zf / z: shifted by ax * (1 - zf / z) from the centre view, i.e.

    shift_px = ax * (f / sensor_w) * width * (1/zf - 1/z).

Over an aperture of diameter D the shifts fill a disc of diameter
D * (f / sensor_w) * width * (1/zf - 1/z), which equals lens.coc_px(z) =
K * (1/zf - 1/z) when D = K * sensor_w / (f * width) (`effective_aperture_m`).
For a physical lens D = A * zf / (zf - f): the image-side factor v / f of a
thin lens focused at zf, so the blur is exactly the CoC the compositor uses
(in artistic mode too). Points on the focal plane do not move at all.

Per sample the surfaces are drawn twice with the same program: a depth
pre-pass, then a colour pass with depth test EQUAL and additive blending into
one RGBA32F target, so each pixel adds exactly its nearest surface; then the
lights (Gaussian glows) are added where no surface is in front of them. Back faces
are culled (quads are one-sided, visible from the side their normal faces;
spheres are closed), so the only possible EQUAL ties are distinct surfaces
closer than the 24-bit depth resolution: scenes keep surfaces apart (a
millimetre suffices). One read-back at the end; alpha counts the opaque
surfaces that covered a pixel (1 after the division), which the tests check.

Lights converge slowly: a 1.5 px glow copied to N points of a 30 px disc
leaves gaps (a visible spiral at N = 256). Their glows are therefore widened
per view by an aperture reconstruction filter (scene.vert): GLOW_APERTURE_FILTER
times the aperture-sample spacing, projected to the light's depth. That
softens bokeh edges by about that much (0.9 px for a 31 px disc at N = 256),
leaves in-focus lights untouched, keeps energy, and vanishes as N grows. Glows
are also drawn without the sub-pixel jitter (they are smooth already; jitter
would scatter the copies): 256 samples at 960x540 are then within about 43 dB
(portrait) of a 2048-sample render, against 36 dB without either measure.

Bladed apertures: the polygon's vertex 0 points up (+y) at the lens; behind the
focal plane the bokeh has the same orientation, in front of it it is inverted,
as with a real lens.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import moderngl
import numpy as np
from pyrr import matrix44

from realtime.errors import InputError
from realtime.gl.context import make_current
from realtime.gl.shaders import program
from realtime.groundtruth.mesh import (
    FWHM_PER_SIGMA,
    SURFACE_EMISSIVE,
    SURFACE_GLOW,
    SURFACE_LIT,
    VERTEX_ATTRIBUTES,
    VERTEX_FORMAT,
    scene_mesh,
)
from realtime.groundtruth.scenes import TEXTURES, Scene
from realtime.lens import Lens

NEAR_M = 0.1  # near clipping plane, metres (scenes keep everything beyond it)
FAR_M = 1000.0  # far clipping plane, metres; also the depth where nothing was drawn
AMBIENT = 0.35  # fraction of the albedo a surface shows facing away from the sun
_SUN = np.array([-0.4, 0.7, -0.6])
SUN_DIRECTION = tuple(float(c) for c in _SUN / np.linalg.norm(_SUN))  # towards the sun
GLOW_APERTURE_FILTER = 0.5  # light widening, in aperture-sample spacings (0 = plain sampling)

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))  # Vogel spiral step, radians
GOLDEN_RATIO = (1.0 + math.sqrt(5.0)) / 2.0
PLASTIC_NUMBER = 1.324717957244746  # R2 sequence base (Roberts 2018)


# --- pure functions: camera, aperture, jitter (checked by numpy tests; mesh: mesh.py) ---


def view_window_m(lens: Lens, width: int, height: int) -> tuple[float, float]:
    """Half-width X and half-height Y (metres) of the view at the focal distance."""
    half_w = lens.focus_m * lens.sensor_width_mm / (2.0 * lens.focal_length_mm)
    return half_w, half_w * height / width


def effective_aperture_m(lens: Lens, width: int) -> float:
    """Diameter D (metres) of the eye disc whose blur equals lens.coc_px exactly.

    D = K * sensor_w / (f * width) with K = lens.coc_constant_px(width). For a
    physical lens K is proportional to width, so D = A * zf / (zf - f) for
    every width; in artistic mode K is set in pixels of this width.
    """
    return lens.coc_constant_px(width) * lens.sensor_width_mm / (lens.focal_length_mm * width)


def aperture_samples(lens: Lens, count: int, width: int) -> np.ndarray:
    """`count` eye positions (ax, ay) in metres, uniform over the aperture.

    Circular (blades == 0): Vogel spiral r = R sqrt((k + 1/2) / n), angle k * golden
    angle, whose mean r^2 is exactly R^2 / 2 like the disc's. Bladed: the regular
    polygon inscribed in the same circle (vertex 0 straight up, turned
    counter-clockwise by blade_rotation_deg), cut into equal triangles and filled
    from a Fibonacci lattice with the area-uniform map sqrt(s) * lerp(v_j, v_j+1, t).
    """
    radius = effective_aperture_m(lens, width) / 2.0
    k = np.arange(count, dtype=np.float64)
    if lens.blades == 0:
        r = radius * np.sqrt((k + 0.5) / count)
        angle = k * GOLDEN_ANGLE
        return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    n = lens.blades
    s_total = (k + 0.5) / count * n
    triangle = np.floor(s_total)
    s = s_total - triangle
    t = np.mod(k / GOLDEN_RATIO, 1.0)
    start = math.pi / 2 + math.radians(lens.blade_rotation_deg)
    a0 = start + 2.0 * math.pi * triangle / n
    a1 = a0 + 2.0 * math.pi / n
    edge = (1.0 - t)[:, None] * np.stack([np.cos(a0), np.sin(a0)], 1) + t[:, None] * np.stack(
        [np.cos(a1), np.sin(a1)], 1
    )
    return radius * np.sqrt(s)[:, None] * edge


def aperture_spacing_m(lens: Lens, count: int, width: int) -> float:
    """Typical distance (metres) between neighbouring aperture samples: sqrt(area / count)."""
    radius = effective_aperture_m(lens, width) / 2.0
    if lens.blades == 0:
        area = math.pi * radius**2
    else:
        area = 0.5 * lens.blades * radius**2 * math.sin(2.0 * math.pi / lens.blades)
    return math.sqrt(area / count)


def pixel_jitter(count: int) -> np.ndarray:
    """`count` sub-pixel offsets in [-1/2, 1/2)^2 pixels (R2 sequence; the first is 0)."""
    k = np.arange(count, dtype=np.float64)[:, None]
    alpha = np.array([1.0 / PLASTIC_NUMBER, 1.0 / PLASTIC_NUMBER**2])
    return np.mod(0.5 + k * alpha, 1.0) - 0.5


def supersample_offsets(factor: int) -> np.ndarray:
    """The factor x factor grid of sub-pixel centres: an ordered supersample at 1x size."""
    centres = (np.arange(factor) + 0.5) / factor - 0.5
    x, y = np.meshgrid(centres, centres)
    return np.stack([x.ravel(), y.ravel()], axis=1)


def clip_from_scene(
    lens: Lens,
    width: int,
    height: int,
    eye_m: tuple[float, float] = (0.0, 0.0),
    jitter_px: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """4x4 matrix (column vectors) from camera space to GL clip space for one view.

    Built with pyrr (whose matrices act on row vectors, v @ M, hence the final
    transpose) from four steps, applied in this order:

    1. eye shift: translate by -E, E = (ax, ay, 0), so the eye is the origin;
    2. axis flip: z -> -z, since glFrustum's eye looks down -z and ours down +z
       (so w_clip = z, the depth forward);
    3. off-axis glFrustum: seen from the eye the fixed window at distance zf
       spans x in [-X - ax, X - ax] (y likewise), cut at the near plane:
       l, r = (-X - ax) n / zf, (X - ax) n / zf. Then 2n / (r - l) = zf / X
       and (r + l) / (r - l) = -ax / X, so

        x_clip = (zf * (x - ax) + ax * z) / X,   x_ndc = (ax + (x - ax) * zf / z) / X,

       the window coordinate of the ray from E through the point, over X: at
       z = zf it is x / X whatever the eye, off the focal plane it shifts by
       ax (1 - zf / z). Depth: z_ndc = (F + N) / (F - N) - 2 F N / ((F - N) z),
       -1 at N and +1 at F;
    4. jitter (j_x px right, j_y px down) translates the image by + 2 j_x / width
       and - 2 j_y / height in NDC: a clip-space translation scaled by w.
    """
    half_w, half_h = view_window_m(lens, width, height)
    ax, ay = eye_m
    to_near = NEAR_M / lens.focus_m  # the focal-plane window, scaled onto the near plane
    eye = matrix44.create_from_translation([-ax, -ay, 0.0])
    flip = matrix44.create_from_scale([1.0, 1.0, -1.0])
    frustum = matrix44.create_perspective_projection_from_bounds(
        (-half_w - ax) * to_near,
        (half_w - ax) * to_near,
        (-half_h - ay) * to_near,
        (half_h - ay) * to_near,
        NEAR_M,
        FAR_M,
    )
    shift = [2.0 * jitter_px[0] / width, -2.0 * jitter_px[1] / height, 0.0]
    jitter = matrix44.create_from_translation(shift)
    return np.asarray((eye @ flip @ frustum @ jitter).T, dtype=np.float64)


def shader_defines() -> dict[str, object]:
    """The Python constants scene.vert and scene.frag need, as #defines."""
    sun = ", ".join(f"{c:.9g}" for c in SUN_DIRECTION)
    return {
        **TEXTURES,
        "SURFACE_LIT": SURFACE_LIT,
        "SURFACE_EMISSIVE": SURFACE_EMISSIVE,
        "SURFACE_GLOW": SURFACE_GLOW,
        "FWHM_PER_SIGMA": FWHM_PER_SIGMA,
        "AMBIENT": AMBIENT,
        "SUN_DIRECTION": f"vec3({sun})",
    }


# --- GL ---


class _Releasable(Protocol):
    def release(self) -> None: ...


class SceneRasterizer:
    """GL resources to draw one scene at one size: program, mesh and targets.

    Targets: `radiance` RGBA32F (sum of linear radiance, A = opaque-surface
    sample count), `depth_m` R32F (z-depth in metres, FAR_M where nothing was
    drawn), and one depth renderbuffer shared by three framebuffers (depth
    pre-pass, additive colour pass, single-sample RGB-D pass).
    """

    def __init__(self, ctx: moderngl.Context, scene: Scene, width: int, height: int) -> None:
        if width < 1 or height < 1:
            raise InputError(f"image size must be positive, got {width}x{height}")
        self.ctx = ctx
        self.size = (width, height)
        self.program = program(
            ctx, "groundtruth/scene.frag", "groundtruth/scene.vert", shader_defines()
        )
        mesh = scene_mesh(scene)
        self._buffers = [ctx.buffer(mesh.vertices.tobytes())]
        self.surfaces = self._vertex_array(mesh.surfaces)
        self.lights = self._vertex_array(mesh.lights) if len(mesh.lights) else None
        self.radiance = ctx.texture(self.size, 4, dtype="f4")
        self.depth_m = ctx.texture(self.size, 1, dtype="f4")
        self.zbuffer = ctx.depth_renderbuffer(self.size)
        self.prepass_fbo = ctx.framebuffer(depth_attachment=self.zbuffer)
        self.additive_fbo = ctx.framebuffer([self.radiance], self.zbuffer)
        self.additive_fbo.depth_mask = False
        self.rgbd_fbo = ctx.framebuffer([self.radiance, self.depth_m], self.zbuffer)

    def _vertex_array(self, indices: np.ndarray) -> moderngl.VertexArray:
        index_buffer = self.ctx.buffer(indices.tobytes())
        self._buffers.append(index_buffer)
        return self.ctx.vertex_array(
            self.program,
            [(self._buffers[0], VERTEX_FORMAT, *VERTEX_ATTRIBUTES)],
            index_buffer=index_buffer,
            index_element_size=4,
        )

    def _uniform(self, name: str) -> moderngl.Uniform:
        member = self.program[name]
        if not isinstance(member, moderngl.Uniform):
            raise TypeError(f"{name} is not a uniform of scene.vert/scene.frag")
        return member

    def _set_view(self, lens: Lens, eye_m: np.ndarray, jitter_px: np.ndarray) -> None:
        eye = (float(eye_m[0]), float(eye_m[1]))
        jitter = (float(jitter_px[0]), float(jitter_px[1]))
        matrix = clip_from_scene(lens, *self.size, eye, jitter)
        # GLSL mat4 is column-major: the transpose's row-major bytes.
        self._uniform("u_clip_from_scene").write(matrix.T.astype(np.float32).tobytes())

    def _set_glow(self, lens: Lens, spread_m: float, core_only: bool) -> None:
        """Uniforms of the light billboards: aperture filter and depth-pass cut-out."""
        self._uniform("u_glow_spread_m").value = spread_m
        self._uniform("u_focus_m").value = lens.focus_m
        self._uniform("u_glow_core_only").value = core_only

    def _read(self, fbo: moderngl.Framebuffer, attachment: int, components: int) -> np.ndarray:
        width, height = self.size
        data = fbo.read(components=components, attachment=attachment, dtype="f4")
        image = np.frombuffer(data, dtype=np.float32).reshape(height, width, components)
        return image[::-1].copy()  # GL rows run bottom-up; numpy's row 0 is the top

    def accumulate(
        self,
        lens: Lens,
        eyes_m: np.ndarray,
        jitters_px: np.ndarray,
        glow_spread_m: float = 0.0,
    ) -> np.ndarray:
        """Mean RGBA (float32, H x W x 4) over views with the given eyes and jitters.

        Per view: depth pre-pass of the surfaces; surfaces again with depth EQUAL,
        added; lights with depth LESS (occluded, not occluding), added, widened by
        the aperture filter `glow_spread_m` (see scene.vert).
        """
        ctx = self.ctx
        self._set_glow(lens, glow_spread_m, core_only=False)
        self.additive_fbo.clear(0.0, 0.0, 0.0, 0.0)
        ctx.blend_func = moderngl.ONE, moderngl.ONE
        ctx.blend_equation = moderngl.FUNC_ADD, moderngl.FUNC_ADD
        for eye, jitter in zip(eyes_m, jitters_px, strict=True):
            self._set_view(lens, eye, jitter)
            self.prepass_fbo.use()
            self.prepass_fbo.clear(depth=1.0)
            ctx.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
            ctx.depth_func = "<"
            self.surfaces.render()
            self.additive_fbo.use()
            ctx.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE | moderngl.BLEND)
            ctx.depth_func = "=="
            self.surfaces.render()
            if self.lights is not None:
                # Glows are smooth (sigma >= FWHM / 2.35): sampled at pixel centres without
                # jitter, so the copies of a bokeh disc keep the aperture pattern's regularity.
                self._set_view(lens, eye, np.zeros(2))
                ctx.depth_func = "<"
                self.lights.render()
        ctx.enable_only(moderngl.NOTHING)
        ctx.depth_func = "<"
        return self._read(self.additive_fbo, 0, 4) / np.float32(len(eyes_m))

    def depth(self, lens: Lens) -> np.ndarray:
        """z-depth in metres (float32, H x W) of the nearest surface at each pixel centre.

        Lights count as opaque discs of their FWHM here.
        """
        self._set_view(lens, np.zeros(2), np.zeros(2))
        self._set_glow(lens, 0.0, core_only=True)
        self.rgbd_fbo.use()
        self.rgbd_fbo.clear(FAR_M, FAR_M, FAR_M, FAR_M, depth=1.0)
        self.ctx.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self.ctx.depth_func = "<"
        self.surfaces.render()
        if self.lights is not None:
            self.lights.render()
        self.ctx.enable_only(moderngl.NOTHING)
        return self._read(self.rgbd_fbo, 1, 1)[..., 0]

    def release(self) -> None:
        """Free every GL object this rasteriser made."""
        vertex_arrays = [vao for vao in (self.surfaces, self.lights) if vao is not None]
        resources: tuple[_Releasable, ...] = (
            self.rgbd_fbo,
            self.additive_fbo,
            self.prepass_fbo,
            self.zbuffer,
            self.depth_m,
            self.radiance,
            *vertex_arrays,
            *self._buffers,
            self.program,
        )
        for resource in resources:
            resource.release()


@contextmanager
def _rasterizer(
    ctx: moderngl.Context, scene: Scene, width: int, height: int
) -> Iterator[SceneRasterizer]:
    make_current(ctx)
    raster = SceneRasterizer(ctx, scene, width, height)
    try:
        yield raster
    finally:
        raster.release()


def render_rgbd(
    ctx: moderngl.Context,
    scene: Scene,
    lens: Lens,
    width: int,
    height: int,
    supersample: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Pinhole view from the lens centre: (linear RGB H x W x 3, z-depth H x W metres).

    Colour is the box average of a supersample x supersample ordered grid per pixel
    (drawn as jittered 1x views, the same samples as rendering supersample-times
    larger and averaging); depth is one sample at each pixel centre, not anti-aliased.
    """
    if supersample < 1:
        raise InputError(f"supersample must be >= 1, got {supersample}")
    offsets = supersample_offsets(supersample)
    with _rasterizer(ctx, scene, width, height) as raster:
        rgba = raster.accumulate(lens, np.zeros_like(offsets), offsets)
        depth = raster.depth(lens)
    return np.ascontiguousarray(rgba[..., :3]), depth


def render_ground_truth(
    ctx: moderngl.Context,
    scene: Scene,
    lens: Lens,
    width: int,
    height: int,
    samples: int = 256,
) -> np.ndarray:
    """Thin-lens image (linear RGB, float32 H x W x 3) by accumulating aperture views.

    Each sample: eye on the aperture (`aperture_samples`), off-axis frustum through
    the fixed focal-plane window, sub-pixel jitter (`pixel_jitter`) for
    anti-aliasing; lights get the aperture filter (module docstring). Blur sizes
    equal lens.coc_px without its max_coc_px clamp.
    """
    if samples < 1:
        raise InputError(f"samples must be >= 1, got {samples}")
    eyes = aperture_samples(lens, samples, width)
    spread = GLOW_APERTURE_FILTER * aperture_spacing_m(lens, samples, width)
    with _rasterizer(ctx, scene, width, height) as raster:
        rgba = raster.accumulate(lens, eyes, pixel_jitter(samples), spread)
    return np.ascontiguousarray(rgba[..., :3])
