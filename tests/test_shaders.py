"""The shader loader (includes, cycles, defines, file:line errors) and every program it builds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import moderngl
import numpy as np
import pytest

import realtime.gl.shaders as shaders
from realtime.baselines import BruteForce, Floor
from realtime.groundtruth import SCENES, Material, Scene
from realtime.groundtruth.rasterizer import SceneRasterizer
from realtime.groundtruth.scenes import backdrop
from realtime.lens import MAX_COC_LIMIT_PX, Lens
from realtime.passes.base import FullscreenPass
from realtime.passes.composite import Composite
from realtime.passes.constants import TILE_FLAG_COMBINATIONS, shader_defines
from realtime.passes.depth import DepthConditioner
from realtime.passes.dilate import Dilate
from realtime.passes.gather import Gather
from realtime.passes.prepare import Prepare
from realtime.passes.resample import Resample
from realtime.passes.scatter import Scatter
from realtime.passes.setup import Setup
from realtime.passes.tiles import Tiles
from realtime.passes.upsample import GuidedUpsampler
from realtime.pipeline import Compositor, read_rgb
from realtime.preview.controls import VIEWS
from realtime.preview.display import COC_VIEW_FLOOR, FOCUS_TINT, Display, display_defines
from realtime.sources.images import LUMA_WEIGHTS, linear_to_srgb


@pytest.fixture
def shader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(shaders, "shader_dir", lambda: tmp_path)
    (tmp_path / "fullscreen.vert").write_text("void main() { gl_Position = vec4(0.0); }\n")
    return tmp_path


def test_include_and_defines(shader_folder: Path) -> None:
    (shader_folder / "common.glsl").write_text("float twice(float x) { return 2.0 * x; }\n")
    (shader_folder / "pass.frag").write_text('#include "common.glsl"\nout vec4 c;\n')
    source, files = shaders.load_source("pass.frag", {"TILE_SIZE": 16, "SCALE": 0.5, "ON": True})
    assert files == ["pass.frag", "common.glsl"]
    assert source.startswith(
        "#version 330 core\n#define TILE_SIZE 16\n#define SCALE 0.5\n#define ON 1\n"
    )
    assert "float twice" in source


def test_subfolder_shader_includes_from_the_root(shader_folder: Path) -> None:
    (shader_folder / "common.glsl").write_text("float twice(float x) { return 2.0 * x; }\n")
    (shader_folder / "bench").mkdir()
    (shader_folder / "bench" / "pass.frag").write_text('#include "common.glsl"\nout vec4 c;\n')
    source, files = shaders.load_source("bench/pass.frag")
    assert files == ["bench/pass.frag", "common.glsl"]
    assert "float twice" in source


def test_include_cycle_is_an_error(shader_folder: Path) -> None:
    (shader_folder / "a.glsl").write_text('#include "b.glsl"\n')
    (shader_folder / "b.glsl").write_text('#include "a.glsl"\n')
    with pytest.raises(shaders.ShaderError, match="include cycle: a.glsl -> b.glsl -> a.glsl"):
        shaders.load_source("a.glsl")


def test_compile_error_names_the_included_file_and_line(ctx, shader_folder: Path) -> None:  # type: ignore[no-untyped-def]
    (shader_folder / "common.glsl").write_text(
        "float ok() { return 1.0; }\nfloat bad() { return nope; }\n"
    )
    (shader_folder / "pass.frag").write_text(
        'out vec4 c;\n#include "common.glsl"\nvoid main() { c = vec4(ok()); }\n'
    )
    with pytest.raises(shaders.ShaderError, match=r"common\.glsl:2"):
        shaders.program(ctx, "pass.frag")


def test_shaders_repeat_no_value_defined_in_python() -> None:
    """Constants reach GLSL as #defines: no shader declares its own or spells pi or luma."""
    for path in sorted(shaders.shader_dir().rglob("*.*")):
        code = "\n".join(line.split("//")[0] for line in path.read_text().splitlines())
        for spelled in ("const ", "#define", "3.14159", "6.28318", "0.2126", "TILE_SIZE / 2"):
            assert spelled not in code, f"{path.name} spells {spelled!r}"


# --- every program the project builds: it links, and where cheap it draws the right value ---

SIDE = 8  # tiny targets: one tile


def _texture(ctx: moderngl.Context, image: np.ndarray) -> moderngl.Texture:
    """A float32 texture holding `image` (H x W x C or H x W), row 0 first."""
    components = 1 if image.ndim == 2 else image.shape[2]
    data = np.ascontiguousarray(image, dtype=np.float32).tobytes()
    return ctx.texture(image.shape[1::-1], components, data, dtype="f4")


class _Releasable(Protocol):
    def release(self) -> None: ...


def _chain(
    ctx: moderngl.Context, max_coc: float, owners: list[_Releasable]
) -> list[moderngl.Program]:
    """The pass chain's programs at one CoC clamp, every composite tile class included."""
    compositor = Compositor(ctx)
    compositor._build(max_coc)
    owners.extend(compositor.passes)
    assert len(compositor.composite.programs) == TILE_FLAG_COMBINATIONS + 1  # + copy tiles
    others = [p.program for p in compositor.passes if p is not compositor.composite]
    return others + compositor.composite.programs


def _display_views(ctx: moderngl.Context, owners: list[_Releasable]) -> list[moderngl.Program]:
    display = Display(ctx, display_defines(32.0))
    owners.append(display)
    for view in VIEWS:
        display._use_view(view)
    return [prog for prog, _ in display.views.values()]


def _baselines(ctx: moderngl.Context, owners: list[_Releasable]) -> list[moderngl.Program]:
    baselines = [cls(ctx, shader_defines(32.0)) for cls in (Floor, BruteForce)]
    owners.extend(baselines)
    return [baseline.program for baseline in baselines]


def _resample(ctx: moderngl.Context, owners: list[_Releasable]) -> list[moderngl.Program]:
    """Adaptive resolution's resample pass."""
    resample = Resample(ctx)
    owners.append(resample)
    return [resample.program]


def _upsampling(ctx: moderngl.Context, owners: list[_Releasable]) -> list[moderngl.Program]:
    """Guided depth upsampling: guide and upsample."""
    upsampler = GuidedUpsampler(ctx)
    owners.append(upsampler)
    return [p.program for p in upsampler.passes]


def _conditioning(ctx: moderngl.Context, owners: list[_Releasable]) -> list[moderngl.Program]:
    """Depth conditioning: reduce and fill for raw metres and for inverse depth, refine,
    temporal."""
    conditioner = DepthConditioner(ctx)
    owners.append(conditioner)
    return [p.program for p in conditioner.passes]


def _scene(ctx: moderngl.Context, owners: list[_Releasable]) -> list[moderngl.Program]:
    raster = SceneRasterizer(ctx, SCENES["demo"](), SIDE, SIDE)
    owners.append(raster)
    return [raster.program]


def test_every_program_links_and_every_shader_file_is_in_one(
    ctx: moderngl.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every program the project builds links; together they compile every file in shaders/.

    Chain passes at the smallest and largest clamp, each composite tile class, each
    display view, the bench's baselines, depth conditioning and upsampling, the resample
    pass and the
    ground-truth scene program: a new
    shader that none of them compiles fails here.
    """
    compiled: set[str] = set()
    load_source = shaders.load_source

    def recording(name: str, defines: Mapping[str, object] | None = None) -> tuple[str, list[str]]:
        source, files = load_source(name, defines)
        compiled.update(files)
        return source, files

    monkeypatch.setattr(shaders, "load_source", recording)
    owners: list[_Releasable] = []
    try:
        programs = [
            *_chain(ctx, 1.0, owners),
            *_chain(ctx, MAX_COC_LIMIT_PX, owners),
            *_display_views(ctx, owners),
            *_baselines(ctx, owners),
            *_conditioning(ctx, owners),
            *_upsampling(ctx, owners),
            *_resample(ctx, owners),
            *_scene(ctx, owners),
        ]
        chain = 7 + TILE_FLAG_COMBINATIONS + 1  # seven passes, composite's tile classes, copy
        assert len(programs) == 2 * chain + len(VIEWS) + 2 + 6 + 2 + 1 + 1
        assert all(isinstance(p, moderngl.Program) and p.glo > 0 for p in programs)
    finally:
        for owner in owners:
            owner.release()
    root = shaders.shader_dir()
    every_file = {path.relative_to(root).as_posix() for path in root.rglob("*.*")}
    assert every_file - compiled == set()


@pytest.mark.parametrize("view", VIEWS)
def test_display_view_draws_its_value(ctx: moderngl.Context, view: str) -> None:
    """Each view on a flat image: the sRGB code the view's definition gives."""
    grey, before, depth_m = 0.5, 0.2, 2.0
    composite = _texture(ctx, np.full((SIDE, SIDE, 4), grey))
    color = _texture(ctx, np.full((SIDE, SIDE, 3), before))
    depth = _texture(ctx, np.full((SIDE, SIDE), depth_m))
    target = ctx.texture((SIDE, SIDE), 4)
    fbo = ctx.framebuffer([target])
    display = Display(ctx, display_defines(32.0))
    try:
        display.run(
            fbo,
            (SIDE, SIDE),
            composite,
            color,
            depth,
            view=view,
            coc_params=(0.0, 0.0),  # everything in focus
            inverse_depth_range=(0.25, 1.0),
            split=0.5,
        )
        drawn = np.frombuffer(fbo.read(components=3), np.uint8).reshape(SIDE, SIDE, 3)
    finally:
        display.release()
        for resource in (fbo, target, composite, color, depth):
            resource.release()
    shown = np.full(3, float(linear_to_srgb(grey)))  # flat: nothing to peak
    if view == "depth":
        shown[:] = (1.0 / depth_m - 0.25) / (1.0 - 0.25)
    elif view == "coc":
        structure = float(linear_to_srgb(before)) * sum(LUMA_WEIGHTS)
        shown = np.array(FOCUS_TINT) * (COC_VIEW_FLOOR + (1.0 - COC_VIEW_FLOOR) * structure)
    expected = np.broadcast_to(np.round(shown * 255.0), drawn.shape).copy()
    if view == "split":  # columns 0-3 before, 4 the line (at x = 4.5), 5-7 after
        expected[:, :4] = round(float(linear_to_srgb(before)) * 255.0)
        expected[:, 4] = 255
    np.testing.assert_allclose(drawn, expected, atol=1)


def test_baselines_keep_an_in_focus_image(ctx: moderngl.Context) -> None:
    """Floor and brute force both return an image whose every pixel is in focus."""
    rng = np.random.default_rng(1)
    image = rng.random((SIDE, SIDE, 3), dtype=np.float32)
    lens = Lens(focus_m=3.0, max_coc_px=64.0)
    color, depth = _texture(ctx, image), _texture(ctx, np.full((SIDE, SIDE), 3.0))
    for cls in (Floor, BruteForce):
        baseline = cls(ctx, shader_defines(lens.clamp_px))
        try:
            out = read_rgb(baseline.run(color, depth, lens))
        finally:
            baseline.release()
        np.testing.assert_allclose(out, image, atol=1e-6, err_msg=cls.__name__)
    color.release()
    depth.release()


def test_pass_docstrings_state_the_format_they_allocate() -> None:
    """A pass's docstring (its own or its base's) names the format of what `outputs` makes."""
    formats = {(4, "f4"): "RGBA32F", (3, "f4"): "RGB32F", (1, "f4"): "R32F", (4, "f2"): "RGBA16F"}
    chain = (Prepare, Setup, Tiles, Dilate, Gather, Scatter, Composite)
    for cls in (*chain, Floor, BruteForce):
        docs = " ".join(c.__doc__ or "" for c in cls.__mro__[: cls.__mro__.index(FullscreenPass)])
        made = {formats[output] for output in cls.outputs}
        named = {name for name in formats.values() if re.search(rf"\b{name}\b", docs)}
        assert named == made, cls.__name__


def test_scene_program_draws_depth(ctx: moderngl.Context) -> None:
    """The ground-truth scene program: a backdrop 3 m away has depth 3 m everywhere."""
    lens = Lens(focus_m=2.0)
    scene = Scene("backdrop", lens, (backdrop(3.0, lens, Material()),))
    raster = SceneRasterizer(ctx, scene, SIDE, SIDE)
    try:
        np.testing.assert_allclose(raster.depth(lens), 3.0, atol=1e-4)
    finally:
        raster.release()
