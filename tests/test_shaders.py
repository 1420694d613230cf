"""The shader loader: includes, cycles, defines, and errors that name the original file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

import realtime.gl.shaders as shaders


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


def test_every_project_shader_compiles(ctx) -> None:  # type: ignore[no-untyped-def]
    from realtime.pipeline import Compositor

    compositor = Compositor(ctx)
    compositor._build(64.0)
    assert len(compositor.passes) == 7
