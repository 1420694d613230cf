"""The docs cannot drift from the code.

Every `rackfocus ...` command in a code block of README.md and docs/*.md is parsed by the
real parser (an option renamed in the code fails here); the key tables of the cue file and
show config pages are the keys their loaders accept; every OSC address the pages name is a
command of the show's command model; the generated sections expand; images and links
resolve; and `mkdocs build --strict` builds the site. GL-free.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from realtime.cli import build_parser
from realtime.cues import load_cues
from realtime.lens import Lens
from realtime.show.commands import COMMANDS, STATUS_FIELDS
from realtime.show.config import load_config
from realtime.tomlfile import TomlError

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
TUM = ROOT / "tests" / "data" / "tum"
FENCE = re.compile(r"^\s*```")
SHELL_SEPARATORS = {"&&", "||", ";", "|"}
WRAPPER = re.compile(r"^(xvfb-run|sudo|env|nice|-\S+|[A-Z_]+=\S*)$")  # may precede rackfocus


def hooks() -> ModuleType:
    """docs_hooks.py, the mkdocs hook that generates the reference sections."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- Commands in code blocks -------------------------------------------------------------------


def code_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line in a fenced or an indented code block."""
    out: list[tuple[int, str]] = []
    fenced = False
    previous_blank = True
    in_indented = False
    for n, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            out.append((n, line))
        elif line.startswith("    ") and (previous_blank or in_indented):
            in_indented = True
            out.append((n, line))
        elif line.strip():
            in_indented = False
        previous_blank = not line.strip()
    return out


def commands(text: str) -> list[tuple[int, list[str]]]:
    """(line number, arguments after `rackfocus`) of every rackfocus command in code blocks.

    Backslash continuations are joined; `# comments` dropped; a `...` argument stands for
    options left out and is skipped; `a && rackfocus ...` finds the command after the `&&`,
    `xvfb-run -a rackfocus ...` and `VAR=value rackfocus ...` the one after the wrapper.
    """
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for n, line in code_lines(text):
        if pending is not None:
            n, line = pending[0], pending[1] + " " + line.strip()
            pending = None
        if line.rstrip().endswith("\\"):
            pending = (n, line.rstrip()[:-1])
            continue
        joined.append((n, line))
    found = []
    for n, line in joined:
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        segments: list[list[str]] = [[]]
        for word in words:
            if word in SHELL_SEPARATORS:
                segments.append([])
            else:
                segments[-1].append(word)
        for segment in segments:
            for i, word in enumerate(segment):
                if word.split("/")[-1] == "rackfocus":
                    found.append((n, [w for w in segment[i + 1 :] if w != "..."]))
                if not WRAPPER.match(word):
                    break
    return found


def test_the_command_finder_reads_blocks_continuations_and_placeholders() -> None:
    text = (
        "Text rackfocus render --not-a-command\n\n"
        "    rackfocus render --rgb a.png \\\n      --focus 2 -o b.png   # a still\n\n"
        "```sh\npip install 'rackfocus[photos]'\n"
        "python3 -m venv .venv && .venv/bin/rackfocus demo\nrackfocus render ... --resume\n"
        "xvfb-run -a rackfocus info x.png\necho rackfocus info\n```\n"
    )
    assert commands(text) == [
        (3, ["render", "--rgb", "a.png", "--focus", "2", "-o", "b.png"]),
        (8, ["demo"]),
        (9, ["render", "--resume"]),
        (10, ["info", "x.png"]),
    ]


def documented_commands() -> list[tuple[str, list[str]]]:
    return [
        (f"{page.relative_to(ROOT)}:{n}", argv)
        for page in PAGES
        for n, argv in commands(page.read_text())
    ]


def test_every_documented_command_parses(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    found = documented_commands()
    assert len(found) >= 30, found  # the finder finds the pages' commands
    assert {argv[0] for _, argv in found} >= {"render", "preview", "show", "demo", "info"}
    failures = []
    for where, argv in found:
        try:
            parser.parse_args(argv)
        except SystemExit:
            failures.append(f"{where}: rackfocus {shlex.join(argv)}\n  {capsys.readouterr().err}")
    assert not failures, "\n".join(failures)


def test_the_readme_keeps_its_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/rackfocus demo",
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest -q",
    ):
        assert f"\n    {command}\n" in readme
    assert command in (ROOT / ".ci" / "run").read_text()
    assert len(readme.splitlines()) <= 200


# --- Key references against the loaders -------------------------------------------------------


def table_keys(page: str, heading: str) -> set[str]:
    """The keys (first column, in backticks) of the table under a heading of a docs page."""
    text = (DOCS / page).read_text()
    start = text.index(f"{heading}\n")
    rest = text[start + len(heading) + 1 :]
    end = re.search(r"^#", rest, re.MULTILINE)
    section = rest[: end.start()] if end else rest
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))


def accepted_keys(load: object, path: Path, text: str) -> set[str]:
    """The keys a loader accepts in a table, from its answer to an unknown key there."""
    path.write_text(text)
    with pytest.raises(TomlError) as error:
        load(path)  # type: ignore[operator]
    match = re.search(r"unknown key \(expected one of ([^)]*)\)", str(error.value))
    assert match, str(error.value)
    return set(match.group(1).split(", "))


INPUT = f'[input]\nrgb = "{TUM / "color.png"}"\ndepth = "{TUM / "depth.png"}"\n'
CUE_SECTIONS = {
    "## [lens]": "[lens]\nnot_a_key = 1\n" + INPUT,
    "## [input]": INPUT + "not_a_key = 1\n",
    "## [[focus]]": INPUT + "[[focus]]\ntime = 0.0\nnot_a_key = 1\n",
    "## [output]": INPUT + "[output]\nnot_a_key = 1\n",
}
SOURCE = f'[[source]]\nname = "a"\nrgb = "{TUM / "color.png"}"\ndepth = "{TUM / "depth.png"}"\n'
SHOW_SECTIONS = {
    "### [show]": "[show]\nnot_a_key = 1\n" + SOURCE,
    "### [[source]]": SOURCE + "not_a_key = 1\n",
    "### [[cue]]": SOURCE + "[[cue]]\nhold = 1.0\nnot_a_key = 1\n",
}


@pytest.mark.parametrize("heading", CUE_SECTIONS)
def test_cue_file_page_lists_every_key_the_loader_takes(heading: str, tmp_path: Path) -> None:
    accepted = accepted_keys(load_cues, tmp_path / "shot.toml", CUE_SECTIONS[heading])
    assert table_keys("cue-files.md", heading) == accepted


@pytest.mark.parametrize("heading", SHOW_SECTIONS)
def test_show_page_lists_every_config_key_the_loader_takes(heading: str, tmp_path: Path) -> None:
    def load(path: Path) -> object:
        return load_config(path, Lens())

    accepted = accepted_keys(load, tmp_path / "show.toml", SHOW_SECTIONS[heading])
    assert table_keys("show.md", heading) == accepted


def test_show_lens_keys_are_the_cue_files() -> None:
    assert set(hooks().subcommands())  # the hook sees the real parser
    cue_lens = table_keys("cue-files.md", "## [lens]")
    show_text = (DOCS / "show.md").read_text()
    assert "[Cue files](cue-files.md#lens)" in show_text and cue_lens


# --- OSC, generated sections, links, the build -------------------------------------------------


def test_every_osc_address_the_pages_name_is_a_command() -> None:
    known = {c.path for c in COMMANDS} | {f"/status/{name}" for name, _, _ in STATUS_FIELDS}
    for page in PAGES:
        for address in re.findall(r"`(/(?:focus|lens|cue|show|status)[a-z/]*)`", page.read_text()):
            assert address in known, f"{page.name}: {address}"


def test_generated_sections_expand_from_the_code() -> None:
    h = hooks()
    used = set()
    for page in DOCS.glob("*.md"):
        used |= set(h.MARKER.findall(page.read_text()))
        assert "<!-- generated:" not in h.expand(page.read_text())
    assert used == set(h.GENERATORS)
    cli = h.cli_reference()
    for name in ("render", "demo", "bench", "preview", "show", "info"):
        assert f"## rackfocus {name}\n" in cli and f"usage: rackfocus {name}" in cli
    table = h.osc_table()
    for command in COMMANDS:
        assert f"| `{command.path}` |" in table


def test_images_and_links_resolve() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_site_builds_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    cli = (tmp_path / "site" / "cli" / "index.html").read_text()
    assert "usage: rackfocus render" in cli
