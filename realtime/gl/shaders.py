"""Shader loading: one place that finds shaders/, inlines includes, injects defines.

Shaders live in the top-level shaders/ folder of a checkout; a built wheel
carries them as realtime/shaders (see pyproject.toml). `shader_dir()` looks in
the installed package first and in the checkout second, so editable installs,
checkouts and wheels all work.

A shader's name is its path under shaders/ with forward slashes: the chain's
passes sit at the top ("gather.frag"), shaders owned by one part of the
project in its subfolder ("bench/brute.frag", "groundtruth/scene.vert").
`#include "name.glsl"` names a file the same way, from the shaders root
whichever folder the including file is in; it is inlined (cycles are an
error) and `#line` directives keep compile errors pointing at the original
file: each file gets a number and `ShaderError` translates "0:LINE" style
messages back to file:line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import moderngl

GLSL_VERSION = "#version 330 core"
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$')
# Mesa: "0:12(3): error: ...", NVIDIA: "0(12) : error ...".
_LOCATION = re.compile(r"\b(\d+)[:(](\d+)\)?")


class ShaderError(RuntimeError):
    """A shader failed to compile or link; the message names the original file and line."""


def shader_dir() -> Path:
    """The folder holding the GLSL sources (installed package first, then checkout)."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "shaders", here.parent / "shaders"):
        if (candidate / "fullscreen.vert").is_file():
            return candidate
    raise FileNotFoundError(f"shader folder not found next to {here}")


def _expand(name: str, files: list[str], stack: tuple[str, ...]) -> str:
    if name in stack:
        raise ShaderError(f"include cycle: {' -> '.join((*stack, name))}")
    path = shader_dir() / name
    if not path.is_file():
        where = f" (included from {stack[-1]})" if stack else ""
        raise ShaderError(f"shader file not found: {name}{where}")
    if name not in files:
        files.append(name)
    number = files.index(name)
    out = [f"#line 1 {number}"]
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        match = _INCLUDE.match(line)
        if match:
            out.append(_expand(match.group(1), files, (*stack, name)))
            out.append(f"#line {lineno + 1} {number}")
        else:
            out.append(line)
    return "\n".join(out)


def load_source(name: str, defines: Mapping[str, object] | None = None) -> tuple[str, list[str]]:
    """GLSL text of `name` with includes inlined and `defines` injected; plus file table."""
    files: list[str] = []
    body = _expand(name, files, ())
    header = [GLSL_VERSION]
    for key, value in (defines or {}).items():
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, float):
            value = (
                f"{value:.9g}" if "." in f"{value:.9g}" or "e" in f"{value:.9g}" else f"{value:.1f}"
            )
        header.append(f"#define {key} {value}")
    return "\n".join(header) + "\n" + body + "\n", files


def _translate(message: str, files: list[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        index, line = int(match.group(1)), match.group(2)
        return f"{files[index]}:{line}" if index < len(files) else match.group(0)

    return _LOCATION.sub(repl, message)


def program(
    ctx: moderngl.Context,
    fragment: str,
    vertex: str = "fullscreen.vert",
    defines: Mapping[str, object] | None = None,
    geometry: str | None = None,
) -> moderngl.Program:
    """Compile and link a program from shader files; errors name file:line."""
    vs, vs_files = load_source(vertex, defines)
    fs, fs_files = load_source(fragment, defines)
    gs, gs_files = load_source(geometry, defines) if geometry else (None, [])
    try:
        return ctx.program(vertex_shader=vs, fragment_shader=fs, geometry_shader=gs)
    except moderngl.Error as exc:
        text = str(exc).lower()
        stage = "fragment" if "fragment" in text else "geometry" if "geometry" in text else "vertex"
        files = {"fragment": fs_files, "geometry": gs_files, "vertex": vs_files}[stage]
        raise ShaderError(_translate(str(exc), files)) from exc
